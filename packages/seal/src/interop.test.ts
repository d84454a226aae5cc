import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import {
  Aes128Gcm,
  Aes256Gcm,
  type CipherSuiteParams,
  DhkemP256HkdfSha256,
  ExportOnly,
  HkdfSha256,
  HkdfSha512,
  CipherSuite as HpkeJsSuite,
} from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { utf8 } from "./bytes.js";
import { CipherSuite } from "./cipher-suite.js";
import type { KeyPair } from "./kem.js";
import { type Capabilities, overrideCapabilities } from "./webcrypto.js";

/** Interop with an independent implementation (@hpke/core), both directions, every mode, on both of our backends. */

const KEMS = { 16: () => new DhkemP256HkdfSha256(), 32: () => new DhkemX25519HkdfSha256() } as const;
const KDFS = { 1: () => new HkdfSha256(), 3: () => new HkdfSha512() } as const;
const AEADS = {
  1: () => new Aes128Gcm(),
  2: () => new Aes256Gcm(),
  3: () => new Chacha20Poly1305(),
  65535: () => new ExportOnly(),
} as const;

const SUITES: [number, number, number][] = [
  [0x0020, 0x0001, 0x0001],
  [0x0020, 0x0001, 0x0003],
  [0x0020, 0x0003, 0x0002],
  [0x0020, 0x0001, 0xffff],
  [0x0010, 0x0001, 0x0001],
  [0x0010, 0x0003, 0x0003],
];
const MODES = ["base", "psk", "auth", "auth_psk"] as const;

const buf = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;
const psk = { psk: new Uint8Array(32).fill(0x42), pskId: utf8("psk id") };
const info = utf8("interop info");
const aad = utf8("interop aad");

function theirs(kem: number, kdf: number, aead: number): HpkeJsSuite {
  const params: CipherSuiteParams = {
    kem: KEMS[kem as keyof typeof KEMS](),
    kdf: KDFS[kdf as keyof typeof KDFS](),
    aead: AEADS[aead as keyof typeof AEADS](),
  };
  return new HpkeJsSuite(params);
}

async function theirPair(suite: HpkeJsSuite, pair: KeyPair): Promise<CryptoKeyPair> {
  return {
    privateKey: await suite.kem.deserializePrivateKey(buf(pair.privateKey)),
    publicKey: await suite.kem.deserializePublicKey(buf(pair.publicKey)),
  };
}

const BACKENDS: [string, Capabilities | "none"][] = [
  ["WebCrypto", { x25519: true, p256: true, aesGcm: true }],
  ["@noble", "none"],
];

describe.each(BACKENDS)("on the %s backend", (_name, backend) => {
  beforeEach(() => overrideCapabilities(backend));
  afterEach(() => overrideCapabilities(undefined));

  describe.each(SUITES)("interop with @hpke/core: kem %i kdf %i aead %i", (kem, kdf, aead) => {
    const ours = new CipherSuite({ kem, kdf, aead });
    const exportOnly = aead === 0xffff;

    it.each(MODES)("our sender, their recipient: %s", async (mode) => {
      const them = theirs(kem, kdf, aead);
      const recipient = await ours.generateKeyPair();
      const sender = await ours.generateKeyPair();
      const usePsk = mode === "psk" || mode === "auth_psk";
      const useAuth = mode === "auth" || mode === "auth_psk";
      const { enc, context } = await ours.setupSender({
        recipientPublicKey: recipient.publicKey,
        info,
        ...(usePsk ? psk : {}),
        ...(useAuth ? { senderKeyPair: sender } : {}),
      });
      const ctx = await them.createRecipientContext({
        recipientKey: await theirPair(them, recipient),
        enc: buf(enc),
        info: buf(info),
        ...(usePsk ? { psk: { key: buf(psk.psk), id: buf(psk.pskId) } } : {}),
        ...(useAuth ? { senderPublicKey: await them.kem.deserializePublicKey(buf(sender.publicKey)) } : {}),
      });
      if (!exportOnly) {
        for (const message of ["first", "second", ""]) {
          const ct = await context.seal(utf8(message), aad);
          expect(new Uint8Array(await ctx.open(buf(ct), buf(aad)))).toEqual(utf8(message));
        }
      }
      const exported = new Uint8Array(await ctx.export(buf(utf8("ctx")), 42));
      expect(await context.export(utf8("ctx"), 42)).toEqual(exported);
    });

    it.each(MODES)("their sender, our recipient: %s", async (mode) => {
      const them = theirs(kem, kdf, aead);
      const recipient = await ours.generateKeyPair();
      const sender = await ours.generateKeyPair();
      const usePsk = mode === "psk" || mode === "auth_psk";
      const useAuth = mode === "auth" || mode === "auth_psk";
      const context = await them.createSenderContext({
        recipientPublicKey: await them.kem.deserializePublicKey(buf(recipient.publicKey)),
        info: buf(info),
        ...(usePsk ? { psk: { key: buf(psk.psk), id: buf(psk.pskId) } } : {}),
        ...(useAuth ? { senderKey: await theirPair(them, sender) } : {}),
      });
      const ctx = await ours.setupRecipient({
        recipientKeyPair: { privateKey: recipient.privateKey },
        enc: new Uint8Array(context.enc),
        info,
        ...(usePsk ? psk : {}),
        ...(useAuth ? { senderPublicKey: sender.publicKey } : {}),
      });
      if (!exportOnly) {
        for (const message of ["first", "second", ""]) {
          const ct = new Uint8Array(await context.seal(buf(utf8(message)), buf(aad)));
          expect(await ctx.open(ct, aad)).toEqual(utf8(message));
        }
      }
      const exported = new Uint8Array(await context.export(buf(utf8("ctx")), 42));
      expect(await ctx.export(utf8("ctx"), 42)).toEqual(exported);
    });

    it("single-shot helpers interoperate", async () => {
      if (exportOnly) return;
      const them = theirs(kem, kdf, aead);
      const recipient = await ours.generateKeyPair();
      const { enc, ciphertext } = await ours.seal(
        { recipientPublicKey: recipient.publicKey, info },
        utf8("one shot"),
        aad,
      );
      const opened = await them.open(
        { recipientKey: await theirPair(them, recipient), enc: buf(enc), info: buf(info) },
        buf(ciphertext),
        buf(aad),
      );
      expect(new Uint8Array(opened)).toEqual(utf8("one shot"));
      const sealed = await them.seal(
        {
          recipientPublicKey: await them.kem.deserializePublicKey(buf(recipient.publicKey)),
          info: buf(info),
        },
        buf(utf8("one shot back")),
        buf(aad),
      );
      const back = await ours.open(
        { recipientKeyPair: recipient, enc: new Uint8Array(sealed.enc), info },
        new Uint8Array(sealed.ct),
        aad,
      );
      expect(back).toEqual(utf8("one shot back"));
    });
  });
});
