import { describe, expect, it } from "vitest";
import { concat, toHex, utf8 } from "./bytes.js";
import { CipherSuite } from "./cipher-suite.js";
import { decodeKeyConfig, encodeKeyConfig, type KeyConfig } from "./key-config.js";
import {
  decapsulateRequest,
  encapsulateRequest,
  OHTTP_KEYS_MEDIA_TYPE,
  OHTTP_REQUEST_LABEL,
  OHTTP_REQUEST_MEDIA_TYPE,
  OHTTP_RESPONSE_LABEL,
  OHTTP_RESPONSE_MEDIA_TYPE,
} from "./ohttp.js";
import { loadOhttpVectors } from "./testing/ohttp-vectors.js";
import { hex } from "./testing/vectors.js";

const { rfc9458_appendix_a: example } = loadOhttpVectors();
const suite = new CipherSuite({ kem: 0x0020, kdf: 0x0001, aead: 0x0001 });

async function gateway() {
  const privateKey = hex(example.gateway_x25519_secret_key);
  const keyConfig = decodeKeyConfig(hex(example.key_config));
  return { keyConfig, privateKey };
}

describe("RFC 9458 constants", () => {
  it("match the RFC's media types and labels", () => {
    expect(OHTTP_REQUEST_MEDIA_TYPE).toBe("message/ohttp-req");
    expect(OHTTP_RESPONSE_MEDIA_TYPE).toBe("message/ohttp-res");
    expect(OHTTP_KEYS_MEDIA_TYPE).toBe("application/ohttp-keys");
    expect(OHTTP_REQUEST_LABEL).toBe(example.request_label);
    expect(OHTTP_RESPONSE_LABEL).toBe(example.response_label);
  });
});

describe("RFC 9458 Appendix A, byte for byte", () => {
  it("decodes and re-encodes the key configuration", async () => {
    const { keyConfig, privateKey } = await gateway();
    expect(keyConfig.keyId).toBe(example.key_id);
    expect(keyConfig.kemId).toBe(example.kem_id);
    expect(keyConfig.symmetricAlgorithms).toEqual([
      { kdfId: 1, aeadId: 1 },
      { kdfId: 1, aeadId: 3 },
    ]);
    const pair = await suite.kem.completeKeyPair({ privateKey }, "gateway");
    expect(toHex(pair.publicKey)).toBe(toHex(keyConfig.publicKey));
    expect(toHex(encodeKeyConfig(keyConfig))).toBe(example.key_config);
  });

  it("reproduces the encapsulated request with the given ephemeral key", async () => {
    const { keyConfig } = await gateway();
    const { encapsulatedRequest } = await encapsulateRequest(keyConfig, hex(example.request_bhttp), {
      ephemeralKeyPair: {
        privateKey: hex(example.client_ephemeral_secret_key),
        publicKey: hex(example.client_ephemeral_public_key),
      },
    });
    expect(toHex(encapsulatedRequest)).toBe(example.encapsulated_request);
    expect(encapsulatedRequest).toHaveLength(80);
  });

  it("decapsulates the request and reproduces the encapsulated response with the given nonce", async () => {
    const { request, context } = await decapsulateRequest(await gateway(), hex(example.encapsulated_request));
    expect(toHex(request)).toBe(example.request_bhttp);
    const response = await context.sealResponse(hex(example.response_bhttp), {
      responseNonce: hex(example.response_nonce),
    });
    expect(toHex(response)).toBe(example.encapsulated_response);
    expect(response).toHaveLength(35);
  });

  it("opens the RFC's encapsulated response on the client", async () => {
    const { keyConfig } = await gateway();
    const { context } = await encapsulateRequest(keyConfig, hex(example.request_bhttp), {
      ephemeralKeyPair: { privateKey: hex(example.client_ephemeral_secret_key) },
    });
    expect(toHex(await context.openResponse(hex(example.encapsulated_response)))).toBe(
      example.response_bhttp,
    );
  });

  it("derives the documented info, export secret, AEAD key and nonce", async () => {
    const ephemeral = { privateKey: hex(example.client_ephemeral_secret_key) };
    const info = hex(example.hpke_info);
    expect(
      toHex(
        concat(utf8(OHTTP_REQUEST_LABEL), Uint8Array.of(0), hex(example.encapsulated_request).subarray(0, 7)),
      ),
    ).toBe(example.hpke_info);
    const { keyConfig } = await gateway();
    const { context } = await suite.setupSender({
      recipientPublicKey: keyConfig.publicKey,
      info,
      ephemeralKeyPair: ephemeral,
    });
    const secret = await context.export(utf8(OHTTP_RESPONSE_LABEL), 16);
    expect(toHex(secret)).toBe(example.response_export_secret);
    const prk = suite.kdf.extract(
      concat(hex(example.client_ephemeral_public_key), hex(example.response_nonce)),
      secret,
    );
    expect(toHex(suite.kdf.expand(prk, utf8("key"), 16))).toBe(example.response_aead_key);
    expect(toHex(suite.kdf.expand(prk, utf8("nonce"), 12))).toBe(example.response_aead_nonce);
  });
});

describe("request/response round trips", () => {
  it.each([
    [0x0020, 1, 1],
    [0x0020, 3, 2],
    [0x0010, 1, 3],
    [0x0010, 3, 1],
  ])("kem %i kdf %i aead %i", async (kemId, kdfId, aeadId) => {
    const s = new CipherSuite({ kem: kemId, kdf: kdfId, aead: aeadId });
    const { privateKey, publicKey } = await s.generateKeyPair();
    const keyConfig: KeyConfig = { keyId: 7, kemId, publicKey, symmetricAlgorithms: [{ kdfId, aeadId }] };
    const body = utf8("POST /v1/chat/completions");
    const { encapsulatedRequest, context } = await encapsulateRequest(keyConfig, body);
    const opened = await decapsulateRequest({ keyConfig, privateKey }, encapsulatedRequest);
    expect(opened.request).toEqual(body);
    const sealed = await opened.context.sealResponse(utf8("200 OK"));
    expect(await context.openResponse(sealed)).toEqual(utf8("200 OK"));
  });

  it("uses the first supported pair, or the one asked for", async () => {
    const { privateKey, publicKey } = await suite.generateKeyPair();
    const keyConfig: KeyConfig = {
      keyId: 1,
      kemId: 0x20,
      publicKey,
      symmetricAlgorithms: [
        { kdfId: 2, aeadId: 1 }, // HKDF-SHA384: not implemented, skipped
        { kdfId: 1, aeadId: 3 },
        { kdfId: 1, aeadId: 1 },
      ],
    };
    const first = await encapsulateRequest(keyConfig, utf8("x"));
    expect(toHex(first.encapsulatedRequest.subarray(0, 7))).toBe("01002000010003");
    const chosen = await encapsulateRequest(keyConfig, utf8("x"), { kdfId: 1, aeadId: 1 });
    expect(toHex(chosen.encapsulatedRequest.subarray(0, 7))).toBe("01002000010001");
    await expect(encapsulateRequest(keyConfig, utf8("x"), { kdfId: 3, aeadId: 1 })).rejects.toMatchObject({
      code: "ohttp_suite_mismatch",
    });
    expect((await decapsulateRequest({ keyConfig, privateKey }, chosen.encapsulatedRequest)).request).toEqual(
      utf8("x"),
    );
  });
});

describe("request/response failures", () => {
  it("names each defect with a stable code", async () => {
    const g = await gateway();
    const good = hex(example.encapsulated_request);
    const flip = (i: number) => {
      const copy = good.slice();
      copy[i]! ^= 1;
      return copy;
    };
    await expect(decapsulateRequest(g, good.subarray(0, 5))).rejects.toMatchObject({
      code: "ohttp_request_invalid",
    });
    await expect(decapsulateRequest(g, good.subarray(0, 40))).rejects.toMatchObject({
      code: "ohttp_request_invalid",
    });
    await expect(decapsulateRequest(g, flip(0))).rejects.toMatchObject({ code: "ohttp_key_id_mismatch" });
    await expect(decapsulateRequest(g, flip(2))).rejects.toMatchObject({ code: "ohttp_suite_mismatch" });
    await expect(decapsulateRequest(g, flip(6))).rejects.toMatchObject({ code: "ohttp_suite_mismatch" });
    await expect(decapsulateRequest(g, flip(20))).rejects.toMatchObject({ code: "hpke_open_failed" });
    await expect(decapsulateRequest(g, flip(good.length - 1))).rejects.toMatchObject({
      code: "hpke_open_failed",
    });
    const lowOrder = good.slice();
    lowOrder.fill(0, 7, 39);
    await expect(decapsulateRequest(g, lowOrder)).rejects.toMatchObject({ code: "hpke_invalid_enc" });
  });

  it("rejects a forged or short response", async () => {
    const { keyConfig } = await gateway();
    const { context } = await encapsulateRequest(keyConfig, hex(example.request_bhttp), {
      ephemeralKeyPair: { privateKey: hex(example.client_ephemeral_secret_key) },
    });
    const response = hex(example.encapsulated_response);
    await expect(context.openResponse(response.subarray(0, 31))).rejects.toMatchObject({
      code: "ohttp_response_invalid",
    });
    for (const i of [0, 16, response.length - 1]) {
      const copy = response.slice();
      copy[i]! ^= 0x80;
      await expect(context.openResponse(copy)).rejects.toMatchObject({ code: "ohttp_response_open_failed" });
    }
  });

  it("refuses a private key that does not match the key configuration", async () => {
    const { keyConfig } = await gateway();
    const other = await suite.generateKeyPair();
    await expect(
      decapsulateRequest({ keyConfig, privateKey: other.privateKey }, hex(example.encapsulated_request)),
    ).rejects.toMatchObject({ code: "hpke_invalid_key" });
  });

  it("checks the response nonce length", async () => {
    const { context } = await decapsulateRequest(await gateway(), hex(example.encapsulated_request));
    await expect(
      context.sealResponse(utf8("x"), { responseNonce: new Uint8Array(12) }),
    ).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });
});

describe("key rotation", () => {
  it("a gateway with several keys picks the one named by the request", async () => {
    const keys = await Promise.all(
      [1, 2].map(async (keyId) => {
        const { privateKey, publicKey } = await suite.generateKeyPair();
        const keyConfig: KeyConfig = {
          keyId,
          kemId: 0x20,
          publicKey,
          symmetricAlgorithms: [{ kdfId: 1, aeadId: 1 }],
        };
        return { keyConfig, privateKey };
      }),
    );
    for (const { keyConfig } of keys) {
      const { encapsulatedRequest } = await encapsulateRequest(keyConfig, utf8(`to ${keyConfig.keyId}`));
      const { request } = await decapsulateRequest(keys, encapsulatedRequest);
      expect(request).toEqual(utf8(`to ${keyConfig.keyId}`));
    }
    const stale = await encapsulateRequest({ ...keys[0]!.keyConfig, keyId: 9 }, utf8("x"));
    await expect(decapsulateRequest(keys, stale.encapsulatedRequest)).rejects.toMatchObject({
      code: "ohttp_key_id_mismatch",
    });
    await expect(decapsulateRequest([], stale.encapsulatedRequest)).rejects.toMatchObject({
      code: "invalid_argument",
    });
    await expect(decapsulateRequest([keys[0]!, keys[0]!], stale.encapsulatedRequest)).rejects.toMatchObject({
      code: "invalid_argument",
      message: expect.stringContaining("gatewayKey[1]"),
    });
  });
});
