export { type BuyCreditsArguments, buyCredits, type CreditsPurchase } from "./buy-credits.js";
export { X402_ERRORS_DOCS, X402Error, type X402ErrorCode, type X402ErrorOptions } from "./errors.js";
export {
  createPayingFetch,
  type FetchFunction,
  type PayingFetch,
  type PayingFetchOptions,
  type PaymentEvent,
  readPaymentResponse,
} from "./paying-fetch.js";
export { createSolanaSigner } from "./solana-signer.js";
export { formatUsdc, USDC_MINTS, usdcToBaseUnits } from "./usdc.js";
