// The kernel's public surface: run lifecycle transitions, the read side and the executor registry's administration.
export {
  type AttemptLease,
  expireLeases,
  type FinishOutcome,
  finishAttempt,
  leaseOf,
  releaseAttempts,
} from "./attempts.js";
export { retryDelayMs } from "./backoff.js";
export {
  admitExecutor,
  assertExecutorName,
  type CheckOutcome,
  checkExecutor,
  type ExecutorPolicy,
  ExecutorPolicyError,
  type ExecutorRegistry,
  listExecutors,
  OPERATOR_EXECUTOR_POLICY,
  type RegisterExecutorInput,
  type RegisterOutcome,
  registerExecutor,
  removeExecutor,
  serverExecutorPolicy,
} from "./executor-admin.js";
export {
  FOLLOW_POLL_MS,
  type FollowEventsOptions,
  type FollowRunOptions,
  followEvents,
  followRun,
} from "./follow.js";
export { type FeedbackOutcome, listReputation, recordFeedback, showReputation } from "./knowledge.js";
export { cancelRun, kickoffRun, retryRun, type SubmitOutcome, submitRun } from "./lifecycle.js";
export { type EventView, getRunResult, getRunView, listRunEvents, listRunViews } from "./queries.js";
export { type ReaggregateOptions, reaggregateRun, replayRun } from "./reaggregate.js";
export { DEFAULT_UNITS, type ReputationView, reputationUnits } from "./reputation.js";
export type { RunView, StepCounts } from "./result.js";
export { type SettleOutcome, settleRun } from "./settle.js";
export * from "./states.js";
