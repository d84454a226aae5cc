import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, toHex } from "../common/bytes.js";
import {
  AttestArgumentError,
  AttestError,
  EvidenceParseError,
  type VerificationIssue,
} from "../common/errors.js";
import { lazyModule } from "../common/lazy-module.js";
import { canonicalUint, decodeDeterministicCbor, encodeCbor } from "./deterministic-cbor.js";

/** Ed25519 loads on the first receipt check: importing @noble/curves' ed25519 costs `/bundle` ~35 ms at start. */
const loadEd25519 = lazyModule(() => import("@noble/curves/ed25519.js"));

/**
 * A receipt is what the enclave signs after a confidential call: which request (hash of the sealed
 * request bytes), which response (hash of the sealed response bytes), which model, seed and token
 * usage, which worker, when. The orchestrator bills from it without ever seeing plaintext, and the
 * client checks it with the signing key from the verified binding.
 */
export interface Receipt {
  /** SHA-256 of the request as received by the enclave (32 bytes). */
  readonly requestHash: Uint8Array;
  /** SHA-256 of the response as sent by the enclave (32 bytes). */
  readonly responseHash: Uint8Array;
  readonly model: string;
  /** Sampling seed (unsigned 64-bit). */
  readonly seed: number | bigint;
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number };
  /** Worker id as registered with the orchestrator. */
  readonly worker: string;
  /** Unix seconds. */
  readonly time: number;
}

/** A receipt body (deterministic CBOR) and its Ed25519 signature. */
export interface SignedReceipt {
  readonly body: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * Domain separation: the signature covers this prefix then the body, so a receipt signature can
 * never be replayed as a signature over anything else the enclave key might sign.
 */
export const RECEIPT_SIGNING_CONTEXT = new TextEncoder().encode("peercycles/receipt/v1\u0000");

const KEYS = { requestHash: 1, responseHash: 2, model: 3, seed: 4, usage: 5, worker: 6, time: 7 } as const;

function argumentError(message: string): never {
  throw new AttestArgumentError("receipt_invalid", `receipt: ${message}`);
}

function checkReceipt(receipt: Receipt, fail: (message: string) => never): void {
  const hash = (value: unknown, name: string) => {
    if (!(value instanceof Uint8Array) || value.length !== 32) fail(`${name} must be 32 bytes`);
  };
  hash(receipt.requestHash, "requestHash");
  hash(receipt.responseHash, "responseHash");
  if (typeof receipt.model !== "string" || receipt.model.length === 0)
    fail("model must be a non-empty string");
  if (typeof receipt.worker !== "string" || receipt.worker.length === 0)
    fail("worker must be a non-empty string");
  const seed = receipt.seed;
  if (
    !(
      (typeof seed === "number" && Number.isSafeInteger(seed) && seed >= 0) ||
      (typeof seed === "bigint" && seed >= 0n && seed < 2n ** 64n)
    )
  ) {
    fail("seed must be an unsigned 64-bit integer");
  }
  const count = (value: unknown, name: string) => {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
      fail(`${name} must be a non-negative integer`);
  };
  count(receipt.usage?.promptTokens, "usage.promptTokens");
  count(receipt.usage?.completionTokens, "usage.completionTokens");
  count(receipt.time, "time");
}

/**
 * Deterministic CBOR of a receipt body: map with keys 1..7 (request hash, response hash, model,
 * seed, usage {1: prompt tokens, 2: completion tokens}, worker, time).
 */
export function encodeReceiptBody(receipt: Receipt): Uint8Array {
  checkReceipt(receipt, argumentError);
  return encodeCbor(
    new Map<number, Uint8Array | string | number | bigint | Map<number, number | bigint>>([
      [KEYS.requestHash, receipt.requestHash],
      [KEYS.responseHash, receipt.responseHash],
      [KEYS.model, receipt.model],
      [KEYS.seed, canonicalUint(receipt.seed)],
      [
        KEYS.usage,
        new Map([
          [1, canonicalUint(receipt.usage.promptTokens)],
          [2, canonicalUint(receipt.usage.completionTokens)],
        ]),
      ],
      [KEYS.worker, receipt.worker],
      [KEYS.time, canonicalUint(receipt.time)],
    ]),
  );
}

/**
 * Parses receipt body bytes strictly (deterministic encoding, exactly keys 1..7).
 * @throws EvidenceParseError `receipt_malformed`, `receipt_not_canonical`
 */
export function decodeReceiptBody(bytes: Uint8Array): Receipt {
  const value = decodeDeterministicCbor(bytes, "receipt_malformed", "receipt_not_canonical", "receipt");
  const fail = (message: string): never => {
    throw new EvidenceParseError("receipt_malformed", `receipt: ${message}`);
  };
  if (!(value instanceof Map) || value.size !== 7) fail("must be a map with keys 1..7");
  const map = value as Map<unknown, unknown>;
  for (let key = 1; key <= 7; key++) if (!map.has(key)) fail(`lacks key ${key}`);
  const usage = map.get(KEYS.usage);
  if (!(usage instanceof Map) || usage.size !== 2 || !usage.has(1) || !usage.has(2))
    fail("usage must be a map with keys 1, 2");
  const receipt: Receipt = {
    requestHash: map.get(KEYS.requestHash) as Uint8Array,
    responseHash: map.get(KEYS.responseHash) as Uint8Array,
    model: map.get(KEYS.model) as string,
    seed: map.get(KEYS.seed) as number | bigint,
    usage: {
      promptTokens: (usage as Map<number, number>).get(1) as number,
      completionTokens: (usage as Map<number, number>).get(2) as number,
    },
    worker: map.get(KEYS.worker) as string,
    time: map.get(KEYS.time) as number,
  };
  checkReceipt(receipt, fail);
  return receipt;
}

/** The bytes an enclave signs for a receipt body: {@link RECEIPT_SIGNING_CONTEXT} ‖ body. */
export function receiptSigningMessage(body: Uint8Array): Uint8Array {
  return concatBytes(RECEIPT_SIGNING_CONTEXT, body);
}

/** CBOR transport form of a signed receipt: `[body: bstr, signature: bstr]`. */
export function encodeSignedReceipt(receipt: SignedReceipt): Uint8Array {
  return encodeCbor([receipt.body, receipt.signature]);
}

/** Parses the transport form written by {@link encodeSignedReceipt}. */
export function decodeSignedReceipt(bytes: Uint8Array): SignedReceipt {
  const value = decodeDeterministicCbor(
    bytes,
    "receipt_malformed",
    "receipt_not_canonical",
    "signed receipt",
  );
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !(value[0] instanceof Uint8Array) ||
    !(value[1] instanceof Uint8Array)
  ) {
    throw new EvidenceParseError("receipt_malformed", "signed receipt must be [body, signature]");
  }
  return { body: value[0], signature: value[1] };
}

/** Result of {@link verifyReceipt}. */
export interface ReceiptVerification {
  readonly ok: boolean;
  /** The decoded body, when it parsed. */
  readonly receipt?: Receipt;
  /** SHA-256 of the body, hex (a stable receipt id). */
  readonly id?: string;
  readonly errors: readonly VerificationIssue[];
}

/**
 * Client side: checks a signed receipt against the enclave's signing key (take it from a verified
 * bundle's binding, never from the receipt's sender).
 *
 * @example
 * ```ts
 * const result = await verifyReceipt(signedReceipt, verifiedBundle.binding.signingPublicKey);
 * if (!result.ok) throw new Error(result.errors[0].code);
 * result.receipt.usage.completionTokens;
 * ```
 */
export async function verifyReceipt(
  receipt: SignedReceipt,
  signingPublicKey: Uint8Array,
): Promise<ReceiptVerification> {
  let decoded: Receipt;
  try {
    decoded = decodeReceiptBody(receipt.body);
  } catch (error) {
    if (!AttestError.isInstance(error)) throw error;
    return { ok: false, errors: [{ code: error.code, message: error.message }] };
  }
  const id = toHex(sha256(receipt.body));
  const { ed25519 } = await loadEd25519();
  let valid = false;
  try {
    valid =
      signingPublicKey.length === 32 &&
      receipt.signature.length === 64 &&
      ed25519.verify(receipt.signature, receiptSigningMessage(receipt.body), signingPublicKey);
  } catch {
    valid = false;
  }
  if (!valid) {
    return {
      ok: false,
      receipt: decoded,
      id,
      errors: [
        {
          code: "receipt_signature_invalid",
          message: "receipt signature does not verify with the enclave signing key",
        },
      ],
    };
  }
  return { ok: true, receipt: decoded, id, errors: [] };
}
