import { describe, expect, it } from "vitest";
import { utf8 } from "./bytes.js";
import { CipherSuite } from "./cipher-suite.js";
import { SealError } from "./errors.js";
import { AeadId, HpkeMode, KdfId, KemId } from "./identifiers.js";
import { overrideCapabilities } from "./webcrypto.js";

const x25519 = new CipherSuite({
  kem: KemId.DhkemX25519HkdfSha256,
  kdf: KdfId.HkdfSha256,
  aead: AeadId.Aes128Gcm,
});
const p256 = new CipherSuite({
  kem: KemId.DhkemP256HkdfSha256,
  kdf: KdfId.HkdfSha256,
  aead: AeadId.Aes128Gcm,
});
const psk = new Uint8Array(32).fill(1);
const pskId = utf8("id");

async function rejectsWith(promise: Promise<unknown>, code: string, messagePart?: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(SealError.isInstance(error), `expected SealError ${code}, got ${String(error)}`).toBe(true);
  expect((error as SealError).code).toBe(code);
  if (messagePart) expect((error as SealError).message).toContain(messagePart);
}

describe("CipherSuite construction", () => {
  it("refuses unsupported ids with a typed error", () => {
    for (const ids of [
      { kem: 0x0021, kdf: 1, aead: 1 },
      { kem: 0x0020, kdf: 2, aead: 1 },
      { kem: 0x0020, kdf: 1, aead: 4 },
    ]) {
      expect(() => new CipherSuite(ids)).toThrowError(
        expect.objectContaining({ code: "hpke_unsupported_suite" }),
      );
    }
    expect(() => new CipherSuite(undefined as never)).toThrowError(
      expect.objectContaining({ code: "invalid_argument" }),
    );
  });

  it("exposes the RFC suite id", () => {
    expect(Array.from(x25519.suiteId)).toEqual([0x48, 0x50, 0x4b, 0x45, 0, 0x20, 0, 1, 0, 1]);
  });
});

describe("modes are implied by the inputs", () => {
  it.each([
    ["base", {}, {}, HpkeMode.Base],
    ["psk", { psk, pskId }, { psk, pskId }, HpkeMode.Psk],
    ["auth", "sender", "sender", HpkeMode.Auth],
    ["auth_psk", "sender+psk", "sender+psk", HpkeMode.AuthPsk],
  ] as const)("%s", async (_name, senderExtra, _recipientExtra, mode) => {
    const recipient = await x25519.generateKeyPair();
    const sender = await x25519.generateKeyPair();
    const extra = (side: "s" | "r") => {
      if (senderExtra === "sender")
        return side === "s" ? { senderKeyPair: sender } : { senderPublicKey: sender.publicKey };
      if (senderExtra === "sender+psk") {
        return side === "s"
          ? { senderKeyPair: sender, psk, pskId }
          : { senderPublicKey: sender.publicKey, psk, pskId };
      }
      return senderExtra;
    };
    const { enc, context } = await x25519.setupSender({
      recipientPublicKey: recipient.publicKey,
      ...extra("s"),
    });
    const ctx = await x25519.setupRecipient({ recipientKeyPair: recipient, enc, ...extra("r") });
    expect(context.mode).toBe(mode);
    expect(ctx.mode).toBe(mode);
    expect(await ctx.open(await context.seal(utf8("m")))).toEqual(utf8("m"));
    // A recipient that guesses the wrong mode derives different keys.
    const wrong = await x25519.setupRecipient({ recipientKeyPair: recipient, enc });
    if (mode !== HpkeMode.Base)
      await rejectsWith(wrong.open(await context.seal(utf8("m"))), "hpke_open_failed");
  });
});

describe("typed errors at the boundary", () => {
  it("psk without pskId, and the reverse, are inconsistent", async () => {
    const { publicKey } = await x25519.generateKeyPair();
    await rejectsWith(
      x25519.setupSender({ recipientPublicKey: publicKey, psk }),
      "hpke_psk_inconsistent",
      "pskId",
    );
    await rejectsWith(
      x25519.setupSender({ recipientPublicKey: publicKey, pskId }),
      "hpke_psk_inconsistent",
      "psk",
    );
    await rejectsWith(
      x25519.setupSender({ recipientPublicKey: publicKey, psk: new Uint8Array(16), pskId }),
      "hpke_invalid_psk",
      "32",
    );
  });

  it("wrong key sizes and invalid points name the argument", async () => {
    const pair = await p256.generateKeyPair();
    await rejectsWith(
      x25519.setupSender({ recipientPublicKey: new Uint8Array(31) }),
      "hpke_invalid_key",
      "recipientPublicKey",
    );
    const offCurve = pair.publicKey.slice();
    offCurve[64]! ^= 1;
    await rejectsWith(
      p256.setupSender({ recipientPublicKey: offCurve }),
      "hpke_invalid_key",
      "recipientPublicKey",
    );
    await rejectsWith(
      x25519.setupRecipient({ recipientKeyPair: { privateKey: new Uint8Array(5) }, enc: new Uint8Array(32) }),
      "invalid_argument",
      "recipientKeyPair.privateKey",
    );
    await rejectsWith(
      p256.setupRecipient({ recipientKeyPair: { privateKey: new Uint8Array(32) }, enc: pair.publicKey }),
      "hpke_invalid_key",
      "recipientKeyPair.privateKey",
    );
    await rejectsWith(x25519.deriveKeyPair(new Uint8Array(8)), "hpke_invalid_ikm", "ikm");
    await rejectsWith(x25519.deriveKeyPair("seed" as never), "invalid_argument", "ikm");
  });

  it("bad enc: wrong length, low-order point, off-curve point", async () => {
    const recipient = await x25519.generateKeyPair();
    await rejectsWith(
      x25519.setupRecipient({ recipientKeyPair: recipient, enc: new Uint8Array(33) }),
      "hpke_invalid_enc",
      "enc",
    );
    await rejectsWith(
      x25519.setupRecipient({ recipientKeyPair: recipient, enc: new Uint8Array(32) }),
      "hpke_invalid_enc",
      "enc",
    );
    const r256 = await p256.generateKeyPair();
    const bad = r256.publicKey.slice();
    bad[10]! ^= 1;
    await rejectsWith(p256.setupRecipient({ recipientKeyPair: r256, enc: bad }), "hpke_invalid_enc");
    bad[0] = 0x02;
    await rejectsWith(p256.setupRecipient({ recipientKeyPair: r256, enc: bad }), "hpke_invalid_enc");
  });

  it("a mismatched key pair is refused on both backends", async () => {
    const a = await x25519.generateKeyPair();
    const b = await x25519.generateKeyPair();
    const { enc } = await x25519.setupSender({ recipientPublicKey: a.publicKey });
    for (const backend of [undefined, "none"] as const) {
      overrideCapabilities(backend);
      try {
        await rejectsWith(
          x25519.setupRecipient({
            recipientKeyPair: { privateKey: a.privateKey, publicKey: b.publicKey },
            enc,
          }),
          "hpke_invalid_key",
        );
      } finally {
        overrideCapabilities(undefined);
      }
    }
  });

  it("tag failures do not advance the sequence number", async () => {
    const recipient = await x25519.generateKeyPair();
    const { enc, context } = await x25519.setupSender({ recipientPublicKey: recipient.publicKey });
    const ctx = await x25519.setupRecipient({ recipientKeyPair: recipient, enc });
    const ct = await context.seal(utf8("hello"), utf8("aad"));
    await rejectsWith(ctx.open(ct, utf8("other aad")), "hpke_open_failed");
    await rejectsWith(ctx.open(ct.subarray(0, 10)), "hpke_open_failed");
    expect(ctx.sequenceNumber).toBe(0);
    expect(await ctx.open(ct, utf8("aad"))).toEqual(utf8("hello"));
    expect(ctx.sequenceNumber).toBe(1);
    await rejectsWith(ctx.open(ct, utf8("aad")), "hpke_open_failed"); // replay
  });

  it("concurrent seals get distinct nonces in call order; concurrent opens are serialized", async () => {
    const recipient = await x25519.generateKeyPair();
    const { enc, context } = await x25519.setupSender({ recipientPublicKey: recipient.publicKey });
    const messages = Array.from({ length: 20 }, (_, i) => utf8(`message ${i}`));
    const sealed = await Promise.all(messages.map((m) => context.seal(m)));
    const ctx = await x25519.setupRecipient({ recipientKeyPair: recipient, enc });
    expect(await Promise.all(sealed.map((c) => ctx.open(c)))).toEqual(messages);
  });

  it("export lengths are checked", async () => {
    const recipient = await x25519.generateKeyPair();
    const { context } = await x25519.setupSender({ recipientPublicKey: recipient.publicKey });
    await rejectsWith(context.export(utf8("x"), 255 * 32 + 1), "hpke_export_length_invalid");
    await rejectsWith(context.export(utf8("x"), -1), "hpke_export_length_invalid");
    await rejectsWith(context.export(utf8("x"), 1.5), "hpke_export_length_invalid");
    expect(await context.export(utf8("x"), 255 * 32)).toHaveLength(8160);
    expect(await context.export(utf8("x"), 0)).toHaveLength(0);
  });

  it("export-only contexts refuse seal and open", async () => {
    const suite = new CipherSuite({ kem: 0x20, kdf: 1, aead: 0xffff });
    const recipient = await suite.generateKeyPair();
    const { enc, context } = await suite.setupSender({ recipientPublicKey: recipient.publicKey });
    await rejectsWith(context.seal(utf8("x")), "hpke_export_only");
    await rejectsWith(suite.seal({ recipientPublicKey: recipient.publicKey }, utf8("x")), "hpke_export_only");
    const ctx = await suite.setupRecipient({ recipientKeyPair: recipient, enc });
    await rejectsWith(ctx.open(new Uint8Array(32)), "hpke_export_only");
    expect(await ctx.export(utf8("e"), 16)).toEqual(await context.export(utf8("e"), 16));
  });

  it("non-bytes arguments are named", async () => {
    const recipient = await x25519.generateKeyPair();
    const { context } = await x25519.setupSender({ recipientPublicKey: recipient.publicKey });
    await rejectsWith(context.seal("text" as never), "invalid_argument", "plaintext");
    await rejectsWith(context.seal(utf8("x"), [1, 2] as never), "invalid_argument", "aad");
    await rejectsWith(
      x25519.setupSender({ recipientPublicKey: recipient.publicKey, info: "info" as never }),
      "invalid_argument",
      "info",
    );
    await rejectsWith(x25519.setupSender(null as never), "invalid_argument", "options");
  });
});

describe("key handling", () => {
  it("deriveKeyPair is deterministic and generateKeyPair is not", async () => {
    const ikm = new Uint8Array(32).fill(3);
    expect(await x25519.deriveKeyPair(ikm)).toEqual(await x25519.deriveKeyPair(ikm));
    expect((await p256.generateKeyPair()).publicKey).not.toEqual((await p256.generateKeyPair()).publicKey);
  });

  it("generated keys are the same shape on both backends and work across them", async () => {
    overrideCapabilities("none");
    const noble = await p256.generateKeyPair();
    overrideCapabilities(undefined);
    const web = await p256.generateKeyPair();
    expect(noble.privateKey).toHaveLength(32);
    expect(web.privateKey).toHaveLength(32);
    expect(noble.publicKey[0]).toBe(4);
    const { enc, ciphertext } = await p256.seal({ recipientPublicKey: noble.publicKey }, utf8("x"));
    overrideCapabilities("none");
    try {
      expect(await p256.open({ recipientKeyPair: noble, enc }, ciphertext)).toEqual(utf8("x"));
    } finally {
      overrideCapabilities(undefined);
    }
    expect(await p256.deserializePublicKey(web.publicKey)).toEqual(web.publicKey);
    expect(await p256.serializePublicKey(web.publicKey)).toEqual(web.publicKey);
    await rejectsWith(p256.deserializePublicKey(web.publicKey.subarray(1)), "hpke_invalid_key");
  });

  it("a key array rewritten in place is not served from the import cache", async () => {
    const a = await x25519.generateKeyPair();
    const b = await x25519.generateKeyPair();
    const key = a.publicKey.slice();
    const first = await x25519.seal({ recipientPublicKey: key }, utf8("to a"));
    expect(await x25519.open({ recipientKeyPair: a, enc: first.enc }, first.ciphertext)).toEqual(
      utf8("to a"),
    );
    key.set(b.publicKey);
    const second = await x25519.seal({ recipientPublicKey: key }, utf8("to b"));
    expect(await x25519.open({ recipientKeyPair: b, enc: second.enc }, second.ciphertext)).toEqual(
      utf8("to b"),
    );
  });

  // Regression: the caches kept `key.slice()` as their copy, and on a Node Buffer that is a view of
  // the same memory, so a reused Buffer still matched its stale cache entry: the second message was
  // sealed with the first recipient's imported key and opened for nobody.
  it("a Node Buffer reused for another key is not served from the import caches", async () => {
    const a = await p256.generateKeyPair();
    const b = await p256.generateKeyPair();
    const publicKey = Buffer.from(a.publicKey);
    await p256.seal({ recipientPublicKey: publicKey }, utf8("to a"));
    publicKey.set(b.publicKey);
    const sealed = await p256.seal({ recipientPublicKey: publicKey }, utf8("to b"));
    expect(await p256.open({ recipientKeyPair: b, enc: sealed.enc }, sealed.ciphertext)).toEqual(
      utf8("to b"),
    );

    const privateKey = Buffer.from(a.privateKey);
    const toA = await p256.seal({ recipientPublicKey: a.publicKey }, utf8("a"));
    expect(
      await p256.open(
        { recipientKeyPair: { privateKey, publicKey: a.publicKey }, enc: toA.enc },
        toA.ciphertext,
      ),
    ).toEqual(utf8("a"));
    privateKey.set(b.privateKey);
    const toB = await p256.seal({ recipientPublicKey: b.publicKey }, utf8("b"));
    expect(
      await p256.open(
        { recipientKeyPair: { privateKey, publicKey: b.publicKey }, enc: toB.enc },
        toB.ciphertext,
      ),
    ).toEqual(utf8("b"));
  });

  it("serialised and deserialised keys are copies, also of a Node Buffer", async () => {
    const { publicKey } = await x25519.generateKeyPair();
    const buffer = Buffer.from(publicKey);
    const serialised = await x25519.serializePublicKey(buffer);
    const deserialised = await x25519.deserializePublicKey(buffer);
    buffer.fill(0);
    expect(serialised).toEqual(publicKey);
    expect(deserialised).toEqual(publicKey);
  });
});

describe("auth mode with a bad ephemeral key", () => {
  it("reports the ephemeral key, with no stray rejection from the sender half", async () => {
    const recipient = await x25519.generateKeyPair();
    const sender = await x25519.generateKeyPair();
    const other = await x25519.generateKeyPair();
    await rejectsWith(
      x25519.setupSender({
        recipientPublicKey: recipient.publicKey,
        senderKeyPair: sender,
        ephemeralKeyPair: { privateKey: other.privateKey, publicKey: sender.publicKey },
      }),
      "hpke_invalid_key",
      "ephemeralKeyPair",
    );
  });
});
