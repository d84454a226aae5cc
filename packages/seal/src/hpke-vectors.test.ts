import { describe, expect, it } from "vitest";
import { toHex } from "./bytes.js";
import { CipherSuite } from "./cipher-suite.js";
import { type HpkeVector, hex, loadHpkeVectors, vectorName } from "./testing/vectors.js";
import { type Capabilities, capabilities, overrideCapabilities } from "./webcrypto.js";

const subset = loadHpkeVectors("hpke/rfc9180-x25519-subset.json");
const full = loadHpkeVectors("hpke/rfc9180-test-vectors.json");
const SUPPORTED_KEMS = new Set([0x0010, 0x0020]);
// Every P-256 suite, and every HKDF-SHA512 suite on a KEM we implement.
const selected = full.filter(
  (v) => v.kem_id === 0x0010 || (v.kdf_id === 0x0003 && SUPPORTED_KEMS.has(v.kem_id)),
);

async function runVector(v: HpkeVector): Promise<void> {
  const suite = new CipherSuite({ kem: v.kem_id, kdf: v.kdf_id, aead: v.aead_id });
  const recipient = await suite.deriveKeyPair(hex(v.ikmR));
  expect(toHex(recipient.privateKey)).toBe(v.skRm);
  expect(toHex(recipient.publicKey)).toBe(v.pkRm);
  const ephemeral = await suite.deriveKeyPair(hex(v.ikmE));
  expect(toHex(ephemeral.privateKey)).toBe(v.skEm);
  expect(toHex(ephemeral.publicKey)).toBe(v.pkEm);
  const sender = v.ikmS ? await suite.deriveKeyPair(hex(v.ikmS)) : undefined;
  if (sender) expect(toHex(sender.publicKey)).toBe(v.pkSm);
  const psk = v.psk ? { psk: hex(v.psk), pskId: hex(v.psk_id!) } : {};

  const { enc, context } = await suite.setupSender({
    recipientPublicKey: recipient.publicKey,
    info: hex(v.info),
    ephemeralKeyPair: ephemeral,
    ...(sender ? { senderKeyPair: sender } : {}),
    ...psk,
  });
  expect(toHex(enc)).toBe(v.enc);
  expect(context.mode).toBe(v.mode);
  // The recipient is given only its private key, so the public half is derived, as the API promises.
  const ctx = await suite.setupRecipient({
    recipientKeyPair: { privateKey: recipient.privateKey },
    enc,
    info: hex(v.info),
    ...(sender ? { senderPublicKey: sender.publicKey } : {}),
    ...psk,
  });
  for (const e of v.encryptions) {
    expect(toHex(await context.seal(hex(e.pt), hex(e.aad)))).toBe(e.ct);
    expect(toHex(await ctx.open(hex(e.ct), hex(e.aad)))).toBe(e.pt);
  }
  expect(context.sequenceNumber).toBe(v.encryptions.length);
  for (const x of v.exports) {
    expect(toHex(await context.export(hex(x.exporter_context), x.L))).toBe(x.exported_value);
    expect(toHex(await ctx.export(hex(x.exporter_context), x.L))).toBe(x.exported_value);
  }
  if (v.aead_id === 0xffff) {
    await expect(context.seal(new Uint8Array(1))).rejects.toMatchObject({ code: "hpke_export_only" });
    await expect(ctx.open(new Uint8Array(17))).rejects.toMatchObject({ code: "hpke_export_only" });
  }
}

const BACKENDS: [string, Capabilities | "none" | undefined][] = [
  ["detected backend (WebCrypto where available)", undefined],
  ["pure @noble backend", "none"],
];

describe.each(BACKENDS)("RFC 9180 vectors on the %s", (_name, backend) => {
  const setup = () => overrideCapabilities(backend);
  const teardown = () => overrideCapabilities(undefined);

  it("uses the path it claims", async () => {
    setup();
    try {
      const caps = await capabilities();
      if (backend === "none") expect(caps).toEqual({ x25519: false, p256: false, aesGcm: false });
      else expect(caps).toEqual({ x25519: true, p256: true, aesGcm: true }); // all three are in Node 20's WebCrypto
    } finally {
      teardown();
    }
  });

  it("covers the expected suites", () => {
    expect(subset).toHaveLength(16);
    expect(selected).toHaveLength(48);
  });

  describe("rfc9180-x25519-subset.json (all 16 suites)", () => {
    it.each(subset.map((v) => [vectorName(v), v] as const))("%s", async (_n, v) => {
      setup();
      try {
        await runVector(v);
      } finally {
        teardown();
      }
    });
  });

  describe("rfc9180-test-vectors.json: P-256 and HKDF-SHA512 suites", () => {
    it.each(selected.map((v) => [vectorName(v), v] as const))("%s", async (_n, v) => {
      setup();
      try {
        await runVector(v);
      } finally {
        teardown();
      }
    });
  });
});
