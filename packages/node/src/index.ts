/**
 * `@peercycles/node`: the reference orchestrator, workers (host + enclave process), validator,
 * double-entry ledger, storage, payments and the built-in model, behind the `peer-cycles` CLI.
 *
 * @example
 * ```ts
 * import { startNode } from "@peercycles/node";
 * const node = await startNode({ dev: true, port: 0 });
 * console.log(node.url, node.apiKey);
 * await node.close();
 * ```
 */
export * from "./chain/index.js";
export { main as runCli } from "./cli.js";
export * from "./dashboard/index.js";
export * from "./ledger/index.js";
export * from "./model/index.js";
export { summarizeBundle } from "./orchestrator/attestation-summary.js";
export { NodeError } from "./orchestrator/errors.js";
export {
  createHttpApp,
  type HttpAppOptions,
  MAX_BODY_BYTES,
  type PaymentHooks,
} from "./orchestrator/http.js";
export { createNodeMetrics, type NodeMetrics } from "./orchestrator/metrics.js";
export { NetworkFeed } from "./orchestrator/network-feed.js";
export {
  type JobEvent,
  Orchestrator,
  type OrchestratorOptions,
  type RunningJob,
} from "./orchestrator/orchestrator.js";
export {
  isEligible,
  type Route,
  routingScores,
  WorkerRegistry,
  type WorkerSession,
} from "./orchestrator/registry.js";
export * from "./payments/index.js";
export {
  type DevWallet,
  type PaymentService,
  type PaymentsChain,
  runPayoutCommand,
  type StartPaymentsOptions,
  startPayments,
} from "./payments-http.js";
export {
  type DevState,
  developmentAttestationPolicy,
  type NodeContext,
  type RunningNode,
  type StartNodeOptions,
  startNode,
} from "./start-node.js";
export type { JsonValue } from "./storage/index.js";
export * from "./storage/index.js";
export { NODE_VERSION } from "./version.js";
