// The executors layer's public surface (SPEC §8, docs/executors.md): building an executor from a registry
// entry, checking a config, running one attempt under its deadline, the output check every attempt passes,
// and the contract a program implements to write its own executor. The kinds' internals stay inside.
export { checkOutputLimits } from "./output.js";
export { type CreateExecutorOptions, createExecutor, validateExecutorConfig } from "./registry.js";
export { type AttemptResult, runAttempt } from "./run-attempt.js";
export type {
  AttemptContext,
  ExecuteRequest,
  Executor,
  ExecutorCheck,
  ExecutorConfigRecord,
} from "./types.js";
