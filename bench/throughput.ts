// Step throughput: R runs × A instant `sim` agents, submitted CREATED, worked by one in-process worker
// (startWorker at a given concurrency), in two modes: "queued" (every run kicked off first, like the peers'
// pre-enqueued jobs; steps/s from the worker's start to the last RUN_FINALIZED) and "live" (kicked off by 16
// concurrent callers while the worker runs; from the first kickoff). Also counts the statements sent per
// completed step and times the claim query.

import {
  kickoffRun,
  type RunSpec,
  type Store,
  startWorker,
  submitRun,
  validateRunSpec,
} from "../src/index.js";
import { CLAIM_STEPS } from "../src/store/postgres/run-queries.js";
import {
  inParallel,
  type Percentiles,
  percentiles,
  queryCounts,
  resetQueryCounts,
  sleep,
  timeStatement,
  withAdmin,
} from "./bench-env.js";
import { currentLsn, type WriteCounts, writesOrNull } from "./writes.js";

/**
 * Samples what the benchmark's active backends (its application_name; other users of a shared server are left
 * out) wait on, every 100 ms, until stopped:
 * "CPU" for none, else wait_event_type:wait_event. Shares of all samples.
 */
function sampleWaits(): { stop: () => Promise<Record<string, number>> } {
  const tally = new Map<string, number>();
  let running = true;
  // A terminated sampler connection (shared server) ends the sampling early instead of the benchmark.
  const loop = withAdmin(async (c) => {
    while (running) {
      const { rows } = await c.query<{ w: string; n: number }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS w, count(*)::int AS n
         FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()
           AND application_name = current_setting('application_name')
         GROUP BY 1`,
      );
      for (const r of rows) tally.set(r.w, (tally.get(r.w) ?? 0) + r.n);
      await sleep(100);
    }
  }).catch(() => {});
  return {
    stop: async () => {
      running = false;
      await loop;
      const total = [...tally.values()].reduce((a, b) => a + b, 0) || 1;
      return Object.fromEntries([...tally].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / total]));
    },
  };
}

export function instantSpec(runId: string, agents: number, taskType = "bench"): RunSpec {
  const checked = validateRunSpec({
    run_id: runId,
    task_type: taskType,
    shared_inputs: { question: "A or B?" },
    agents: Array.from({ length: agents }, (_, i) => ({
      agent_id: `agent-${i + 1}`,
      prompt: "",
      executor: "sim",
      inputs: { _sim: { accuracy: 0.8, truth: "A", options: ["A", "B"], latency_ms: 0 } },
    })),
    retry: { max_attempts: 1, backoff_ms: 0 },
  });
  if (!checked.ok) throw new Error(`bench spec invalid: ${JSON.stringify(checked.issues)}`);
  return checked.spec;
}

/** Submits the runs (kicked off or not), 32 transactions in flight. */
export async function submitMany(
  store: Store,
  runIds: readonly string[],
  agents: number,
  kickoff: boolean,
): Promise<void> {
  await inParallel(runIds, 32, (id) => submitRun(store, instantSpec(id, agents), kickoff));
}

export interface ThroughputResult {
  kind: string;
  /**
   * "queued": every run was kicked off before the worker started (pre-enqueued, like the peers' jobs); t0 is the
   * worker's start. "live": the runs are kicked off by 16 concurrent callers while the worker runs; t0 is the
   * first kickoff.
   */
  mode: "queued" | "live";
  /** The worker's concurrency: how many steps it holds leased at once (runs saved before it was swept: 64). */
  concurrency: number;
  runs: number;
  steps: number;
  seconds: number;
  stepsPerSec: number;
  /** Time until every kickoff transaction had committed. */
  kickoffSeconds: number;
  /** Statements the worker sent per completed step (kickoffs and the bench's own polling taken out). */
  queriesPerStep: number;
  kickoffStatementsPerRun: number;
  /** BEGIN/COMMIT per step, the kickoff transactions taken out. */
  txControlPerStep: number;
  claim: Percentiles;
  claims: number;
  finalized: number;
  /** PostgreSQL only: what active backends waited on during the run (share of samples). */
  serverWaits: Record<string, number>;
  /** PostgreSQL only: what the worker wrote per step (WAL of the schema), null when not measured. */
  writes?: WriteCounts | null;
}

export interface ThroughputOptions {
  mode: "queued" | "live";
  runs: number;
  agents: number;
  concurrency: number;
  prefix: string;
  /** PostgreSQL: the store's schema, to count what the worker writes (bench/writes.ts). */
  writesSchema?: string;
}

/** Polls until no step is queued or leased; returns how many polls (statements) it sent. */
async function waitIdle(store: Store): Promise<number> {
  let polls = 1;
  while (await store.hasPendingWork()) {
    polls += 1;
    await sleep(50);
  }
  return polls;
}

/** Reads each run back (every run must be terminal): the last finished_at and the FINALIZED count. */
async function lastFinishedAt(
  store: Store,
  runIds: readonly string[],
): Promise<{ at: number; finalized: number }> {
  let at = 0;
  let finalized = 0;
  await inParallel(runIds, 8, async (id) => {
    const run = await store.getRun(id);
    if (!run?.finished_at) throw new Error(`run ${id} did not finish (${run?.status})`);
    if (run.status === "FINALIZED") finalized += 1;
    at = Math.max(at, Date.parse(run.finished_at));
  });
  return { at, finalized };
}

export async function stepThroughput(
  store: Store,
  kind: string,
  opts: ThroughputOptions,
): Promise<ThroughputResult> {
  const runIds = Array.from({ length: opts.runs }, (_, i) => `${opts.prefix}-${String(i).padStart(6, "0")}`);
  await submitMany(store, runIds, opts.agents, false);
  // One kickoff alone first: its statement count is taken out of the per-step figure below.
  resetQueryCounts();
  await kickoffRun(store, runIds[0] as string);
  const kickoffStatements = queryCounts().queries;
  const live = opts.mode === "live";
  let kickoffSeconds = 0;
  if (!live) {
    const k0 = Date.now();
    await inParallel(runIds.slice(1), 16, (id) => kickoffRun(store, id));
    kickoffSeconds = (Date.now() - k0) / 1000;
  }
  const claimTimer = timeStatement(CLAIM_STEPS);
  const walFrom = opts.writesSchema ? await currentLsn().catch(() => null) : null;
  resetQueryCounts();
  let t0 = Date.now();
  const { worker, done } = startWorker(store, { concurrency: opts.concurrency });
  const waits = kind === "postgres" ? sampleWaits() : null;
  if (live) {
    await sleep(300); // the worker is up and idle
    resetQueryCounts();
    t0 = Date.now();
    await inParallel(runIds.slice(1), 16, (id) => kickoffRun(store, id));
    kickoffSeconds = (Date.now() - t0) / 1000;
  }
  const polls = await waitIdle(store);
  const counted = queryCounts();
  const serverWaits = waits ? await waits.stop() : {};
  claimTimer.stop();
  const { at, finalized } = await lastFinishedAt(store, runIds);
  worker.stop();
  await done;
  const steps = opts.runs * opts.agents;
  const writes = opts.writesSchema ? await writesOrNull(opts.writesSchema, walFrom, steps) : null;
  const seconds = (at - t0) / 1000;
  return {
    kind,
    mode: opts.mode,
    concurrency: opts.concurrency,
    runs: opts.runs,
    steps,
    seconds,
    stepsPerSec: steps / seconds,
    kickoffSeconds,
    queriesPerStep: (counted.queries - polls - (live ? kickoffStatements * (opts.runs - 1) : 0)) / steps,
    txControlPerStep: (counted.txControl - (live ? 2 * (opts.runs - 1) : 0)) / steps,
    kickoffStatementsPerRun: kickoffStatements,
    claim: percentiles(claimTimer.samples),
    claims: claimTimer.samples.length,
    finalized,
    serverWaits,
    writes,
  };
}
