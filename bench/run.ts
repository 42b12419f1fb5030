// The performance benchmark of issue 8: WattSwarm side by side with graphile-worker and pg-boss on the same
// PostgreSQL, in one invocation, with the database floor, latency and scale. Writes docs/benchmarks.md and
// docs/benchmarks.svg.
//   npm run bench            (full: 2,000 runs, 20,000 peer jobs, 500 latency runs, 100k rows; several minutes)
//   npm run bench -- --report (rewrite docs/benchmarks.md from bench/last-run.json, written by every full run)
//   npm run bench -- --quick (200 runs, 2,000 peer jobs, 100 latency runs, 50-run scale points, 10k queued;
//                              under 2 minutes on an idle machine; prints only, unless --write)
// PostgreSQL: WATTSWARM_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), in schemas named
// wattswarm_perf_*, all dropped at the end; SQLite: a temporary file.
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, type } from "node:os";
import {
  dropAllBenchSchemas,
  freshBenchStore,
  installQueryCounter,
  log,
  terminated,
  tolerateTerminatedConnections,
  withAdmin,
} from "./bench-env.js";
import { databaseFloor } from "./floor.js";
import { runLatency } from "./latency.js";
import { bestPeers, graphilePickup, runPeerSweep } from "./peers.js";
import {
  benchmarksMarkdown,
  benchmarksSvg,
  bestQueued,
  f0,
  type Machine,
  type Measurements,
} from "./report.js";
import { memoryWithQueue, type ScalePoint, throughputWithHistory } from "./scale.js";
import { stepThroughput, type ThroughputResult } from "./throughput.js";
import { walInspectable } from "./writes.js";

const quick = process.argv.includes("--quick");
const LAST_RUN = new URL(
  `./last-run${process.argv.includes("--quick") ? "-quick" : ""}.json`,
  import.meta.url,
);
// `--only throughput,latency`: just these parts, printed, nothing written (for working on one figure).
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? "").split(",")) : null;
const PARTS = ["floor", "throughput", "peers", "latency", "scale", "memory"];
if (only && [...only].some((p) => !PARTS.includes(p))) {
  process.stderr.write(`--only takes a comma-separated list of: ${PARTS.join(", ")}\n`);
  process.exit(2);
}
const write = !quick || process.argv.includes("--write");
const with1M = process.argv.includes("--1m");
const CONCURRENCY = 64;
// The worker's concurrency in the pre-enqueued mode is swept like the peers' settings (up to 1000, the largest
// local queue graphile-worker is given in full mode); the live mode stays at CONCURRENCY.
const QUEUED_CONCURRENCIES = quick ? [64, 1000] : [64, 256, 1000];
const RUNS = quick ? 200 : 2_000;
const JOBS = quick ? 2_000 : 20_000;
const LATENCY_RUNS = quick ? 100 : 500;
const SCALE_RUNS = quick ? 50 : 500;
const SCALE_LEVELS = quick
  ? [0, 10_000, 100_000]
  : with1M
    ? [0, 10_000, 100_000, 1_000_000]
    : [0, 10_000, 100_000];
const QUEUED = quick ? 10_000 : 100_000;
const RSS_WINDOW_S = quick ? 5 : 15;

async function machine(): Promise<Machine> {
  const postgres = await withAdmin(async (c) => {
    const { rows } = await c.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return `PostgreSQL ${rows[0]?.v ?? "?"}`;
  });
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    memoryGb: totalmem() / 1024 ** 3,
    node: process.version,
    postgres,
    platform: `${type()} ${release()}`,
    loadStart: loadavg(),
    loadEnd: [],
    terminatedConnections: 0,
    date: `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
  };
}

async function throughputOn(
  kind: "postgres" | "sqlite",
  mode: "queued" | "live",
  concurrency: number,
): Promise<ThroughputResult> {
  const bench = await freshBenchStore(kind, `throughput_${kind}_${mode}_${concurrency}`);
  try {
    const r = await stepThroughput(bench.store, kind, {
      mode,
      runs: RUNS,
      agents: 10,
      concurrency,
      prefix: "tp",
      ...(kind === "postgres" && mode === "queued" ? { writesSchema: bench.where } : {}),
    });
    const w = r.writes;
    log(
      `[${kind} ${mode}, concurrency ${concurrency}] ${r.steps} steps in ${r.seconds.toFixed(1)} s: ${Math.round(r.stepsPerSec)} steps/s, ${r.queriesPerStep.toFixed(2)} statements/step` +
        (w
          ? `; per step ${w.inserted} inserted, ${w.updated} updated (${w.hot} HOT), ${w.deleted} deleted heap tuples, ${w.locked} row locks, ${w.indexEntries} index entries, ${w.walBytes} WAL bytes`
          : ""),
    );
    return r;
  } finally {
    await bench.close();
  }
}

/**
 * Both stores, pre-enqueued first (the figure comparable with the peers) at every swept concurrency, then
 * kicked off while running.
 */
async function allThroughput(): Promise<ThroughputResult[]> {
  const out: ThroughputResult[] = [];
  for (const kind of ["postgres", "sqlite"] as const) {
    for (const concurrency of QUEUED_CONCURRENCIES) out.push(await throughputOn(kind, "queued", concurrency));
    out.push(await throughputOn(kind, "live", CONCURRENCY));
  }
  return out;
}

function timeGoes(m: Omit<Measurements, "machine"> & { machine: Machine }): string[] {
  const pg = bestQueued(m.throughput, "postgres");
  const live = m.throughput.find((t) => t.kind === "postgres" && t.mode === "live");
  const out: string[] = [];
  if (pg) {
    out.push(
      `Round trips: the worker sends ${pg.queriesPerStep.toFixed(2)} statements per completed step on PostgreSQL (fastest pre-enqueued run, worker concurrency ${pg.concurrency}; ${pg.txControlPerStep.toFixed(2)} of them BEGIN/COMMIT), against ${m.peers.map((p) => `${p.queriesPerJob.toFixed(2)} for ${p.name}${p.variant === "local-queue" ? " with its local queue" : ""}`).join(", ")}. Completions are group-committed: results that arrive while a commit is in flight are recorded together by the next transaction (attempts closed, steps written and events appended by one statement each, each run settled once), and statements are named prepared statements, planned once per connection. A kickoff is ${pg.kickoffStatementsPerRun} round trips (one transaction per run); in the live mode they share the server with the worker${live ? ` (${f0(live.stepsPerSec)} steps/s live at concurrency ${live.concurrency} against ${f0(pg.stepsPerSec)} pre-enqueued at ${pg.concurrency})` : ""}.`,
      `A step still writes more than a job of the peers: its step row twice (claim and outcome, each a non-HOT update because the status moves between partial indexes), an attempt row (insert and update), two event rows, and its run row is updated for the start, each event_seq bump and the finalization.`,
      `Claims: p50 ${pg.claim.p50.toFixed(1)} ms, p95 ${pg.claim.p95.toFixed(1)} ms over ${pg.claims} claim statements (${(pg.steps / Math.max(1, pg.claims)).toFixed(1)} steps per claim): the loop claims up to its free slots in one statement, so claims are few and large; they are not where the time goes.`,
      `Server side (pg_stat_activity sampled every 100 ms, active backends of this database, bench sampler excluded): ${Object.entries(
        pg.serverWaits,
      )
        .slice(0, 6)
        .map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`)
        .join(
          ", ",
        )}. "CPU" means running, not waiting; Lock:transactionid / Lock:tuple are row-lock waits (run rows, agent_reputation rows); IO:WALSync / LWLock:WALWrite are commits waiting for the WAL flush.`,
      `The pool: the worker shares 10 connections between claims, heartbeats and up to ${pg.concurrency} concurrent completions; the floor uses 64 connections. With ${m.machine.cpus} CPUs shared by PostgreSQL, Node and other processes, CPU is the ceiling for every system here.`,
    );
  }
  return out;
}

/** What keeps the figures where they are (the measured parts filled in). */
function limits(m: Omit<Measurements, "machine"> & { machine: Machine }): string[] {
  const pg = bestQueued(m.throughput, "postgres");
  const sqlite = bestQueued(m.throughput, "sqlite");
  const out: string[] = [];
  if (pg)
    out.push(
      `CPU, not round trips or locks: at ${pg.queriesPerStep.toFixed(2)} statements per step the backends are mostly running (${((pg.serverWaits.CPU ?? 0) * 100).toFixed(0)}% of samples "CPU") and both CPUs are busy between PostgreSQL and the one Node process. What a step costs is rows: two non-HOT updates of its step row (the status moves between partial indexes, so every index of run_steps gets a new entry twice), an attempt insert and update, two event rows (none of them checks a foreign key since migration 006) and its share of the run row's updates, all WAL-logged and fsynced at commit. graphile-worker with its local queue deletes a job in a batched statement and keeps nothing; the target that compares against it asks a step with its audit trail to cost as little as a no-op job without one.`,
    );
  if (sqlite)
    out.push(
      `SQLite (${f0(sqlite.stepsPerSec)} steps/s) is one process doing the database's work on its own event loop: the same rows per step as on PostgreSQL, JSON parsed and serialized for every step and attempt read or written, and one writer at a time. The 10,000 steps/s target would need about 100 µs of CPU per step for claim, execution, completion and aggregation together.`,
    );
  out.push(
    `Latency: submit→FINALIZED is a submit transaction, a NOTIFY, a claim, three executions and one or two group-committed completions; each transaction pays a WAL flush (synchronous_commit on) and every statement a round trip through the kernel's socket layer, which is slow on this virtual machine (writev is the largest single item in the worker's CPU profile).`,
  );
  return out;
}

async function main(): Promise<void> {
  if (process.argv.includes("--report")) {
    const read = JSON.parse(readFileSync(LAST_RUN, "utf8")) as Measurements;
    // Runs saved before the worker's concurrency was swept measured it at 64 only and did not record it.
    const saved: Measurements = {
      ...read,
      throughput: read.throughput.map((t) => ({ ...t, concurrency: t.concurrency ?? 64 })),
    };
    const doc = benchmarksMarkdown(saved, { timeGoes: timeGoes(saved), limits: limits(saved) });
    writeFileSync(new URL("../docs/benchmarks.md", import.meta.url), doc);
    writeFileSync(new URL("../docs/benchmarks.svg", import.meta.url), benchmarksSvg(saved));
    log("rewrote docs/benchmarks.md and docs/benchmarks.svg from the last full run");
    return;
  }
  const began = Date.now();
  installQueryCounter();
  tolerateTerminatedConnections();
  const mc = await machine();
  log(
    `bench (${quick ? "quick" : "full"}): ${mc.cpus} × ${mc.cpuModel}, ${mc.node}, ${mc.postgres}, load ${mc.loadStart.map((l) => l.toFixed(2)).join(" ")}`,
  );
  await dropAllBenchSchemas();
  if (!(await walInspectable()))
    log(
      "pg_walinspect is not available (PostgreSQL 15+ and a superuser are needed): write counts are left out",
    );
  try {
    if (only) {
      await onlyParts(only);
      return;
    }
    const floor = await databaseFloor(JOBS, CONCURRENCY);
    log(
      `[floor] ${floor.rows} rows in ${floor.seconds.toFixed(1)} s: ${Math.round(floor.rowsPerSec)} rows/s`,
    );

    const throughput = await allThroughput();

    const peerRuns = await runPeerSweep(JOBS, CONCURRENCY, quick, log);
    const peers = bestPeers(peerRuns);

    const latStore = await freshBenchStore("postgres", "latency");
    const latency = await runLatency(latStore.store, LATENCY_RUNS).finally(() => latStore.close());
    log(`[latency] submit→FINALIZED p50 ${latency.finalize.p50} ms, pickup p50 ${latency.pickup.p50} ms`);
    const gPickup = await graphilePickup(LATENCY_RUNS);
    log(`[latency] graphile-worker add→start p50 ${gPickup.p50.toFixed(1)} ms`);

    const scale: ScalePoint[] = [];
    for (const level of SCALE_LEVELS) {
      const s = await freshBenchStore("postgres", `scale_${level}`);
      try {
        const point = await throughputWithHistory(s.store, s.where, level, SCALE_RUNS);
        log(
          `[scale ${level}] fill ${point.fillSeconds.toFixed(1)} s; ${Math.round(point.stepsPerSec)} steps/s; claim p50 ${point.claim.p50.toFixed(1)} ms`,
        );
        scale.push(point);
      } finally {
        await s.close();
      }
    }
    const scaleNote = SCALE_LEVELS.includes(1_000_000)
      ? ""
      : quick
        ? "1M finished rows are measured only in full mode with `--1m`."
        : "1M finished rows were not measured in this invocation (run `npm run bench -- --1m`; filling takes several minutes on this machine).";

    const memStore = await freshBenchStore("postgres", "memory");
    const memory = await memoryWithQueue(memStore.store, memStore.where, QUEUED, RSS_WINDOW_S).finally(() =>
      memStore.close(),
    );
    log(
      `[memory] ${memory.queuedSteps} queued: RSS ${memory.baselineRssMb.toFixed(0)} → peak ${memory.peakRssMb.toFixed(0)} MB`,
    );

    mc.loadEnd = loadavg();
    mc.terminatedConnections = terminated.count;
    const partial = {
      mode: quick ? ("quick" as const) : ("full" as const),
      machine: mc,
      floor,
      throughput,
      peers,
      peerSweep: peerRuns,
      latency,
      graphilePickup: gPickup,
      scale,
      scaleNote,
      memory,
      seconds: (Date.now() - began) / 1000,
    };
    // The measurements, so the report can be rewritten without measuring again (npm run bench -- --report).
    writeFileSync(LAST_RUN, `${JSON.stringify(partial, null, 2)}\n`);
    const doc = benchmarksMarkdown(partial, { timeGoes: timeGoes(partial), limits: limits(partial) });
    process.stdout.write(`${doc}\n`);
    if (write) {
      writeFileSync(new URL("../docs/benchmarks.md", import.meta.url), doc);
      writeFileSync(new URL("../docs/benchmarks.svg", import.meta.url), benchmarksSvg(partial));
      log("wrote docs/benchmarks.md and docs/benchmarks.svg");
    }
  } finally {
    const dropped = await dropAllBenchSchemas();
    if (dropped.length > 0) log(`dropped leftover schemas: ${dropped.join(", ")}`);
  }
}

async function onlyParts(parts: Set<string>): Promise<void> {
  if (parts.has("floor")) {
    const floor = await databaseFloor(JOBS, CONCURRENCY);
    log(
      `[floor] ${floor.rows} rows in ${floor.seconds.toFixed(1)} s: ${Math.round(floor.rowsPerSec)} rows/s`,
    );
  }
  if (parts.has("throughput")) {
    for (const t of await allThroughput()) {
      log(
        `[${t.kind} ${t.mode}, concurrency ${t.concurrency}] kickoff ${t.kickoffSeconds.toFixed(1)} s; claims ${t.claims} (p50 ${t.claim.p50.toFixed(1)} ms); waits ${JSON.stringify(t.serverWaits)}`,
      );
    }
  }
  if (parts.has("peers")) {
    for (const p of bestPeers(await runPeerSweep(JOBS, CONCURRENCY, quick, log)))
      log(`[best ${p.variant}] ${p.settings}: ${Math.round(p.jobsPerSec)} jobs/s`);
  }
  if (parts.has("latency")) {
    const latStore = await freshBenchStore("postgres", "latency");
    const latency = await runLatency(latStore.store, LATENCY_RUNS).finally(() => latStore.close());
    log(
      `[latency] submit→FINALIZED p50/p95 ${latency.finalize.p50}/${latency.finalize.p95} ms, pickup p50/p95 ${latency.pickup.p50}/${latency.pickup.p95} ms`,
    );
    log(`[latency] graphile-worker add→start p50 ${(await graphilePickup(LATENCY_RUNS)).p50.toFixed(1)} ms`);
  }
  if (parts.has("scale") || parts.has("memory")) log("scale and memory run only in the whole benchmark");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
