// The legal transitions of runs and steps (SPEC §4), as data: the one table. It lives in the store layer
// because the adapters' SQL is built from it (the claim, the lazy start, lease closes and the reads of leased
// and claimable steps), and the store may not import the kernel; `src/kernel/states.ts` re-exports it and
// is where the kernel reads it. Every guarded update takes its `from` set and its target status from here:
// the kernel passes them to RunTx, and the adapters' SQL texts are composed from these constants of the code
// when their modules load (never from input).
import type { RunStatus, StepStatus } from "../vocab.js";

export type RunTransition = "kickoff" | "start" | "cancel" | "finalize" | "fail" | "reexplore" | "retry";

export const RUN_TRANSITIONS: Readonly<
  Record<RunTransition, { readonly from: readonly RunStatus[]; readonly to: RunStatus }>
> = {
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

export const STEP_TRANSITIONS: Readonly<
  Record<StepTransition, { readonly from: readonly StepStatus[]; readonly to: StepStatus }>
> = {
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

/** The statuses a claim takes steps from (due ones): the claimable steps. */
export const CLAIMABLE_STEP_STATUSES: readonly StepStatus[] = STEP_TRANSITIONS.claim.from;

/** The status of a step whose lease is held: what a claim leaves it in. */
export const LEASE_HELD: StepStatus = STEP_TRANSITIONS.claim.to;

/**
 * The transitions that end a lease with an outcome: RunTx.closeLeases writes exactly these (a completion, a
 * retryable or final failure, an expiry). Release and cancel end leases too, as guarded step updates.
 */
export const LEASE_CLOSES: readonly StepTransition[] = [
  "complete",
  "retryWait",
  "fail",
  "expireRetry",
  "expireFail",
];

/** The (from, to) pairs closeLeases may write, each once. */
export const LEASE_CLOSE_PAIRS: readonly (readonly [StepStatus, StepStatus])[] = [
  ...new Map(
    LEASE_CLOSES.flatMap((t) =>
      STEP_TRANSITIONS[t].from.map(
        (from) => [`${from}>${STEP_TRANSITIONS[t].to}`, [from, STEP_TRANSITIONS[t].to]] as const,
      ),
    ),
  ).values(),
];

// closeLeases reports `was` as the lease-held status without reading it back: every lease close must start there.
for (const [from] of LEASE_CLOSE_PAIRS) {
  if (from !== LEASE_HELD)
    throw new Error(`transitions: a lease close starts from ${from}, not ${LEASE_HELD}`);
}

/**
 * Statuses as SQL text: `column = 'A'` for one, `column IN ('A', 'B')` for several, exactly as a partial index
 * predicate of the migrations writes them (so the planners still match those indexes). Only for constants of
 * this module (statuses of the code), never for input: each value must be a plain upper-case status name.
 */
export function sqlStatusIs(column: string, statuses: readonly string[]): string {
  for (const s of statuses) if (!/^[A-Z_]+$/.test(s)) throw new Error(`not a status: ${JSON.stringify(s)}`);
  if (statuses.length === 0) throw new Error("sqlStatusIs: no status");
  if (statuses.length === 1) return `${column} = ${sqlStatus(statuses[0] as string)}`;
  return `${column} IN (${statuses.map(sqlStatus).join(", ")})`;
}

/** One status as an SQL string literal (a constant of the code, checked like sqlStatusIs). */
export function sqlStatus(status: string): string {
  if (!/^[A-Z_]+$/.test(status)) throw new Error(`not a status: ${JSON.stringify(status)}`);
  return `'${status}'`;
}

/** LEASE_CLOSE_PAIRS as SQL: `(was, now) IN (VALUES ('A', 'B'), …)` for two column expressions. */
export function sqlLeaseClosePair(was: string, now: string): string {
  const rows = LEASE_CLOSE_PAIRS.map(([f, t]) => `(${sqlStatus(f)}, ${sqlStatus(t)})`).join(", ");
  return `(${was}, ${now}) IN (VALUES ${rows})`;
}
