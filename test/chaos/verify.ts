// What the chaos suite checks afterwards, from the tables alone (issue 9): every run terminal, exactly one
// RUN_FINALIZED per run, no SUCCEEDED attempt lost, no STALE result applied, each step's attempts consistent
// with its events, the stored decision equal to a re-aggregation of the stored attempts, and a killed
// worker's step claimable again within the recovery bound (docs/operations.md "Recovery time": L + H plus
// one expiry sweep, while the database is reachable).
import { isDeepStrictEqual } from "node:util";
import { reaggregateRun } from "../../src/kernel/reaggregate.js";
import type { Store } from "../../src/store/port.js";
import type { AttemptRecord, EventRecord, StepRecord } from "../../src/store/run-port.js";
import { TERMINAL_RUN_STATUSES } from "../../src/vocab.js";

export interface KillRecord {
  worker_id: string;
  /** Epoch ms of the SIGKILL. */
  at: number;
}

/** A span (epoch ms) in which the database was down: PostgreSQL restarting. */
export interface OutageWindow {
  from: number;
  to: number;
}

export interface TableFigures {
  runs: number;
  steps: number;
  attempts: number;
  kills: number;
  lease_expiries: number;
  /**
   * Expiries of a worker that was alive when its lease ended (never killed, or killed later): it lost the lease
   * through failed heartbeats (cut connections) or stalls, and its late result, if any, was fenced off.
   */
  live_worker_expiries: number;
  /** Expired attempts whose step was claimed again. */
  recoveries: number;
  stale_results: number;
  /**
   * Killed-worker attempts: SIGKILL → the lease expired and the step became claimable again (the start of the
   * expiry transaction, its `finished_at`). Kills whose recovery window overlaps a database outage are left
   * out: they are in `max_kill_to_claimable_across_outage_ms`.
   */
  max_kill_to_claimable_ms: number;
  /** Every expired attempt: the end of its lease → the start of the transaction that expired it. */
  max_lease_end_to_claimable_ms: number;
  /** Kills whose recovery bound window overlapped a database outage: not checked against the bound. */
  kills_across_outage: number;
  max_kill_to_claimable_across_outage_ms: number;
  /** SIGKILL → the next attempt of that step started. */
  max_kill_to_reclaim_ms: number;
}

export interface VerifyOptions {
  runs: number;
  kills: readonly KillRecord[];
  leaseMs: number;
  claimableWithinMs: number;
  /** Database outages (PostgreSQL restarts): the recovery bound assumes a reachable database. */
  outages?: readonly OutageWindow[];
}

const ms = (iso: string | null): number => (iso === null ? Number.NaN : Date.parse(iso));

/** The lease end the expiry recorded in the attempt's error ("… ended at <lease_until>"), epoch ms. */
function leaseEndOf(a: AttemptRecord): number {
  const m = /ended at (\S+)$/.exec(a.error_text ?? "");
  return m ? Date.parse(m[1] as string) : Number.NaN;
}

function expiredAttempt(a: AttemptRecord): boolean {
  return a.status === "LEASE_EXPIRED" || (a.status === "STALE" && a.closed_as === "LEASE_EXPIRED");
}

function checkStep(
  step: StepRecord,
  attempts: AttemptRecord[],
  events: EventRecord[],
  problem: (msg: string) => void,
): void {
  const where = `step ${step.step_id} (${step.run_id}/${step.agent_id})`;
  const byEvent = (type: string) =>
    events.filter((e) => e.event_type === type && e.payload.step_id === step.step_id).length;
  const closed = attempts.filter((a) => a.status !== "RUNNING");
  if (closed.length !== attempts.length) problem(`${where}: an attempt is still RUNNING`);
  if (byEvent("STEP_LEASED") !== closed.length) {
    problem(`${where}: ${byEvent("STEP_LEASED")} STEP_LEASED events for ${closed.length} closed attempts`);
  }
  const expired = attempts.filter(expiredAttempt).length;
  if (byEvent("STEP_LEASE_EXPIRED") !== expired) {
    problem(
      `${where}: ${byEvent("STEP_LEASE_EXPIRED")} STEP_LEASE_EXPIRED events for ${expired} expired attempts`,
    );
  }
  const current = attempts.find((a) => a.attempt_seq === step.attempt_seq);
  if (step.status === "SUCCEEDED") {
    // The applied result is the current attempt's, and that attempt is not a STALE one.
    if (current?.status !== "SUCCEEDED")
      problem(`${where}: SUCCEEDED but attempt ${step.attempt_seq} is ${current?.status}`);
    else if (!isDeepStrictEqual(current.result, step.result))
      problem(`${where}: result differs from its attempt's`);
  }
  for (const a of attempts) {
    if (a.status !== "SUCCEEDED" || a.attempt_seq === step.attempt_seq) continue;
    // A SUCCEEDED attempt that is not the step's current one must belong to an earlier round.
    if (a.round >= step.round)
      problem(`${where}: SUCCEEDED attempt ${a.attempt_seq} lost (round ${a.round})`);
  }
}

export async function verifyChaos(
  store: Store,
  o: VerifyOptions,
): Promise<{ figures: TableFigures; problems: string[] }> {
  const problems: string[] = [];
  const problem = (msg: string) => {
    if (problems.length < 50) problems.push(msg);
  };
  const killedAt = new Map(o.kills.map((k) => [k.worker_id, k.at]));
  const acrossOutage = (kill: number) =>
    (o.outages ?? []).some((w) => kill <= w.to && kill + o.claimableWithinMs >= w.from);
  const terminal: readonly string[] = TERMINAL_RUN_STATUSES;
  const figures: TableFigures = {
    runs: 0,
    steps: 0,
    attempts: 0,
    kills: o.kills.length,
    lease_expiries: 0,
    live_worker_expiries: 0,
    recoveries: 0,
    stale_results: 0,
    max_kill_to_claimable_ms: 0,
    max_lease_end_to_claimable_ms: 0,
    kills_across_outage: o.kills.filter((k) => acrossOutage(k.at)).length,
    max_kill_to_claimable_across_outage_ms: 0,
    max_kill_to_reclaim_ms: 0,
  };
  const runs = await store.listRuns({ limit: o.runs + 10 });
  if (runs.length !== o.runs) problem(`${runs.length} runs stored, ${o.runs} submitted`);
  for (const run of runs) {
    figures.runs += 1;
    if (!terminal.includes(run.status)) problem(`run ${run.run_id} is ${run.status}`);
    const [steps, attempts, events] = await Promise.all([
      store.getSteps(run.run_id),
      store.getAttempts(run.run_id),
      store.listEvents(run.run_id, { limit: 100_000 }),
    ]);
    const finalized = events.filter((e) => e.event_type === "RUN_FINALIZED").length;
    if (finalized !== 1) problem(`run ${run.run_id}: ${finalized} RUN_FINALIZED events`);
    figures.steps += steps.length;
    figures.attempts += attempts.length;
    for (const step of steps) {
      const own = attempts
        .filter((a) => a.step_id === step.step_id)
        .sort((a, b) => a.attempt_seq - b.attempt_seq);
      checkStep(step, own, events, problem);
      own.forEach((a, i) => {
        if (a.status === "STALE") figures.stale_results += 1;
        if (!expiredAttempt(a)) return;
        figures.lease_expiries += 1;
        const next = own[i + 1];
        if (next) figures.recoveries += 1;
        const leaseEnd = leaseEndOf(a);
        const lag = ms(a.finished_at) - leaseEnd;
        if (Number.isFinite(lag))
          figures.max_lease_end_to_claimable_ms = Math.max(figures.max_lease_end_to_claimable_ms, lag);
        const kill = killedAt.get(a.worker_id);
        // Only the leases a kill left behind measure recovery from it; the others ended while their worker lived.
        if (kill === undefined || leaseEnd < kill) {
          figures.live_worker_expiries += 1;
          return;
        }
        const claimable = ms(a.finished_at) - kill;
        if (acrossOutage(kill)) {
          figures.max_kill_to_claimable_across_outage_ms = Math.max(
            figures.max_kill_to_claimable_across_outage_ms,
            claimable,
          );
        } else {
          figures.max_kill_to_claimable_ms = Math.max(figures.max_kill_to_claimable_ms, claimable);
        }
        if (claimable > o.claimableWithinMs && !acrossOutage(kill)) {
          problem(
            `step ${step.step_id}: claimable again ${claimable} ms after the kill (limit ${o.claimableWithinMs})`,
          );
        }
        if (next)
          figures.max_kill_to_reclaim_ms = Math.max(
            figures.max_kill_to_reclaim_ms,
            ms(next.started_at) - kill,
          );
      });
    }
    if (run.status === "FINALIZED" || run.status === "FAILED") {
      const again = await reaggregateRun(store, run.run_id);
      if (!isDeepStrictEqual(again.final_decision, run.result?.final_decision)) {
        problem(
          `run ${run.run_id}: stored decision ${JSON.stringify(run.result?.final_decision)} ≠ re-aggregated ${JSON.stringify(again.final_decision)}`,
        );
      }
    }
  }
  return { figures, problems };
}
