import { inspect } from "node:util";
import {
  bindingKeyConfig,
  decodeSignedReceipt,
  encodeSignedReceipt,
  verifyReceipt,
} from "@peercycles/attest/bundle";
import { encapsulateRequest } from "@peercycles/seal";
import { describe, expect, it } from "vitest";
import { createEnclaveKeys } from "./enclave-keys.js";

const text = (s: string) => new TextEncoder().encode(s);

describe("enclave key custody", () => {
  it("opens a request sealed to its public key and seals the response back", async () => {
    const keys = await createEnclaveKeys();
    const { encapsulatedRequest, context } = await encapsulateRequest(
      bindingKeyConfig(keys.publicKeys()),
      text("hello enclave"),
    );
    const opened = await keys.openRequest(encapsulatedRequest);
    expect(new TextDecoder().decode(opened.request)).toBe("hello enclave");
    const { encapsulated } = await keys.sealResponse(opened.handle, text("hello client"));
    expect(new TextDecoder().decode(await context.openResponse(encapsulated))).toBe("hello client");
    await expect(keys.sealResponse(opened.handle, text("again"))).rejects.toMatchObject({
      code: "enclave_request_invalid",
    });
  });

  it("rejects a tampered request", async () => {
    const keys = await createEnclaveKeys();
    const { encapsulatedRequest } = await encapsulateRequest(
      bindingKeyConfig(keys.publicKeys()),
      text("hello"),
    );
    const tampered = encapsulatedRequest.slice();
    tampered[tampered.length - 1]! ^= 0x01;
    await expect(keys.openRequest(tampered)).rejects.toMatchObject({ code: "hpke_open_failed" });
  });

  it("rejects a request sealed to another enclave", async () => {
    const keys = await createEnclaveKeys();
    const other = await createEnclaveKeys();
    const { encapsulatedRequest } = await encapsulateRequest(
      bindingKeyConfig(other.publicKeys()),
      text("hello"),
    );
    await expect(keys.openRequest(encapsulatedRequest)).rejects.toHaveProperty("code");
  });

  it("signs receipts that verify, and a tampered receipt does not", async () => {
    const keys = await createEnclaveKeys();
    const receipt = {
      requestHash: new Uint8Array(32).fill(1),
      responseHash: new Uint8Array(32).fill(2),
      model: "peer-mixtral",
      seed: 2n ** 40n,
      usage: { promptTokens: 12, completionTokens: 34 },
      worker: "worker-1",
      time: 1_764_000_000,
    };
    const signed = decodeSignedReceipt(encodeSignedReceipt(keys.signReceipt(receipt)));
    const ok = verifyReceipt(signed, keys.publicKeys().signingPublicKey);
    expect(ok.ok).toBe(true);
    expect(ok.receipt?.usage.completionTokens).toBe(34);
    expect(ok.receipt?.seed).toBe(2n ** 40n);

    const body = signed.body.slice();
    body[body.length - 1]! ^= 0x01; // time changes by one second
    expect(
      verifyReceipt({ body, signature: signed.signature }, keys.publicKeys().signingPublicKey).errors[0]
        ?.code,
    ).toBe("receipt_signature_invalid");
    const otherKeys = await createEnclaveKeys();
    expect(verifyReceipt(signed, otherKeys.publicKeys().signingPublicKey).ok).toBe(false);
    const signature = signed.signature.slice();
    signature[0]! ^= 0x80;
    expect(verifyReceipt({ body: signed.body, signature }, keys.publicKeys().signingPublicKey).ok).toBe(
      false,
    );
  });

  it("never exposes private keys as properties", async () => {
    const keys = await createEnclaveKeys({ seed: new Uint8Array(64).fill(7) });
    const visible = JSON.stringify(keys) + inspect(keys, { showHidden: true, depth: 5 });
    const secret = Buffer.from(new Uint8Array(32).fill(7)).toString("hex");
    expect(visible.includes(secret)).toBe(false);
    expect(Object.keys(keys)).toEqual([]);
    expect(Object.getOwnPropertyNames(keys)).toEqual([]);
    // the same seed gives the same public keys (reproducible demos)
    const again = await createEnclaveKeys({ seed: new Uint8Array(64).fill(7) });
    expect(again.publicKeys().signingPublicKey).toEqual(keys.publicKeys().signingPublicKey);
  });
});
