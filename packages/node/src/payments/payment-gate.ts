import type { Address } from "@solana/kit";
import { getCompiledTransactionMessageDecoder } from "@solana/kit";
import { x402Facilitator } from "@x402/core/facilitator";
import {
  decodePaymentSignatureHeader,
  encodePaymentRequiredHeader,
  encodePaymentResponseHeader,
} from "@x402/core/http";
import { type FacilitatorClient, x402ResourceServer } from "@x402/core/server";
import type {
  Network,
  PaymentPayload,
  PaymentRequired,
  PaymentRequirements,
  SettleResponse,
  SupportedResponse,
} from "@x402/core/types";
import { decodeTransactionFromPayload, type ExactSvmPayloadV2, transactionMessageHash } from "@x402/svm";
import { registerExactSvmScheme } from "@x402/svm/exact/facilitator";
import { ExactSvmScheme as ExactSvmServerScheme } from "@x402/svm/exact/server";
import { decodeWireTransaction } from "../chain/litesvm-facilitator-signer.js";
import type { SettlementChain } from "../chain/settlement-chain.js";
import { transactionSignature } from "../chain/transfers.js";
import { baseUnitsToCredits, creditsToBaseUnits, isSolanaNetwork } from "../chain/usdc.js";
import { PaymentError, type PaymentErrorCode } from "./errors.js";
import type { SettledPayment } from "./payment-recorder.js";
import { codeForX402Reason, X402_SIMULATION_FAILED } from "./x402-reasons.js";

/** Options of {@link createPaymentGate}. */
export interface PaymentGateOptions {
  /** The chain payments settle on. */
  readonly chain: SettlementChain;
  /** CAIP-2 network; must be the chain's. Default: `chain.network`. */
  readonly network?: string;
  /** USDC mint (the x402 `asset`). Default: `chain.usdcMint`. */
  readonly usdcMint?: Address;
  /** Owner wallet that receives payments (the x402 `payTo`). Default: `chain.treasury`. */
  readonly treasury?: Address;
  /**
   * The x402 facilitator. Default: one in process (`x402Facilitator` + `registerExactSvmScheme`) over
   * `chain.facilitatorSigner`, so no hosted facilitator is ever contacted.
   */
  readonly facilitator?: FacilitatorClient;
  /** How long a challenge stays payable, in seconds (x402 `maxTimeoutSeconds`). Default: 60. */
  readonly maxTimeoutSeconds?: number;
}

/** Arguments of {@link PaymentGate.requirementFor}. */
export interface RequirementArguments {
  /** Price in credits (1 credit = $0.01 = 10,000 USDC base units), a positive integer. */
  readonly priceCredits: number;
  /** Absolute URL of the resource being paid for; a payment made for another URL is refused. */
  readonly resourceUrl: string;
  readonly description?: string;
  readonly mimeType?: string;
  /** Why payment is (again) required, for the challenge's `error` field (an x402 reason string). */
  readonly error?: string;
}

/** An x402 v2 challenge, with what the server needs to settle a payment against it. */
export interface PaymentChallenge {
  /** The decoded `PAYMENT-REQUIRED` object. */
  readonly paymentRequired: PaymentRequired;
  /** Its single `exact` requirement. */
  readonly requirements: PaymentRequirements;
  /** Base64 value of the `PAYMENT-REQUIRED` header. */
  readonly header: string;
  readonly priceCredits: number;
  readonly amountUsdcBaseUnits: bigint;
  readonly resourceUrl: string;
}

/** A settled payment, to record once ({@link PaymentRecorder}) and answer with `PAYMENT-RESPONSE`. */
export interface PaymentSettlement extends SettledPayment {
  readonly ok: true;
  readonly resourceUrl: string;
  /** Base64 value of the `PAYMENT-RESPONSE` header. */
  readonly paymentResponseHeader: string;
  readonly settleResponse: SettleResponse;
}

/** A refused or failed payment. No money moved unless `error.code` is `payment_settle_pending`. */
export interface PaymentFailure {
  readonly ok: false;
  readonly error: PaymentError;
  /** The x402 reason string (`duplicate_settlement`, `invalid_exact_svm_payload_amount_mismatch`, …). */
  readonly x402Reason: string | undefined;
  /** For failures at settle time: the `PAYMENT-RESPONSE` header value (`success: false`). */
  readonly paymentResponseHeader: string | undefined;
}

export type SettleResult = PaymentSettlement | PaymentFailure;

/** x402 v2 `exact` USDC payments on Solana, independent of the HTTP framework. */
export interface PaymentGate {
  readonly network: string;
  readonly usdcMint: Address;
  readonly treasury: Address;
  /** Builds the 402 challenge for a price: answer `402` with `PAYMENT-REQUIRED: challenge.header`. */
  requirementFor(args: RequirementArguments): Promise<PaymentChallenge>;
  /**
   * Verifies then settles the `PAYMENT-SIGNATURE` header against a challenge for the same resource and
   * price. Never throws for a bad payment: it answers a {@link PaymentFailure}. On success the caller
   * records the payment once (the transaction signature is the idempotency key), then serves.
   */
  settle(
    paymentSignatureHeader: string | null | undefined,
    challenge: PaymentChallenge,
    options?: SettleOptions,
  ): Promise<SettleResult>;
}

/** Options of {@link PaymentGate.settle}. */
export interface SettleOptions {
  /**
   * Called once the payment is verified and before it is sent: the place to write down what the
   * payment is for (an intent record), so a crash after the transfer still credits the right account.
   * `signature` is the transaction's signature once the facilitator signs it (deterministic), or
   * undefined when the facilitator's fee payer is not this chain's. If it throws, nothing is sent.
   */
  readonly beforeSettle?: (pending: { signature: string | undefined; payer: string }) => Promise<void>;
}

/**
 * Creates the server side of x402 payments over a {@link SettlementChain}.
 *
 * @example
 * ```ts
 * const gate = createPaymentGate({ chain });
 * app.post("/v1/chat/completions", async (c) => {
 *   const challenge = await gate.requirementFor({ priceCredits: 3, resourceUrl: c.req.url });
 *   const header = c.req.header("PAYMENT-SIGNATURE");
 *   if (!header) return c.json({ scheme: "x402", price_credits: 3 }, 402, { "PAYMENT-REQUIRED": challenge.header });
 *   const paid = await gate.settle(header, challenge);
 *   if (!paid.ok) return c.json({ error: paid.error.code }, 402);
 *   await recorder.recordPayment(paid, { accountId });
 *   return c.json(answer, 200, { "PAYMENT-RESPONSE": paid.paymentResponseHeader });
 * });
 * ```
 */
export function createPaymentGate(options: PaymentGateOptions): PaymentGate {
  const { chain } = options;
  const network = options.network ?? chain.network;
  if (!isSolanaNetwork(network)) argument("network", `not a Solana CAIP-2 network: ${network}`);
  if (network !== chain.network)
    argument("network", `the chain answers for ${chain.network}, not ${network}`);
  const usdcMint = options.usdcMint ?? chain.usdcMint;
  const treasury = options.treasury ?? chain.treasury;
  const maxTimeoutSeconds = options.maxTimeoutSeconds ?? 60;
  if (!Number.isSafeInteger(maxTimeoutSeconds) || maxTimeoutSeconds <= 0) {
    argument("maxTimeoutSeconds", "expected a positive integer");
  }
  const facilitator = options.facilitator ?? inProcessFacilitator(chain, network);
  const server = new x402ResourceServer(facilitator).register(network as Network, new ExactSvmServerScheme());
  let initialized: Promise<void> | undefined;
  const ready = () => {
    initialized ??= server.initialize().catch((error: unknown) => {
      initialized = undefined;
      throw error;
    });
    return initialized;
  };
  /** Message hashes being settled now, and those this gate settled (with their signature). */
  const inFlight = new Set<string>();
  const settled = new Map<string, string>();

  const requirementFor = async (args: RequirementArguments): Promise<PaymentChallenge> => {
    const { priceCredits, resourceUrl } = args;
    if (!Number.isSafeInteger(priceCredits) || priceCredits <= 0) {
      argument("priceCredits", `expected a positive integer, got ${priceCredits}`);
    }
    if (typeof resourceUrl !== "string" || !URL.canParse(resourceUrl)) {
      argument("resourceUrl", "expected an absolute URL");
    }
    const amount = creditsToBaseUnits(priceCredits);
    await ready();
    const [built] = await server.buildPaymentRequirements({
      scheme: "exact",
      network: network as Network,
      payTo: treasury,
      price: { amount: amount.toString(), asset: usdcMint },
      maxTimeoutSeconds,
    });
    if (!built)
      throw new PaymentError("payment_unavailable", "the facilitator offers no exact scheme on this network");
    // A blockhash in the challenge spares the client its own RPC read.
    const { blockhash, lastValidBlockHeight } = await chain.latestBlockhash();
    const requirements: PaymentRequirements = {
      ...built,
      extra: {
        ...built.extra,
        recentBlockhash: blockhash,
        lastValidBlockHeight: lastValidBlockHeight.toString(),
      },
    };
    const paymentRequired = await server.createPaymentRequiredResponse(
      [requirements],
      {
        url: resourceUrl,
        description: args.description ?? "",
        mimeType: args.mimeType ?? "application/json",
      },
      args.error ?? "Payment required",
    );
    return {
      paymentRequired,
      requirements,
      header: encodePaymentRequiredHeader(paymentRequired),
      priceCredits,
      amountUsdcBaseUnits: amount,
      resourceUrl,
    };
  };

  const settle = async (
    paymentSignatureHeader: string | null | undefined,
    challenge: PaymentChallenge,
    settleOptions: SettleOptions = {},
  ): Promise<SettleResult> => {
    if (typeof paymentSignatureHeader !== "string" || paymentSignatureHeader === "") {
      return failure("payment_invalid", "no PAYMENT-SIGNATURE header");
    }
    let payload: PaymentPayload;
    try {
      payload = decodePaymentSignatureHeader(paymentSignatureHeader);
    } catch (error) {
      return failure("payment_invalid", "the PAYMENT-SIGNATURE header is not a base64 JSON payment", {
        cause: error,
      });
    }
    if (payload?.x402Version !== 2 || typeof payload.accepted !== "object" || payload.accepted === null) {
      return failure("payment_invalid", "not an x402 v2 payment payload");
    }
    if (payload.resource?.url !== challenge.resourceUrl) {
      return failure("payment_wrong_resource", `the payment is for ${String(payload.resource?.url)}`, {
        details: { paidFor: payload.resource?.url, resourceUrl: challenge.resourceUrl },
      });
    }
    const requirements = challenge.requirements;
    await ready();
    if (!server.findMatchingRequirements([requirements], payload)) {
      return failure(...acceptedMismatch(payload.accepted, requirements));
    }

    const svmPayload = payload.payload as unknown as ExactSvmPayloadV2;
    let messageKey: string;
    let blockhash: string | undefined;
    try {
      const transaction = decodeTransactionFromPayload(svmPayload);
      messageKey = transactionMessageHash(transaction);
      blockhash = lifetimeBlockhash(svmPayload.transaction);
    } catch (error) {
      return failure("payment_invalid", "the payment transaction cannot be decoded", { cause: error });
    }
    if (inFlight.has(messageKey) || settled.has(messageKey)) {
      return failure("payment_replayed", "this payment transaction was already settled", {
        x402Reason: "duplicate_settlement",
        details: { transaction: settled.get(messageKey) },
      });
    }
    // After a restart the in-memory set is empty: ask the chain whether this exact transaction landed.
    // The fee payer's Ed25519 signature over the message is deterministic, so it names the transaction.
    const landed = await landedSignature(chain, svmPayload.transaction, requirements, network);
    if (landed) {
      settled.set(messageKey, landed);
      return failure("payment_replayed", "this payment transaction was already settled", {
        x402Reason: "duplicate_settlement",
        details: { transaction: landed },
      });
    }

    inFlight.add(messageKey);
    try {
      const verified = await server.verifyPayment(payload, requirements);
      if (!verified.isValid) {
        const reason = verified.invalidReason;
        const code =
          reason === X402_SIMULATION_FAILED
            ? await simulationCause(chain, verified.payer, requirements, blockhash, verified.invalidMessage)
            : codeForX402Reason(reason);
        return failure(code, verified.invalidMessage ?? reason ?? "payment verification failed", {
          x402Reason: reason,
          details: { payer: verified.payer },
        });
      }
      if (settleOptions.beforeSettle) {
        const signature = await feePayerSignature(chain, svmPayload.transaction, requirements, network);
        try {
          await settleOptions.beforeSettle({ signature, payer: verified.payer ?? "" });
        } catch (error) {
          return failure("payment_unavailable", "the payment could not be recorded before settling", {
            cause: error,
          });
        }
      }
      const response = await server.settlePayment(payload, requirements);
      if (!response.success) {
        const reason = response.errorReason;
        let code = codeForX402Reason(reason);
        if (code === "payment_invalid" && reason === X402_SIMULATION_FAILED) {
          code = await simulationCause(chain, response.payer, requirements, blockhash, response.errorMessage);
        }
        return failure(code, response.errorMessage ?? reason ?? "settlement failed", {
          x402Reason: reason,
          paymentResponseHeader: encodePaymentResponseHeader(response),
          details: { payer: response.payer, transaction: response.transaction || undefined },
        });
      }
      settled.set(messageKey, response.transaction);
      const amount = BigInt(requirements.amount);
      return {
        ok: true,
        transaction: response.transaction,
        payer: (response.payer ?? verified.payer ?? "") as Address,
        network,
        amountUsdcBaseUnits: amount,
        credits: baseUnitsToCredits(amount),
        resourceUrl: challenge.resourceUrl,
        paymentResponseHeader: encodePaymentResponseHeader(response),
        settleResponse: response,
      };
    } catch (error) {
      return failure("payment_unavailable", "the facilitator failed", { cause: error });
    } finally {
      inFlight.delete(messageKey);
    }
  };

  return { network, usdcMint, treasury, requirementFor, settle };
}

/** The default facilitator: `x402Facilitator` with the exact SVM scheme, in this process. */
function inProcessFacilitator(chain: SettlementChain, network: string): FacilitatorClient {
  const facilitator = new x402Facilitator();
  registerExactSvmScheme(facilitator, { signer: chain.facilitatorSigner, networks: network as Network });
  return {
    verify: (payload, requirements) => facilitator.verify(payload, requirements),
    settle: (payload, requirements) => facilitator.settle(payload, requirements),
    // x402Facilitator.getSupported is synchronous; FacilitatorClient wants a promise.
    getSupported: async () => facilitator.getSupported() as SupportedResponse,
  };
}

/** Why the client's `accepted` does not match what we asked, most specific first. */
function acceptedMismatch(
  accepted: PaymentRequirements,
  requirements: PaymentRequirements,
): [PaymentErrorCode, string, FailureOptions] {
  const details = { accepted: { ...accepted }, required: { ...requirements } };
  if (accepted.asset !== requirements.asset) {
    return [
      "payment_wrong_asset",
      `the payment is in ${accepted.asset}, not ${requirements.asset}`,
      { details },
    ];
  }
  if (accepted.amount !== requirements.amount) {
    return [
      "payment_wrong_amount",
      `the payment is for ${accepted.amount}, not ${requirements.amount}`,
      { details },
    ];
  }
  if (accepted.payTo !== requirements.payTo) {
    return ["payment_wrong_recipient", `the payment goes to ${accepted.payTo}`, { details }];
  }
  return ["payment_invalid", "the payment accepted other terms (scheme, network or fee payer)", { details }];
}

/** The base58 signature the transaction will have once the fee payer signs it (Ed25519 is deterministic). */
async function feePayerSignature(
  chain: SettlementChain,
  transaction: string,
  requirements: PaymentRequirements,
  network: string,
): Promise<string | undefined> {
  const feePayer = requirements.extra?.feePayer;
  if (typeof feePayer !== "string") return undefined;
  try {
    const signed = await chain.facilitatorSigner.signTransaction(transaction, feePayer as Address, network);
    return transactionSignature(decodeWireTransaction(signed));
  } catch {
    // Not ours to sign (wrong fee payer) or undecodable: verification will say so.
    return undefined;
  }
}

/** The signature of this payment transaction if the chain already has it. */
async function landedSignature(
  chain: SettlementChain,
  transaction: string,
  requirements: PaymentRequirements,
  network: string,
): Promise<string | undefined> {
  const signature = await feePayerSignature(chain, transaction, requirements, network);
  try {
    if (signature && (await chain.signatureStatus(signature)) === "succeeded") return signature;
  } catch {
    // The chain could not tell: verification and the facilitator's replay cache decide.
  }
  return undefined;
}

/** A failed simulation, explained from the chain: expired blockhash, then the payer's balance. */
async function simulationCause(
  chain: SettlementChain,
  payer: string | undefined,
  requirements: PaymentRequirements,
  blockhash: string | undefined,
  message: string | undefined,
): Promise<PaymentErrorCode> {
  try {
    if (blockhash !== undefined && !(await chain.isBlockhashValid(blockhash))) return "payment_expired";
    if (message?.includes("AlreadyProcessed")) return "payment_replayed";
    if (payer && (await chain.usdcBalance(payer as Address)) < BigInt(requirements.amount)) {
      return "payment_insufficient_funds";
    }
  } catch {
    // The chain could not tell; the payment stays refused as invalid.
  }
  return "payment_invalid";
}

function lifetimeBlockhash(base64: string): string | undefined {
  const compiled = getCompiledTransactionMessageDecoder().decode(decodeWireTransaction(base64).messageBytes);
  return compiled.lifetimeToken;
}

interface FailureOptions {
  cause?: unknown;
  details?: Readonly<Record<string, unknown>>;
  x402Reason?: string | undefined;
  paymentResponseHeader?: string;
}

function failure(code: PaymentErrorCode, message: string, options: FailureOptions = {}): PaymentFailure {
  const details = { ...options.details, ...(options.x402Reason ? { x402Reason: options.x402Reason } : {}) };
  return {
    ok: false,
    error: new PaymentError(code, message, { cause: options.cause, details }),
    x402Reason: options.x402Reason,
    paymentResponseHeader: options.paymentResponseHeader,
  };
}

function argument(name: string, message: string): never {
  throw new PaymentError("payment_argument_invalid", `${name}: ${message}`, { details: { argument: name } });
}
