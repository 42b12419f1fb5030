// Driving real runs for the decision-quality benchmark: fresh stores (a PostgreSQL schema, a SQLite temp
// file), bulk submission of sim-agent runs, and one in-process worker that processes them all.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import {
  openStore,
  type RunSpec,
  type Store,
  startWorker,
  submitRun,
  validateRunSpec,
} from "../src/index.js";

export const BENCH_PG_URL =
  process.env.WATTSWARM_BENCH_PG_URL?.trim() || "postgres://postgres@127.0.0.1:5432/test";

export type StoreKind = "postgres" | "sqlite";

/** Opens a fresh, migrated store: a PostgreSQL schema dropped and recreated, or a new SQLite file. */
export async function freshStore(kind: StoreKind, tag: string): Promise<Store> {
  if (kind === "sqlite") {
    const path = join(mkdtempSync(join(tmpdir(), "wattswarm-bench-")), `${tag}.db`);
    const store = await openStore({ kind: "sqlite", path, source: "flag" });
    await store.migrate();
    return store;
  }
  const schema = `wattswarm_bench_${tag}`.replace(/[^a-z0-9_]/g, "_");
  const admin = new pg.Client({ connectionString: BENCH_PG_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
  const store = await openStore(
    { kind: "postgres", url: BENCH_PG_URL, schema, source: "flag" },
    { poolMax: 20 },
  );
  await store.migrate();
  return store;
}

export interface SimAgent {
  agent_id: string;
  accuracy: number;
  /** Reported confidence (default: the accuracy, as the sim executor does). */
  confidence?: number;
}

export interface RunDraft {
  run_id: string;
  task_type: string;
  truth: string;
  agents: readonly SimAgent[];
  aggregation: Record<string, unknown>;
}

export function simSpec(d: RunDraft): RunSpec {
  const checked = validateRunSpec({
    run_id: d.run_id,
    task_type: d.task_type,
    shared_inputs: { question: "A or B?" },
    agents: d.agents.map((a) => ({
      agent_id: a.agent_id,
      prompt: "",
      executor: "sim",
      inputs: {
        _sim: {
          accuracy: a.accuracy,
          truth: d.truth,
          options: ["A", "B"],
          latency_ms: 0,
          ...(a.confidence === undefined ? {} : { confidence: a.confidence }),
        },
      },
    })),
    retry: { max_attempts: 1, backoff_ms: 0 },
    aggregation: d.aggregation,
  });
  if (!checked.ok) throw new Error(`bench spec invalid: ${JSON.stringify(checked.issues)}`);
  return checked.spec;
}

/** Submits every run (queued), then one worker processes them until the store is idle. */
export async function runAll(
  store: Store,
  drafts: readonly RunDraft[],
  concurrency: number,
): Promise<number> {
  const started = Date.now();
  for (let i = 0; i < drafts.length; i += 32) {
    await Promise.all(drafts.slice(i, i + 32).map((d) => submitRun(store, simSpec(d), true)));
  }
  await startWorker(store, { concurrency, pollMs: 20, exitWhenIdle: true }).done;
  return Date.now() - started;
}

export interface RunOutcome {
  run_id: string;
  truth: string;
  decision: string | null;
  /** Executor calls made (attempts opened). */
  calls: number;
  stepsSaved: number;
  /** Votes cast, and how many of them were the truth (the agents' own measured accuracy). */
  votes: number;
  votesRight: number;
}

export async function outcomes(store: Store, drafts: readonly RunDraft[]): Promise<RunOutcome[]> {
  const out: RunOutcome[] = [];
  for (const d of drafts) {
    const run = await store.getRun(d.run_id);
    const result = run?.result as
      | { final_decision: string | null; aggregation: { early_stop: { steps_saved: number } | null } }
      | null
      | undefined;
    if (!run || !result) throw new Error(`run ${d.run_id} did not finish (${run?.status})`);
    const attempts = await store.getAttempts(d.run_id);
    const votes = attempts.flatMap((a) =>
      a.status === "SUCCEEDED" ? [(a.result as { decision?: unknown } | null)?.decision] : [],
    );
    out.push({
      run_id: d.run_id,
      truth: d.truth,
      decision: result.final_decision,
      calls: attempts.filter((a) => a.status === "SUCCEEDED").length,
      stepsSaved: result.aggregation.early_stop?.steps_saved ?? 0,
      votes: votes.length,
      votesRight: votes.filter((v) => v === d.truth).length,
    });
  }
  return out;
}

export function accuracy(rows: readonly { truth: string; decision: string | null }[]): number {
  return rows.filter((r) => r.decision === r.truth).length / rows.length;
}

/** Deterministic truth per run index, so both options are the truth equally often. */
export function truthOf(i: number): string {
  return i % 2 === 0 ? "A" : "B";
}
