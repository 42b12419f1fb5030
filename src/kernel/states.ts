// The legal transitions of runs and steps (SPEC §4), as data. The table itself is
// src/store/transitions.ts (the adapters' SQL is composed from it, and the store may not import the kernel);
// this module is where the kernel reads it, and how it applies it: every guarded update takes its allowed
// "from" set and its target status from the table, and a guard that matches fewer rows than expected is
// reported (DESIGN §4), never ignored.
import type { RunPatch, RunTx, StepInputs, StepPatch } from "../store/run-port.js";
import {
  LEASE_CLOSES,
  RUN_TRANSITIONS,
  type RunTransition,
  STEP_TRANSITIONS,
  type StepTransition,
} from "../store/transitions.js";
import { type RunStatus, type StepStatus, TERMINAL_RUN_STATUSES } from "../vocab.js";

export {
  CLAIMABLE_STEP_STATUSES,
  LEASE_CLOSES,
  LEASE_HELD,
  RUN_TRANSITIONS,
  type RunTransition,
  STEP_TRANSITIONS,
  type StepTransition,
} from "../store/transitions.js";
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

/**
 * A guarded update that matched fewer rows than the transaction expected. Inside a transaction that holds the
 * rows' locks this is a bug: the code's view of the rows is wrong. The message names the rows, the transition
 * and the expected from-set.
 */
export class GuardMismatchError extends Error {
  override readonly name = "GuardMismatchError";
}

function mismatch(
  what: string,
  transition: string,
  from: readonly string[],
  matched: number,
  expected: number,
): GuardMismatchError {
  return new GuardMismatchError(
    `${what}: ${transition} guard matched ${matched} of ${expected} (expected status in [${from.join(", ")}])`,
  );
}

/**
 * RUN_TRANSITIONS[t] on a run row this transaction holds locked: status from the table, guarded by its
 * from-set; throws GuardMismatchError when the run was not in it.
 */
export async function moveRun(
  tx: RunTx,
  runId: string,
  transition: RunTransition,
  patch: Omit<RunPatch, "status"> = {},
): Promise<void> {
  const t = RUN_TRANSITIONS[transition];
  if (!(await tx.updateRun(runId, t.from, { ...patch, status: t.to })))
    throw mismatch(`run ${runId}`, `run ${transition}`, t.from, 0, 1);
}

/**
 * STEP_TRANSITIONS[t] on these steps (their rows locked by this transaction): status from the table, guarded
 * by its from-set; throws GuardMismatchError unless every one of them matched.
 */
export async function moveSteps(
  tx: RunTx,
  runId: string,
  stepIds: readonly string[],
  transition: StepTransition,
  patch: Omit<StepPatch, "status"> = {},
): Promise<void> {
  const t = STEP_TRANSITIONS[transition];
  const n = await tx.updateSteps(stepIds, t.from, { ...patch, status: t.to });
  if (n !== stepIds.length)
    throw mismatch(
      `run ${runId}: steps ${stepIds.join(", ")}`,
      `step ${transition}`,
      t.from,
      n,
      stepIds.length,
    );
}

/**
 * STEP_TRANSITIONS[t] on every step of the run in its from-set (the run row locked: nothing else moves
 * them); throws GuardMismatchError unless exactly `expected` steps matched.
 */
export async function moveRunSteps(
  tx: RunTx,
  runId: string,
  transition: StepTransition,
  expected: number,
  patch: Omit<StepPatch, "status"> = {},
): Promise<number> {
  const t = STEP_TRANSITIONS[transition];
  const n = await tx.updateRunSteps(runId, t.from, { ...patch, status: t.to });
  if (n !== expected) throw mismatch(`run ${runId}: its steps`, `step ${transition}`, t.from, n, expected);
  return n;
}

/** moveSteps where each step also gets its own inputs (one statement: re-explore). */
export async function moveStepsWithInputs(
  tx: RunTx,
  runId: string,
  steps: readonly StepInputs[],
  transition: StepTransition,
  patch: Omit<StepPatch, "status" | "inputs"> = {},
): Promise<void> {
  const t = STEP_TRANSITIONS[transition];
  const n = await tx.updateStepsWithInputs(steps, t.from, { ...patch, status: t.to });
  if (n !== steps.length)
    throw mismatch(`run ${runId}: its steps`, `step ${transition}`, t.from, n, steps.length);
}

/** The statuses RunTx.closeLeases writes from: those of the lease-closing transitions. */
const LEASE_CLOSE_FROM: readonly StepStatus[] = [
  ...new Set(LEASE_CLOSES.flatMap((t) => STEP_TRANSITIONS[t].from)),
];

/**
 * Throws GuardMismatchError when closeLeases wrote fewer of these steps (held locked by the transaction, with
 * the tokens it read) than it was given.
 */
export function expectLeasesClosed(
  what: string,
  steps: readonly { step_id: string }[],
  written: number,
): void {
  if (written !== steps.length)
    throw mismatch(
      `${what}: steps ${steps.map((s) => s.step_id).join(", ")}`,
      "lease close",
      LEASE_CLOSE_FROM,
      written,
      steps.length,
    );
}

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
