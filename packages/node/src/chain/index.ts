export {
  type EmbeddedChain,
  type EmbeddedChainOptions,
  type ProcessedTransaction,
  startEmbeddedChain,
} from "./embedded-chain.js";
export { CHAIN_ERRORS_DOCS, ChainError, type ChainErrorCode, type ChainErrorOptions } from "./errors.js";
export { generateWalletKey, type WalletKey, walletKeyFromSecret } from "./keys.js";
export {
  createLiteSvmFacilitatorSigner,
  type LiteSvmFacilitatorSignerOptions,
  type LiteSvmTransactionObserver,
} from "./litesvm-facilitator-signer.js";
export type {
  SettlementChain,
  SignedTransfer,
  TransferUsdcArguments,
  UsdcTransfer,
  UsdcTransferReceipt,
} from "./settlement-chain.js";
export { connectSolanaRpc, type SolanaRpcChain, type SolanaRpcChainOptions } from "./solana-rpc-chain.js";
export {
  baseUnitsToCredits,
  CREDIT_BASE_UNITS,
  creditsToBaseUnits,
  formatUsdc,
  isSolanaNetwork,
  SOLANA_DEVNET,
  SOLANA_MAINNET,
  SOLANA_TESTNET,
  type SolanaNetwork,
  USDC_BASE_UNITS,
  USDC_DECIMALS,
  USDC_MINTS,
  usdcToBaseUnits,
} from "./usdc.js";
