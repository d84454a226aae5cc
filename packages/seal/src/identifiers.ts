/**
 * RFC 9180 registry identifiers for the algorithms this package implements.
 *
 * @example
 * ```ts
 * import { CipherSuite, KemId, KdfId, AeadId } from "@peercycles/seal";
 * const suite = new CipherSuite({ kem: KemId.DhkemX25519HkdfSha256, kdf: KdfId.HkdfSha256, aead: AeadId.Aes128Gcm });
 * ```
 */
export const KemId = {
  /** DHKEM(P-256, HKDF-SHA256), 0x0010. */
  DhkemP256HkdfSha256: 0x0010,
  /** DHKEM(X25519, HKDF-SHA256), 0x0020. */
  DhkemX25519HkdfSha256: 0x0020,
} as const;
/**
 * A supported KEM identifier.
 *
 * @example
 * ```ts
 * const kem: KemId = 0x0020;
 * ```
 */
export type KemId = (typeof KemId)[keyof typeof KemId];

/**
 * RFC 9180 KDF identifiers.
 *
 * @example
 * ```ts
 * new CipherSuite({ kem: 0x0020, kdf: KdfId.HkdfSha512, aead: 0x0003 });
 * ```
 */
export const KdfId = {
  /** HKDF-SHA256, 0x0001. */
  HkdfSha256: 0x0001,
  /** HKDF-SHA512, 0x0003. */
  HkdfSha512: 0x0003,
} as const;
/**
 * A supported KDF identifier.
 *
 * @example
 * ```ts
 * const kdf: KdfId = KdfId.HkdfSha512;
 * ```
 */
export type KdfId = (typeof KdfId)[keyof typeof KdfId];

/**
 * RFC 9180 AEAD identifiers. `ExportOnly` gives a context that can only `export()`.
 *
 * @example
 * ```ts
 * new CipherSuite({ kem: 0x0020, kdf: 0x0001, aead: AeadId.ExportOnly });
 * ```
 */
export const AeadId = {
  /** AES-128-GCM, 0x0001. */
  Aes128Gcm: 0x0001,
  /** AES-256-GCM, 0x0002. */
  Aes256Gcm: 0x0002,
  /** ChaCha20-Poly1305, 0x0003. */
  Chacha20Poly1305: 0x0003,
  /** Export-only, 0xFFFF. */
  ExportOnly: 0xffff,
} as const;
/**
 * A supported AEAD identifier.
 *
 * @example
 * ```ts
 * const aead: AeadId = AeadId.Chacha20Poly1305;
 * ```
 */
export type AeadId = (typeof AeadId)[keyof typeof AeadId];

/**
 * HPKE modes (RFC 9180 §5). The mode is never passed in: it follows from which inputs are present.
 *
 * @example
 * ```ts
 * context.mode === HpkeMode.AuthPsk; // sender key pair and psk were both given
 * ```
 */
export const HpkeMode = {
  Base: 0x00,
  Psk: 0x01,
  Auth: 0x02,
  AuthPsk: 0x03,
} as const;
/**
 * One of the four HPKE modes.
 *
 * @example
 * ```ts
 * const mode: HpkeMode = context.mode;
 * ```
 */
export type HpkeMode = (typeof HpkeMode)[keyof typeof HpkeMode];
