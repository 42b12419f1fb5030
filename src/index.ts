// The public library API. The CLI is a thin shell over these same functions: everything `wattswarm` does, a
// program can do in code.
//
//   const store = await openStore(resolveStoreConfig({ env: process.env }));
//   await store.migrate();
//   const checked = validateRunSpec(json, { knownExecutors: (await store.listExecutors()).map((e) => e.name) });
//   if (checked.ok) await submitRun(store, checked.spec, true);
//   await startWorker(store, { concurrency: 16, exitWhenIdle: true }).done;
import type { Store } from "./store/port.js";
import { resolveWorkerOptions, type WorkerOptionsInput } from "./worker/options.js";
import { Worker } from "./worker/worker.js";

export {
  canonicalJson,
  checkEarlyStop,
  decide,
  normalizeBallot,
  stochasticPick,
} from "./aggregation/index.js";
export type {
  AggregationInput,
  AggregationResult,
  AggregationSignal,
  Decision,
} from "./aggregation/types.js";
export { type ErrorCode, EXIT_CODES, isWattswarmError, WattswarmError } from "./errors.js";
export * from "./executors/index.js";
export {
  cancelRun,
  type EventView,
  type FeedbackOutcome,
  type FollowEventsOptions,
  type FollowRunOptions,
  followEvents,
  followRun,
  getRunResult,
  getRunView,
  kickoffRun,
  listReputation,
  listRunEvents,
  listRunViews,
  type ReaggregateOptions,
  type ReputationView,
  RUN_TRANSITIONS,
  type RunTransition,
  type RunView,
  reaggregateRun,
  recordFeedback,
  replayRun,
  retryRun,
  STEP_TRANSITIONS,
  type StepCounts,
  type StepTransition,
  type SubmitOutcome,
  showReputation,
  submitRun,
} from "./kernel/index.js";
export {
  type Capabilities,
  createRuntime,
  type ExecuteHandler,
  type ExecuteResult,
  type Runtime,
  type RuntimeContext,
  RuntimeError,
  type RuntimeHandler,
  type RuntimeOptions,
  type VerifyHandler,
  type VerifyRequest,
  type VerifyResult,
} from "./runtime/index.js";
export {
  parseRunSpecText,
  runSpecJsonSchema,
  type ValidationResult,
  validateRunSpec,
} from "./spec/index.js";
export type * from "./spec/types.js";
export {
  DEFAULT_DB_PATH,
  describeStoreConfig,
  type OpenStoreOptions,
  openStore,
  PostgresStore,
  resolveStoreConfig,
  SqliteStore,
  type Store,
  type StoreConfig,
} from "./store/index.js";
export type * from "./store/run-port.js";
export {
  ATTEMPT_STATUSES,
  type AttemptErrorCode,
  type AttemptStatus,
  ERROR_CODES,
  EXECUTOR_KINDS,
  type ExecutionOutcome,
  type ExecutorKind,
  RUN_STATUSES,
  type RunStatus,
  STEP_STATUSES,
  type StepStatus,
  TERMINAL_RUN_STATUSES,
} from "./vocab.js";
export type { WorkerOptions, WorkerOptionsInput } from "./worker/options.js";
export { Worker } from "./worker/worker.js";

/**
 * Starts a worker over `store` with the options of `wattswarm run worker` (same defaults). `done` settles
 * when it stops: after `worker.stop()` (graceful), `once`, or `exitWhenIdle`.
 */
export function startWorker(
  store: Store,
  options: WorkerOptionsInput = {},
): { worker: Worker; done: Promise<void> } {
  const worker = new Worker(store, resolveWorkerOptions(options));
  return { worker, done: worker.run() };
}
