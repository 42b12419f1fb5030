// Scale (PostgreSQL): does throughput or the claim query degrade with history in the tables, and what does a
// worker hold in memory with a deep queue? History and queues are made by running (or submitting) a small
// template of real runs through the kernel, then copying its rows in SQL with fresh ids, so every row is one
// the kernel itself wrote.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type Store, startWorker } from "../src/index.js";
import { PG_URL, withAdmin } from "./bench-env.js";
import { stepThroughput, submitMany, type ThroughputResult } from "./throughput.js";

const TABLES = ["runs", "run_steps", "run_step_attempts", "run_events"] as const;

/** Copies every row of the run tables `copies` times, suffixing run_id and step_id with `~<copy>`. */
export async function multiplyRows(schema: string, copies: number): Promise<void> {
  if (copies <= 0) return;
  await withAdmin(async (c) => {
    await c.query(`SET search_path = "${schema}"`);
    await c.query("SET statement_timeout = 0");
    for (const table of TABLES) {
      const { rows } = await c.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
        [schema, table],
      );
      const cols = rows.map((r) => r.column_name).filter((col) => !(table === "run_events" && col === "id"));
      const exprs = cols.map((col) => (col === "run_id" || col === "step_id" ? `${col} || '~' || g` : col));
      // In slices, so one statement never holds millions of rows in flight.
      for (let from = 1; from <= copies; from += 50) {
        const to = Math.min(copies, from + 49);
        await c.query(
          `INSERT INTO ${table} (${cols.join(", ")})
           SELECT ${exprs.join(", ")} FROM ${table} t, generate_series($1::int, $2::int) g
           WHERE t.run_id NOT LIKE '%~%'`,
          [from, to],
        );
      }
    }
    for (const table of TABLES) await c.query(`VACUUM ANALYZE ${table}`);
  });
}

export interface ScalePoint extends ThroughputResult {
  historySteps: number;
  fillSeconds: number;
}

/**
 * Throughput and claim latency with `historySteps` finished steps (and their runs, attempts and events:
 * 10 steps, 10 attempts and 23 events per run) already stored.
 */
export async function throughputWithHistory(
  store: Store,
  schema: string,
  historySteps: number,
  runs: number,
): Promise<ScalePoint> {
  const t0 = Date.now();
  if (historySteps > 0) {
    const templateRuns = Math.min(100, historySteps / 10);
    const ids = Array.from({ length: templateRuns }, (_, i) => `hist-${i}`);
    await submitMany(store, ids, 10, true);
    await startWorker(store, { concurrency: 64, exitWhenIdle: true }).done;
    await multiplyRows(schema, Math.round(historySteps / (templateRuns * 10)) - 1);
  }
  const fillSeconds = (Date.now() - t0) / 1000;
  const result = await stepThroughput(store, "postgres", {
    mode: "queued",
    runs,
    agents: 10,
    concurrency: 64,
    prefix: "scale",
  });
  return { ...result, historySteps, fillSeconds };
}

export interface MemoryResult {
  queuedSteps: number;
  windowSeconds: number;
  baselineRssMb: number;
  peakRssMb: number;
  peakHeapMb: number;
  completedInWindow: number;
}

/**
 * Worker memory with a deep queue: `queuedSteps` QUEUED steps (runs of 10), then a separate worker process
 * (bench/rss-worker.ts: startWorker, concurrency 64) runs for `windowSeconds` and reports its own memory.
 */
export async function memoryWithQueue(
  store: Store,
  schema: string,
  queuedSteps: number,
  windowSeconds: number,
): Promise<MemoryResult> {
  const ids = Array.from({ length: 10 }, (_, i) => `queued-${i}`);
  await submitMany(store, ids, 10, true);
  await multiplyRows(schema, queuedSteps / 100 - 1);
  const script = fileURLToPath(new URL("./rss-worker.ts", import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: { ...process.env, RSS_PG_URL: PG_URL, RSS_PG_SCHEMA: schema },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const samples: { rss: number; heap: number; completed: number; baseline: boolean }[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    try {
      samples.push(JSON.parse(line));
    } catch {
      // not a sample
    }
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  let firstWork = 0;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    if (!firstWork && samples.some((s) => !s.baseline)) firstWork = Date.now();
    if (firstWork && Date.now() - firstWork >= windowSeconds * 1000) break;
  }
  child.kill("SIGTERM");
  await exited;
  const mb = (b: number) => b / 1024 / 1024;
  const work = samples.filter((s) => !s.baseline);
  return {
    queuedSteps,
    windowSeconds,
    baselineRssMb: mb(samples.find((s) => s.baseline)?.rss ?? 0),
    peakRssMb: mb(Math.max(0, ...work.map((s) => s.rss))),
    peakHeapMb: mb(Math.max(0, ...work.map((s) => s.heap))),
    completedInWindow: Math.max(0, ...work.map((s) => s.completed)),
  };
}
