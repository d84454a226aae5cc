import { describe, expect, it } from "vitest";
import { concat, toHex } from "./bytes.js";
import { CipherSuite } from "./cipher-suite.js";
import {
  decodeKeyConfig,
  decodeKeyConfigList,
  encodeKeyConfig,
  encodeKeyConfigList,
  type KeyConfig,
  validateKeyConfig,
} from "./key-config.js";
import { loadOhttpVectors } from "./testing/ohttp-vectors.js";
import { hex } from "./testing/vectors.js";

const vectors = loadOhttpVectors();
const rfc = hex(vectors.rfc9458_appendix_a.key_config);
const chunked = hex(vectors.chunked_ohttp_draft_example.key_config);

describe("key configuration encoding (RFC 9458 §3)", () => {
  it("round-trips both published configurations", () => {
    for (const bytes of [rfc, chunked]) expect(encodeKeyConfig(decodeKeyConfig(bytes))).toEqual(bytes);
  });

  it("round-trips a P-256 configuration", async () => {
    const { publicKey } = await new CipherSuite({ kem: 0x10, kdf: 1, aead: 1 }).generateKeyPair();
    const config: KeyConfig = {
      keyId: 255,
      kemId: 0x10,
      publicKey,
      symmetricAlgorithms: [{ kdfId: 3, aeadId: 2 }],
    };
    const decoded = decodeKeyConfig(encodeKeyConfig(config));
    expect(decoded).toEqual(config);
  });

  it("encodes and decodes the application/ohttp-keys list with 2-byte prefixes", () => {
    const list = encodeKeyConfigList([decodeKeyConfig(rfc), decodeKeyConfig(chunked)]);
    expect(toHex(list.subarray(0, 2))).toBe(rfc.length.toString(16).padStart(4, "0"));
    expect(list).toHaveLength(4 + rfc.length + chunked.length);
    expect(decodeKeyConfigList(list).map(encodeKeyConfig)).toEqual([rfc, chunked]);
  });

  it("skips configurations with an unknown KEM in a list, but not in a single decode", () => {
    const unknown = Uint8Array.of(7, 0x00, 0x21, ...new Uint8Array(56), 0, 4, 0, 1, 0, 1);
    const list = concat(Uint8Array.of(0, unknown.length), unknown, Uint8Array.of(0, rfc.length), rfc);
    expect(decodeKeyConfigList(list).map(encodeKeyConfig)).toEqual([rfc]);
    expect(() => decodeKeyConfig(unknown)).toThrowError(
      expect.objectContaining({ code: "ohttp_key_config_unsupported" }),
    );
  });

  it.each([
    ["empty", new Uint8Array(0)],
    ["short public key", rfc.subarray(0, 20)],
    ["missing algorithms", rfc.subarray(0, 35)],
    ["algorithms length not a multiple of 4", concat(rfc.subarray(0, 35), Uint8Array.of(0, 3, 0, 1, 0))],
    ["zero algorithms", concat(rfc.subarray(0, 35), Uint8Array.of(0, 0))],
    ["algorithms past the end", rfc.subarray(0, rfc.length - 1)],
    ["trailing bytes", concat(rfc, Uint8Array.of(0))],
  ])("rejects %s as ohttp_key_config_invalid", (_name, bytes) => {
    expect(() => decodeKeyConfig(bytes)).toThrowError(
      expect.objectContaining({ code: "ohttp_key_config_invalid" }),
    );
  });

  it("rejects an invalid P-256 point and malformed list framing", () => {
    const p = Uint8Array.of(1, 0x00, 0x10, 4, ...new Uint8Array(64), 0, 4, 0, 1, 0, 1);
    expect(() => decodeKeyConfig(p)).toThrowError(
      expect.objectContaining({ code: "ohttp_key_config_invalid" }),
    );
    expect(() => decodeKeyConfigList(Uint8Array.of(0))).toThrowError(
      expect.objectContaining({ code: "ohttp_key_config_invalid" }),
    );
    expect(() => decodeKeyConfigList(Uint8Array.of(0, 9, 1))).toThrowError(
      expect.objectContaining({ code: "ohttp_key_config_invalid" }),
    );
    const mismatched = concat(Uint8Array.of(0, rfc.length + 1), rfc, Uint8Array.of(0));
    expect(() => decodeKeyConfigList(mismatched)).toThrowError(
      expect.objectContaining({ code: "ohttp_key_config_invalid" }),
    );
  });

  it("validates objects field by field", () => {
    const good = decodeKeyConfig(rfc);
    const bad: [Partial<KeyConfig>, string][] = [
      [{ keyId: 256 }, "keyId"],
      [{ keyId: -1 }, "keyId"],
      [{ kemId: 1.5 }, "kemId"],
      [{ publicKey: new Uint8Array(31) }, "publicKey"],
      [{ symmetricAlgorithms: [] }, "symmetricAlgorithms"],
      [{ symmetricAlgorithms: [{ kdfId: 1 } as never] }, "symmetricAlgorithms[0]"],
    ];
    for (const [patch, field] of bad) {
      expect(() => validateKeyConfig({ ...good, ...patch })).toThrowError(
        expect.objectContaining({
          code: "ohttp_key_config_invalid",
          message: expect.stringContaining(field),
        }),
      );
    }
  });
});
