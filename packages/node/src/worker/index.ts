/**
 * The worker side of `@peercycles/node`: the worker host ({@link startWorker}), its enclave process
 * (forked by the host; keys, inference, sealing, signing) and the validator ({@link startValidator}).
 *
 * @example
 * ```ts
 * import { startValidator, startWorker } from "./worker/index.js";
 * const worker = await startWorker({ orchestrator: "http://127.0.0.1:8787", token: "pcw_…", tier: "confidential", enclave: "simulated" });
 * const validator = await startValidator({ orchestrator: "http://127.0.0.1:8787", token: "pcw_…" });
 * ```
 */
export type { ReconnectOptions } from "./connection.js";
export { workerEndpointUrl } from "./connection.js";
export { WORKER_ERRORS_DOCS, WorkerError, type WorkerErrorCode, type WorkerErrorOptions } from "./errors.js";
export { CHEAT_SUFFIX } from "./generation.js";
export {
  startWorker,
  type WorkerBackendOption,
  type WorkerEvent,
  type WorkerHandle,
  type WorkerOptions,
} from "./host.js";
export {
  INCONCLUSIVE_VERDICT_PREFIX,
  reexecute,
  startValidator,
  type ValidatorHandle,
  type ValidatorOptions,
} from "./validator.js";
