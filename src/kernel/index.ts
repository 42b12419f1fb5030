// The kernel's public surface: run lifecycle transitions and the read side.
export {
  type AttemptLease,
  expireLeases,
  type FinishOutcome,
  finishAttempt,
  leaseOf,
  releaseAttempts,
} from "./attempts.js";
export { retryDelayMs } from "./backoff.js";
export { cancelRun, kickoffRun, retryRun, type SubmitOutcome, submitRun } from "./lifecycle.js";
export { type EventView, getRunResult, getRunView, listRunEvents, listRunViews } from "./queries.js";
export type { RunView, StepCounts } from "./result.js";
export { type SettleOutcome, settleRun } from "./settle.js";
export * from "./states.js";
