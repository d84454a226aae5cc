import { sha256 } from "@noble/hashes/sha2.js";
import { readVectorText } from "@peercycles/internal-vectors";
import { CompactSign, exportJWK, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { toHex } from "../common/bytes.js";
import { parseNrasToken, verifyNrasToken } from "./nras.js";
import { NONCE_931D } from "./test-vectors.js";

const HOPPER = "nvidia/nvidia-attestation-sdk/sample_attestation_data/hopperClaimsv3_detached_eat.json";
const SWITCH = "nvidia/nvidia-attestation-sdk/sample_attestation_data/switch_detached_eat.json";
/** nbf = 1749601858 (2025-06-11T00:30:58Z), exp = nbf + 3600. */
const IN_HOPPER_WINDOW = new Date("2025-06-11T01:00:00Z");
const IN_SWITCH_WINDOW = new Date("2025-06-29T00:10:00Z");
const codes = (r: { errors: readonly { code: string }[] }) => r.errors.map((e) => e.code);

describe("real NRAS detached EATs (README C6): structure, digests, times, claims", () => {
  it("parses the hopper token and exposes the GPU claims", () => {
    const token = parseNrasToken(readVectorText(HOPPER));
    expect(token.overall.header.alg).toBe("ES384");
    expect(token.overall.header.kid).toBe(
      "nv-eat-kid-prod-20250609211310110-93b13aa1-17e4-4c14-9d33-dba2323329f2",
    );
    expect(Object.keys(token.submodules)).toEqual(["GPU-0"]);
    expect(token.overall.claims.nbf).toBe(1749601858);
  });

  it("offline without a JWKS: digests, issuer, time, nonce and result hold; the signature is reported unchecked", async () => {
    const r = await verifyNrasToken(readVectorText(HOPPER), {
      now: IN_HOPPER_WINDOW,
      offline: true,
      nonce: NONCE_931D,
    });
    expect(codes(r)).toEqual(["nvidia_nras_signature_unchecked"]);
    expect(r.verified).toBe(false);
    expect(r.checks.filter((c) => c.status === "pass").map((c) => c.id)).toEqual([
      "nras_submods",
      "nras_issuer",
      "nras_time",
      "nras_nonce",
      "nras_result",
    ]);
    expect(r.devices[0]).toMatchObject({
      name: "GPU-0",
      measres: "success",
      secboot: true,
      dbgstat: "disabled",
      driverVersion: "550.90.07",
      vbiosVersion: "96.00.9F.00.01",
      hwmodel: "GH100 A01 GSP BROM",
      ueid: "478176379286082186618948445787393647364802107249",
    });
  });

  it("time window: before nbf and after exp", async () => {
    const early = await verifyNrasToken(readVectorText(HOPPER), {
      now: new Date("2025-06-11T00:00:00Z"),
      offline: true,
    });
    expect(codes(early)).toContain("nvidia_nras_token_not_yet_valid");
    const late = await verifyNrasToken(readVectorText(HOPPER), {
      now: new Date("2025-06-11T02:00:00Z"),
      offline: true,
    });
    expect(codes(late)).toContain("nvidia_nras_token_expired");
  });

  it("the staging switch token: staging issuer is rejected unless expected", async () => {
    const prod = await verifyNrasToken(readVectorText(SWITCH), { now: IN_SWITCH_WINDOW, offline: true });
    expect(codes(prod)).toEqual(["nvidia_nras_signature_unchecked", "nvidia_nras_issuer_invalid"]);
    const stg = await verifyNrasToken(readVectorText(SWITCH), {
      now: IN_SWITCH_WINDOW,
      offline: true,
      issuer: "https://nras.attestation-stg.nvidia.com",
    });
    expect(codes(stg)).toEqual(["nvidia_nras_signature_unchecked"]);
    expect(stg.devices[0]?.vbiosVersion).toBe("96.10.55.00.01");
    expect(stg.devices[0]?.ueid).toBe("694931143880983876767046803400974855445978836716");
  });

  it("a swapped submodule token breaks the digest; a wrong nonce is caught", async () => {
    const hopper = JSON.parse(readVectorText(HOPPER));
    const sw = JSON.parse(readVectorText(SWITCH));
    hopper[1]["GPU-0"] = sw[1]["SWITCH-0"];
    const r = await verifyNrasToken(hopper, { now: IN_HOPPER_WINDOW, offline: true, nonce: "00".repeat(32) });
    expect(codes(r)).toContain("nvidia_nras_submods_mismatch");
    expect(codes(r)).toContain("nvidia_nras_nonce_mismatch");
  });
});

describe("NRAS signatures with a locally generated ES384 key re-signing copied claims (test key, not NVIDIA's)", () => {
  async function resign() {
    const { privateKey, publicKey } = await generateKeyPair("ES384");
    const jwk = { ...(await exportJWK(publicKey)), kid: "local-test-key", alg: "ES384" };
    const real = parseNrasToken(readVectorText(HOPPER));
    const sign = (claims: object) =>
      new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
        .setProtectedHeader({ alg: "ES384", kid: "local-test-key" })
        .sign(privateKey);
    const gpu = await sign(real.submodules["GPU-0"]?.claims ?? {});
    const overall = await sign({
      ...real.overall.claims,
      submods: { "GPU-0": ["DIGEST", ["SHA-256", toHex(sha256(new TextEncoder().encode(gpu)))]] },
    });
    return { token: [["JWT", overall], { "GPU-0": gpu }], jwks: { keys: [jwk] } };
  }

  it("verifies with the matching JWKS", async () => {
    const { token, jwks } = await resign();
    const r = await verifyNrasToken(token, { now: IN_HOPPER_WINDOW, jwks, nonce: NONCE_931D });
    expect([r.ok, r.signatureChecked, codes(r)]).toEqual([true, true, []]);
  });

  it("rejects another key and a tampered payload", async () => {
    const { token } = await resign();
    const other = await resign();
    const wrong = await verifyNrasToken(token, { now: IN_HOPPER_WINDOW, jwks: other.jwks });
    expect(codes(wrong)).toEqual(["nvidia_nras_signature_invalid"]);
    const { token: t2, jwks } = await resign();
    const parts = (t2[1] as Record<string, string>)["GPU-0"]?.split(".") ?? [];
    const payload = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString());
    payload.measres = "failure";
    const forged = [parts[0], Buffer.from(JSON.stringify(payload)).toString("base64url"), parts[2]].join(".");
    (t2[1] as Record<string, string>)["GPU-0"] = forged;
    const r = await verifyNrasToken(t2, { now: IN_HOPPER_WINDOW, jwks });
    expect(codes(r)).toEqual(["nvidia_nras_submods_mismatch", "nvidia_nras_signature_invalid"]);
  });

  it("fetches the JWKS through the injected fetch once, then serves it from the cache", async () => {
    const { token, jwks } = await resign();
    let calls = 0;
    const fetchJwks = (async () => {
      calls++;
      return new Response(JSON.stringify(jwks), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    }) as unknown as typeof fetch;
    const { JwksCache } = await import("./nras.js");
    const cache = new JwksCache();
    for (let i = 0; i < 2; i++) {
      const r = await verifyNrasToken(token, { now: IN_HOPPER_WINDOW, fetch: fetchJwks, cache });
      expect(r.ok).toBe(true);
    }
    expect(calls).toBe(1);
    const down = (async () => {
      throw new Error("network down");
    }) as unknown as typeof fetch;
    await expect(
      verifyNrasToken(token, { now: IN_HOPPER_WINDOW, fetch: down, cache: new JwksCache() }),
    ).rejects.toMatchObject({ code: "nvidia_nras_jwks_unavailable", retryable: true });
  });
});
