import { sha256 } from "@noble/hashes/sha2.js";
import { decodeReceiptBody, type Receipt } from "@peercycles/attest/bundle";
import { fromBase64Url, type PeerInfo, peerInfoSchema, type Tier, toHex } from "@peercycles/protocol";
import { PeerCyclesError } from "./errors.js";
import { type ReceiptSummary, summarizeReceipt } from "./verification.js";
import { verifyReceiptSignature } from "./verify-signature.js";

/**
 * Reads an answer's `peer` object: absent → `tier_downgrade` (not served by a Peer Cycles tier),
 * without a receipt where one is due → `receipt_missing`, malformed → `response_invalid`, another
 * tier → `tier_downgrade`.
 */
export function readPeerInfo(value: unknown, tier: Tier): PeerInfo {
  if (value === undefined || value === null) {
    throw new PeerCyclesError(
      "tier_downgrade",
      `the answer carries no peer object: not served by the ${tier} tier`,
      {
        details: { expected: tier },
      },
    );
  }
  if (typeof value === "object" && !("receipt" in value) && tier !== "open") {
    throw new PeerCyclesError("receipt_missing", `the ${tier} answer carries no receipt`);
  }
  const parsed = peerInfoSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PeerCyclesError(
      "response_invalid",
      `the peer object is malformed at ${issue?.path.join(".")}`,
      {
        details: { path: issue?.path.join(".") ?? "" },
      },
    );
  }
  if (parsed.data.tier !== tier) {
    throw new PeerCyclesError(
      "tier_downgrade",
      `asked for the ${tier} tier, the answer is ${parsed.data.tier}`,
      {
        details: { expected: tier, actual: parsed.data.tier },
      },
    );
  }
  return parsed.data;
}

/** What a receipt must commit to. */
export interface ExpectedReceipt {
  /** SHA-256 of the request bytes sent (sealed request, or the JSON body). */
  readonly requestHash: Uint8Array;
  /** SHA-256 of the response bytes received (sealed bytes) or of the output commitment. */
  readonly responseHash: Uint8Array;
  readonly model: string;
  readonly worker: string;
}

function mismatch(field: string, message: string, details: Record<string, unknown> = {}): never {
  throw new PeerCyclesError("receipt_mismatch", message, { details: { field, ...details } });
}

/**
 * Verifies `peer.receipt` with `signingKey` (for the confidential tier the attested enclave key,
 * never one the answer names) and checks that it commits to exactly this call.
 */
export async function checkReceipt(
  peer: PeerInfo,
  signingKey: Uint8Array,
  expected: ExpectedReceipt,
): Promise<ReceiptSummary> {
  let body: Uint8Array;
  let signature: Uint8Array;
  try {
    body = fromBase64Url(peer.receipt.body);
    signature = fromBase64Url(peer.receipt.signature);
  } catch (error) {
    throw new PeerCyclesError("response_invalid", "the receipt is not base64url", { cause: error });
  }
  let receipt: Receipt;
  try {
    receipt = decodeReceiptBody(body);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    mismatch("body", "the receipt body does not decode", {
      codes: [typeof code === "string" ? code : "receipt_malformed"],
    });
  }
  if (!(await verifyReceiptSignature(body, signature, signingKey))) {
    mismatch("signature", "the receipt signature does not verify with the expected key", {
      codes: ["receipt_signature_invalid"],
    });
  }
  const id = toHex(sha256(body));
  if (peer.receipt.id !== id) mismatch("id", "the receipt id is not the SHA-256 of its body");
  if (toHex(receipt.requestHash) !== toHex(expected.requestHash))
    mismatch("requestHash", "the receipt is for another request");
  if (toHex(receipt.responseHash) !== toHex(expected.responseHash))
    mismatch("responseHash", "the receipt is for other response bytes");
  if (receipt.model !== expected.model)
    mismatch("model", `the receipt names model "${receipt.model}", the request "${expected.model}"`);
  if (
    receipt.usage.promptTokens !== peer.usage.prompt_tokens ||
    receipt.usage.completionTokens !== peer.usage.completion_tokens
  ) {
    // The node bills from the signed usage; an answer that shows other usage is not the signed one.
    mismatch(
      "usage",
      `the answer shows usage ${peer.usage.prompt_tokens} + ${peer.usage.completion_tokens}, the receipt ${receipt.usage.promptTokens} + ${receipt.usage.completionTokens}`,
    );
  }
  if (receipt.worker !== expected.worker)
    mismatch("worker", `the receipt names worker "${receipt.worker}", the answer "${expected.worker}"`);
  return summarizeReceipt(receipt, id, signingKey);
}

/** The answer's `peer` with `verification` added. */
export function withVerification<T extends object>(
  peer: T,
  verification: unknown,
): T & { verification: unknown } {
  return { ...peer, verification };
}
