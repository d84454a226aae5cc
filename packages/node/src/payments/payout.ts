import type { Address, TransactionSigner } from "@solana/kit";
import { ChainError } from "../chain/errors.js";
import type { SettlementChain, SignedTransfer } from "../chain/settlement-chain.js";
import { creditsToBaseUnits } from "../chain/usdc.js";
import { PaymentError } from "./errors.js";
import type { ConfirmedPayout, PayoutRecorder } from "./payment-recorder.js";

/** Arguments of {@link payout}. */
export interface PayoutArguments {
  readonly chain: SettlementChain;
  /** The treasury's signer: owner of the USDC paid out; pays the fee. */
  readonly from: TransactionSigner;
  /** The worker's wallet; its USDC account is created if missing. */
  readonly to: Address;
  /** Credits to pay out (1 credit = 10,000 USDC base units), a positive integer. */
  readonly credits: number;
  /** Written to the transfer's memo as `peercycles:payout:<reference>`. Default: a random one. */
  readonly reference?: string;
  /** Records the payout once it is confirmed, never before. */
  readonly recorder?: PayoutRecorder;
  /** Called with the signed transfer before it is sent (to record the attempt against its signature). */
  readonly onSigned?: (signed: SignedTransfer) => Promise<void>;
}

/**
 * Pays a worker: a real SPL TransferChecked of USDC from the treasury, confirmed before it returns the
 * signature. If the transfer does not land it throws `payout_failed` and records nothing, so the ledger
 * never marks unpaid work as paid; with a `recorder`, the payout is recorded only after confirmation.
 *
 * @example
 * ```ts
 * const { transaction } = await payout({ chain, from: chain.treasurySigner, to: worker, credits: 250 });
 * ```
 */
export async function payout(args: PayoutArguments): Promise<ConfirmedPayout> {
  const { chain, from, to, credits } = args;
  if (!Number.isSafeInteger(credits) || credits <= 0) {
    throw new PaymentError(
      "payment_argument_invalid",
      `credits: expected a positive integer, got ${credits}`,
      {
        details: { argument: "credits" },
      },
    );
  }
  const reference = args.reference ?? randomReference();
  if (!/^[\w.:-]{1,100}$/.test(reference)) {
    throw new PaymentError("payment_argument_invalid", "reference: 1-100 characters of [A-Za-z0-9_.:-]", {
      details: { argument: "reference" },
    });
  }
  const amount = creditsToBaseUnits(credits);
  let signature: string;
  try {
    const receipt = await chain.transferUsdc({
      from,
      to,
      amount,
      memo: `peercycles:payout:${reference}`,
      ...(args.onSigned ? { onSigned: args.onSigned } : {}),
    });
    signature = receipt.signature;
    if ((await chain.signatureStatus(signature)) !== "succeeded") {
      throw new ChainError("chain_transaction_failed", `payout ${signature} is not confirmed`);
    }
  } catch (error) {
    throw new PaymentError("payout_failed", `the payout of ${credits} credits to ${to} did not land`, {
      cause: error,
      details: { to, credits, reference, ...(ChainError.isInstance(error) ? { chain: error.details } : {}) },
    });
  }
  const confirmed: ConfirmedPayout = {
    transaction: signature,
    to,
    amountUsdcBaseUnits: amount,
    credits,
    reference,
  };
  await args.recorder?.recordPayout(confirmed);
  return confirmed;
}

function randomReference(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");
}
