// The legal transitions of runs and steps (SPEC §4), as data. Every guarded update in the stores takes its
// allowed "from" set from here, so the state machines are written down once.
import { type RunStatus, type StepStatus, TERMINAL_RUN_STATUSES } from "../vocab.js";

export {
  ACTIVE_STEP_STATUSES,
  ATTEMPT_STATUSES,
  type AttemptStatus,
  RUN_STATUSES,
  type RunStatus,
  STEP_STATUSES,
  type StepStatus,
  TERMINAL_RUN_STATUSES,
} from "../vocab.js";

export type RunTransition = "kickoff" | "start" | "cancel" | "finalize" | "fail" | "reexplore" | "retry";

export const RUN_TRANSITIONS: Record<RunTransition, { from: readonly RunStatus[]; to: RunStatus }> = {
  kickoff: { from: ["CREATED"], to: "QUEUED" },
  start: { from: ["QUEUED"], to: "RUNNING" },
  cancel: { from: ["CREATED", "QUEUED", "RUNNING"], to: "CANCELLED" },
  finalize: { from: ["QUEUED", "RUNNING"], to: "FINALIZED" },
  fail: { from: ["QUEUED", "RUNNING"], to: "FAILED" },
  reexplore: { from: ["QUEUED", "RUNNING"], to: "QUEUED" },
  retry: { from: ["FAILED", "QUEUED", "RUNNING"], to: "QUEUED" },
};

export type StepTransition =
  | "kickoff"
  | "claim"
  | "complete"
  | "retryWait"
  | "fail"
  | "expireRetry"
  | "expireFail"
  | "release"
  | "cancel"
  | "retry"
  | "reexplore";

export const STEP_TRANSITIONS: Record<StepTransition, { from: readonly StepStatus[]; to: StepStatus }> = {
  kickoff: { from: ["CREATED"], to: "QUEUED" },
  claim: { from: ["QUEUED", "RETRY_WAIT"], to: "LEASED" },
  complete: { from: ["LEASED"], to: "SUCCEEDED" },
  retryWait: { from: ["LEASED"], to: "RETRY_WAIT" },
  fail: { from: ["LEASED"], to: "FAILED" },
  expireRetry: { from: ["LEASED"], to: "RETRY_WAIT" },
  expireFail: { from: ["LEASED"], to: "FAILED" },
  release: { from: ["LEASED"], to: "QUEUED" },
  cancel: { from: ["CREATED", "QUEUED", "LEASED", "RETRY_WAIT"], to: "CANCELLED" },
  retry: { from: ["FAILED", "RETRY_WAIT"], to: "QUEUED" },
  reexplore: { from: ["SUCCEEDED", "FAILED", "CANCELLED"], to: "QUEUED" },
};

export function isTerminalRun(status: RunStatus): boolean {
  return (TERMINAL_RUN_STATUSES as readonly RunStatus[]).includes(status);
}

export function canRun(transition: RunTransition, status: RunStatus): boolean {
  return RUN_TRANSITIONS[transition].from.includes(status);
}

export function canStep(transition: StepTransition, status: StepStatus): boolean {
  return STEP_TRANSITIONS[transition].from.includes(status);
}

export const EVENT_TYPES = [
  "RUN_CREATED",
  "RUN_KICKOFF",
  "RUN_CANCEL_REQUESTED",
  "RUN_FINALIZED",
  "RUN_TIE_REEXPLORE_TRIGGERED",
  "RUN_NULL_REEXPLORE_TRIGGERED",
  "RUN_RETRY_REQUESTED",
  "STEP_LEASED",
  "STEP_COMPLETED",
  "STEP_RETRY_WAIT",
  "STEP_LEASE_EXPIRED",
  "STEP_RELEASED",
  "STEP_CANCELLED",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Step statuses as the `counts` object of a RunView names them. */
export const COUNT_KEYS: Record<StepStatus, string> = {
  CREATED: "created",
  QUEUED: "queued",
  LEASED: "leased",
  SUCCEEDED: "succeeded",
  FAILED: "failed",
  RETRY_WAIT: "retry_wait",
  CANCELLED: "cancelled",
};
