// Latency on an idle worker (PostgreSQL; the in-process worker with its defaults and concurrency 64, woken
// by NOTIFY): submit→FINALIZED of a 3-agent instant run, and enqueue→start of a single step. One run at a
// time; t0 is taken just before submitRun (which commits with kickoff), the end is read from the database
// (runs.finished_at, run_step_attempts.started_at: the claim time, millisecond precision, same host clock).
import { type Store, startWorker, submitRun } from "../src/index.js";
import { type Percentiles, percentiles, sleep } from "./bench-env.js";
import { instantSpec } from "./throughput.js";

export interface LatencyResult {
  finalize: Percentiles;
  pickup: Percentiles;
  /** The submit transaction alone (submitRun call to its commit), for reference. */
  submit: Percentiles;
}

async function waitTerminal(store: Store, runId: string): Promise<{ finishedAt: number }> {
  for (;;) {
    const run = await store.getRun(runId);
    if (run?.finished_at) return { finishedAt: Date.parse(run.finished_at) };
    await sleep(2);
  }
}

export async function runLatency(store: Store, n: number): Promise<LatencyResult> {
  const { worker, done } = startWorker(store, { concurrency: 64 });
  await sleep(500);
  const finalize: number[] = [];
  const pickup: number[] = [];
  const submit: number[] = [];
  // Warm-up: the first runs pay for connections and the executor lookup.
  for (let i = 0; i < 5; i++) {
    await submitRun(store, instantSpec(`lat-warm-${i}`, 3), true);
    await waitTerminal(store, `lat-warm-${i}`);
  }
  for (let i = 0; i < n; i++) {
    const id = `lat3-${i}`;
    const t0 = Date.now();
    await submitRun(store, instantSpec(id, 3), true);
    submit.push(Date.now() - t0);
    const { finishedAt } = await waitTerminal(store, id);
    finalize.push(finishedAt - t0);
    await sleep(5);
  }
  for (let i = 0; i < n; i++) {
    const id = `lat1-${i}`;
    const t0 = Date.now();
    await submitRun(store, instantSpec(id, 1), true);
    await waitTerminal(store, id);
    const [attempt] = await store.getAttempts(id);
    if (!attempt?.started_at) throw new Error(`run ${id}: no attempt`);
    pickup.push(Date.parse(attempt.started_at) - t0);
    await sleep(5);
  }
  worker.stop();
  await done;
  return { finalize: percentiles(finalize), pickup: percentiles(pickup), submit: percentiles(submit) };
}
