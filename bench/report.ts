// docs/benchmarks.md and docs/benchmarks.svg from the measurements of bench/run.ts.

import type { Percentiles } from "./bench-env.js";
import type { FloorResult } from "./floor.js";
import type { LatencyResult } from "./latency.js";
import type { PeerResult } from "./peers.js";
import type { MemoryResult, ScalePoint } from "./scale.js";
import type { ThroughputResult } from "./throughput.js";
import { savedWideMarkdown } from "./wide-report.js";
import type { WriteCounts } from "./writes.js";

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  node: string;
  postgres: string;
  platform: string;
  loadStart: number[];
  loadEnd: number[];
  /** Connections of this benchmark terminated by other processes on the server (57P01). */
  terminatedConnections: number;
  date: string;
}

export interface Measurements {
  mode: "quick" | "full";
  machine: Machine;
  floor: FloorResult;
  throughput: ThroughputResult[];
  /** The best of each peer kind (bestPeers of the sweep): the rows compared against. */
  peers: PeerResult[];
  /** Every peer setting measured (runs before the sweep existed have none). */
  peerSweep?: PeerResult[];
  latency: LatencyResult;
  graphilePickup: Percentiles;
  scale: ScalePoint[];
  scaleNote: string;
  memory: MemoryResult;
  seconds: number;
}

export const f0 = (x: number) => Math.round(x).toLocaleString("en-US");
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const ms = (p: Percentiles) => `${f1(p.p50)} / ${f1(p.p95)} / ${f1(p.p99)}`;
const load = (l: number[]) => l.map(f2).join(", ");

/** A peer's kind; runs saved before PeerResult.variant existed are read by their settings. */
function variantOf(p: PeerResult): PeerResult["variant"] {
  if (p.variant) return p.variant;
  if (p.name === "pg-boss") return "pg-boss";
  return p.settings.startsWith("localQueue") ? "local-queue" : "default";
}

function peerLabel(p: PeerResult): string {
  const v = variantOf(p);
  return `${p.name}${v === "local-queue" ? " (local queue)" : v === "default" ? " (defaults)" : ""}`;
}

/**
 * A store's pre-enqueued run with the most steps/s: the worker's concurrency is swept like the peers' settings,
 * and this is the run compared with the peers and the targets.
 */
export function bestQueued(
  throughput: readonly ThroughputResult[],
  kind: string,
): ThroughputResult | undefined {
  return throughput
    .filter((t) => t.kind === kind && t.mode === "queued")
    .reduce<ThroughputResult | undefined>(
      (best, t) => (best === undefined || t.stepsPerSec > best.stepsPerSec ? t : best),
      undefined,
    );
}

const hotShare = (w: WriteCounts) => (w.updated > 0 ? pct(w.hot / w.updated) : "—");

/** Per-step (or per-job) write counts as table cells. */
function writeCells(w: WriteCounts | null | undefined): string {
  if (!w) return "n/a | n/a | n/a | n/a | n/a | n/a";
  return `${f2(w.inserted)} | ${f2(w.updated)} (${hotShare(w)} HOT) | ${f2(w.deleted)} | ${f2(w.locked)} | **${f2(w.indexEntries)}** | ${f0(w.walBytes)}`;
}

function writesSection(m: Measurements): string[] {
  const pgT = bestQueued(m.throughput, "postgres");
  const rows = [
    ...(pgT
      ? [
          `| **WattSwarm, postgres** (fastest pre-enqueued run above, worker concurrency ${pgT.concurrency}) | ${writeCells(pgT.writes)} |`,
        ]
      : []),
    ...m.peers.map((p) => `| ${peerLabel(p)}: ${p.settings} | ${writeCells(p.writes)} |`),
  ];
  if (!pgT?.writes && m.peers.every((p) => !p.writes)) return [];
  return [
    "## What a step writes (PostgreSQL)",
    "",
    "Counted from the write-ahead log of the measured runs above (`pg_walinspect` between two LSNs, only the records of the system's own schema: its tables, indexes and TOAST), divided by steps or jobs (bench/writes.ts). Heap tuples are row versions written; an update is HOT when it writes no index entry; row locks are `FOR UPDATE`-style locks that PostgreSQL logs; index entries are btree leaf inserts.",
    "",
    "| system | inserted | updated | deleted | row locks | index entries | WAL bytes |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...rows,
    "",
  ];
}

/** The concurrencies measured in the pre-enqueued mode (of one store, or of either), in order. */
const queuedConcurrencies = (m: Measurements, kind?: string) => [
  ...new Set(
    m.throughput
      .filter((t) => t.mode === "queued" && (kind === undefined || t.kind === kind))
      .map((t) => t.concurrency),
  ),
];

function wattswarmSettingsSection(m: Measurements): string[] {
  const best = ["postgres", "sqlite"]
    .map((kind) => bestQueued(m.throughput, kind))
    .filter((t): t is ThroughputResult => t !== undefined);
  return [
    "### WattSwarm's settings",
    "",
    `The worker's concurrency is swept like the peers' settings: the pre-enqueued runs above at concurrency ${queuedConcurrencies(m).join(", ")} on both stores (the live mode at 64 only), and WattSwarm is compared at its fastest (${best.map((t) => `${t.kind}: ${t.concurrency}`).join(", ")}). Concurrency is how many steps one worker holds leased at once (its claim batch is at most its free slots), so it is the counterpart of graphile-worker's local queue size, the jobs one worker fetches ahead and holds; graphile-worker's concurrency (its handlers running at once) stays at 64.`,
    "",
  ];
}

function sweepSection(m: Measurements): string[] {
  if (!m.peerSweep || m.peerSweep.length === 0) return [];
  return [
    "### The peers' settings",
    "",
    "Each peer is compared at its fastest setting measured in this invocation: graphile-worker's `localQueue.size` and `completeJobBatchDelay` (also used as `failJobBatchDelay`), pg-boss's `batchSize` and number of `work()` registrations.",
    "",
    "| peer | settings | jobs/s | statements per job | index entries per job |",
    "|---|---|---:|---:|---:|",
    ...m.peerSweep.map(
      (p) =>
        `| ${peerLabel(p)} | ${p.settings} | ${f0(p.jobsPerSec)}${m.peers.some((b) => b.settings === p.settings && b.jobsPerSec === p.jobsPerSec) ? " (best)" : ""} | ${f2(p.queriesPerJob)} | ${p.writes ? f2(p.writes.indexEntries) : "n/a"} |`,
    ),
    "",
  ];
}

export interface Bar {
  label: string;
  /** The setting the bar was measured at, written under it. */
  settings: string;
  value: number;
}

/** The floor, WattSwarm's fastest pre-enqueued run and its live run per store, and the best of each peer. */
export function bars(m: Measurements): Bar[] {
  return [
    {
      label: "DB floor",
      settings: `single-row SKIP LOCKED loop, ${m.floor.connections} connections`,
      value: m.floor.rowsPerSec,
    },
    ...m.throughput
      .filter((t) => t.mode === "live" || t === bestQueued(m.throughput, t.kind))
      .map((t) => ({
        label: `WattSwarm steps, ${t.kind}${t.mode === "live" ? " (kicked off live)" : ""}`,
        settings: `worker concurrency ${t.concurrency}${t.mode === "queued" && queuedConcurrencies(m, t.kind).length > 1 ? ` (fastest of ${queuedConcurrencies(m, t.kind).join(", ")})` : ""}`,
        value: t.stepsPerSec,
      })),
    ...m.peers.map((p) => ({
      label: peerLabel(p),
      settings: p.settings,
      value: p.jobsPerSec,
    })),
  ];
}

export function benchmarksSvg(m: Measurements): string {
  const rows = bars(m);
  const W = 760;
  // A bar and, under it, the setting it was measured at.
  const rowH = 46;
  const left = 290;
  const right = 110;
  const top = 50;
  const H = top + rows.length * rowH + 40;
  const max = Math.max(...rows.map((r) => r.value), 1);
  const colour = (label: string) =>
    label.startsWith("WattSwarm") ? "#1f77b4" : label.startsWith("DB floor") ? "#7f7f7f" : "#ff7f0e";
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="20" y="24" font-size="15">Throughput on one PostgreSQL ${m.machine.postgres.split(" ")[1] ?? ""} (${m.mode} mode; items/s at the settings under each bar)</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const w = ((W - left - right) * r.value) / max;
    out.push(
      `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${r.label}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 22}" fill="${colour(r.label)}"/>`,
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 17}">${f0(r.value)}/s</text>`,
      `<text x="${left}" y="${y + 38}" font-size="10" fill="#555">${r.settings}</text>`,
    );
  });
  out.push(
    `<text x="20" y="${H - 14}" fill="#555">Shared machine (${m.machine.cpus} CPUs, load ${load(m.machine.loadStart)} at start). SQLite is not on PostgreSQL, shown for scale. See docs/benchmarks.md.</text>`,
    "</svg>",
  );
  return `${out.join("\n")}\n`;
}

export interface Target {
  target: string;
  measured: string;
  met: boolean | null;
}

/** Issue 16's targets, each listed whether or not it was measured in this invocation. */
export function targets(m: Measurements): Target[] {
  const pgT = bestQueued(m.throughput, "postgres");
  const sqliteT = bestQueued(m.throughput, "sqlite");
  const gLocal = m.peers.find((p) => variantOf(p) === "local-queue");
  const empty = m.scale.find((s) => s.historySteps === 0);
  const deepest = [...m.scale].sort((a, b) => b.historySteps - a.historySteps)[0];
  const notMeasured = { measured: "not measured", met: null };
  const w = pgT?.writes;
  return [
    {
      target:
        "PostgreSQL pre-enqueued steps/s ≥ 1.0× graphile-worker with its local queue (its fastest setting measured)",
      ...(pgT && gLocal
        ? {
            measured: `${f0(pgT.stepsPerSec)} steps/s (worker concurrency ${pgT.concurrency}) vs ${f0(gLocal.jobsPerSec)} jobs/s (${gLocal.settings}): ${f2(pgT.stepsPerSec / gLocal.jobsPerSec)}×; ${pct(pgT.stepsPerSec / m.floor.rowsPerSec)} of the database floor`,
            met: pgT.stepsPerSec >= gLocal.jobsPerSec,
          }
        : notMeasured),
    },
    {
      target: "SQLite pre-enqueued steps/s ≥ 10,000",
      ...(sqliteT
        ? {
            measured: `${f0(sqliteT.stepsPerSec)} steps/s (worker concurrency ${sqliteT.concurrency})`,
            met: sqliteT.stepsPerSec >= 10_000,
          }
        : notMeasured),
    },
    {
      target: "submit→FINALIZED p50 ≤ 8 ms (3 instant agents, PostgreSQL)",
      measured: `${f1(m.latency.finalize.p50)} ms`,
      met: m.latency.finalize.p50 <= 8,
    },
    {
      target: "Pickup latency p50 ≤ graphile-worker's",
      measured: `${f1(m.latency.pickup.p50)} ms vs ${f1(m.graphilePickup.p50)} ms`,
      met: m.latency.pickup.p50 <= m.graphilePickup.p50,
    },
    {
      target: "Throughput at 1M finished steps within 10% of the empty-table figure",
      ...(empty && deepest && deepest !== empty
        ? {
            measured: `${f0(deepest.historySteps)} steps: ${f0(deepest.stepsPerSec)} vs ${f0(empty.stepsPerSec)} steps/s (${pct(deepest.stepsPerSec / empty.stepsPerSec)})${deepest.historySteps >= 1_000_000 ? "" : "; 1M not measured"}`,
            met: deepest.historySteps >= 1_000_000 ? deepest.stepsPerSec / empty.stepsPerSec >= 0.9 : null,
          }
        : notMeasured),
    },
    {
      target: "Rows and index entries written per step, and the HOT ratio, reported (PostgreSQL)",
      ...(pgT && w
        ? {
            measured: `${f2(w.indexEntries)} index entries, ${f2(w.inserted + w.updated + w.deleted)} heap tuples, ${hotShare(w)} HOT per step (worker concurrency ${pgT.concurrency})`,
            met: true,
          }
        : notMeasured),
    },
  ];
}

export function benchmarksMarkdown(m: Measurements, notes: { timeGoes: string[]; limits: string[] }): string {
  const floor = m.floor.rowsPerSec;
  const mc = m.machine;
  const pgT = bestQueued(m.throughput, "postgres");
  const pgLive = m.throughput.find((t) => t.kind === "postgres" && t.mode === "live");
  const vs = (x: number) => m.peers.map((p) => `${f2(x / p.jobsPerSec)}× ${peerLabel(p)}`).join(", ");
  const L = m.latency;
  const wide = savedWideMarkdown();
  return [
    "# Benchmarks",
    "",
    `Measured ${mc.date} in **${m.mode} mode** (${f0(m.seconds)} s). Reproduce:`,
    "",
    "```sh",
    "npm ci",
    "npm run bench              # full mode: writes docs/benchmarks.md and docs/benchmarks.svg",
    "npm run bench -- --quick   # under 2 minutes; prints only (add --write to record it here)",
    "npm run bench -- --1m      # full mode plus the 1M-finished-rows scale point (fills for several minutes)",
    "npm run bench -- --report  # rewrite this page from bench/last-run.json (the last full run) without measuring",
    "# PostgreSQL: WATTSWARM_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test); the bench",
    "# creates schemas named wattswarm_perf_* and drops them at the end.",
    "```",
    "",
    // A 1-minute load average above the CPU count means other work was competing for the CPUs at the start.
    ...(mc.loadStart[0] !== undefined && mc.loadStart[0] > mc.cpus
      ? [
          `> **Shared machine.** These figures were taken while other processes ran on the same machine (load`,
          `> average ${load(mc.loadStart)} at the start, ${load(mc.loadEnd)} at the end, on ${mc.cpus} CPUs). Absolute numbers`,
          "> are therefore low and noisy; the ratios between systems measured in the same invocation are the",
          "> meaningful part. Re-run on an idle machine before quoting them.",
        ]
      : [
          `> No other workload ran during this benchmark (load average ${load(mc.loadStart)} at the start, still decaying`,
          `> from earlier work; ${load(mc.loadEnd)} at the end, the benchmark's own; ${mc.cpus} CPUs). Every system shares the`,
          "> same two CPUs with PostgreSQL and the benchmark process itself.",
        ]),
    ...(mc.terminatedConnections > 0
      ? [
          `> ${mc.terminatedConnections} connection error(s) of this run were terminations by other processes (57P01).`,
        ]
      : []),
    "",
    "## Machine and settings",
    "",
    "| | |",
    "|---|---|",
    `| CPU | ${mc.cpus} × ${mc.cpuModel} |`,
    `| memory | ${f1(mc.memoryGb)} GB |`,
    `| OS | ${mc.platform} |`,
    `| Node | ${mc.node} |`,
    `| PostgreSQL | ${mc.postgres} (same host, TCP 127.0.0.1, server defaults: fsync and synchronous_commit on) |`,
    `| load average (1, 5, 15 min) | start ${load(mc.loadStart)}; end ${load(mc.loadEnd)} |`,
    `| WattSwarm worker | in-process \`startWorker\` (the library form of \`wattswarm run worker\`), concurrency ${queuedConcurrencies(m).join(", ")} pre-enqueued and 64 live (see WattSwarm's settings), defaults otherwise: poll 250 ms + NOTIFY, lease 20 s, pool of 10 connections |`,
    "| peers | graphile-worker 0.17.3, pg-boss 10.4.2 (the newest releases that run on Node 20), same process, their default pools (10) |",
    "",
    "## Throughput",
    "",
    `Floor of the database: ${f0(m.floor.rows)} rows claimed one per autocommit statement (\`UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1)\`) by ${m.floor.connections} connections: **${f0(floor)} rows/s** (${f1(m.floor.seconds)} s). Every figure below is also shown as a fraction of it. The floor is one row per transaction: a system that claims or completes many rows per transaction (graphile-worker's local queue with batched completion) can exceed 100%.`,
    "",
    "| system | work | items | time | items/s | of floor | statements per item |",
    "|---|---|---|---|---|---|---|",
    `| DB floor | single-row claim-and-update loop, 64 connections | ${f0(m.floor.rows)} | ${f1(m.floor.seconds)} s | ${f0(floor)} | 100% | 1 |`,
    ...m.throughput.map(
      (t) =>
        `| **WattSwarm, ${t.kind}** | ${f0(t.runs)} runs × 10 instant \`sim\` agents; ${t.mode === "queued" ? "pre-enqueued (kicked off before the worker started)" : "kicked off by 16 callers while the worker runs"}, worker concurrency ${t.concurrency}; ${t.mode === "queued" ? "worker start" : "first kickoff"} → last RUN_FINALIZED | ${f0(t.steps)} steps | ${f1(t.seconds)} s | **${f0(t.stepsPerSec)}**${t === bestQueued(m.throughput, t.kind) ? " (best)" : ""} | ${t.kind === "postgres" ? pct(t.stepsPerSec / floor) : "(not on PostgreSQL)"} | ${t.kind === "postgres" ? `${f2(t.queriesPerStep)} (of which ${f2(t.txControlPerStep)} BEGIN/COMMIT)` : "—"} |`,
    ),
    ...m.peers.map(
      (p) =>
        `| ${p.name} | ${p.settings}; no-op jobs, pre-enqueued | ${f0(p.jobs)} jobs | ${f1(p.seconds)} s | ${f0(p.jobsPerSec)} | ${pct(p.jobsPerSec / floor)} | ${f2(p.queriesPerJob)} |`,
    ),
    "",
    pgT
      ? `WattSwarm on PostgreSQL (its fastest pre-enqueued run, worker concurrency ${pgT.concurrency}) relative to the peers: ${vs(pgT.stepsPerSec)}. A WattSwarm step is not a no-op job: each one keeps its step row, an attempt row and two events (STEP_LEASED, STEP_COMPLETED), and every tenth completion aggregates the run and writes RUN_FINALIZED plus the reputation upsert; graphile-worker deletes a finished job, pg-boss moves it to \`completed\`. The pre-enqueued figure is the one comparable with the peers, whose jobs are enqueued before their workers start. ${pgLive ? `Kicked off live (16 callers, alongside the worker), the ${f0(pgLive.runs)} runs took ${f1(pgLive.seconds)} s, of which the kickoffs ${f1(pgLive.kickoffSeconds)} s; ` : ""}a kickoff transaction takes ${pgT.kickoffStatementsPerRun} round trips per run, not counted in the per-step figure.`
      : "",
    "",
    "Statements are counted by wrapping `pg.Client#query` in the benchmark process only (src/ is unchanged); the peers run in the same process, so their counts come from the same wrapper.",
    "",
    ...wattswarmSettingsSection(m),
    ...sweepSection(m),
    "![Throughput](benchmarks.svg)",
    "",
    ...writesSection(m),
    "## Latency (PostgreSQL, idle worker)",
    "",
    `One run at a time, ${L.finalize.n} runs each; t0 just before the submit call, the end read from the database (millisecond precision, same host clock). p50 / p95 / p99 in ms:`,
    "",
    "| measure | p50 / p95 / p99 (ms) | mean |",
    "|---|---|---|",
    `| WattSwarm submit→FINALIZED, 3 instant agents | ${ms(L.finalize)} | ${f1(L.finalize.mean)} |`,
    `| WattSwarm enqueue→start of one step (submit with kickoff → attempt started_at) | ${ms(L.pickup)} | ${f1(L.pickup.mean)} |`,
    `| graphile-worker add→start (defaults, concurrency 64) | ${ms(m.graphilePickup)} | ${f1(m.graphilePickup.mean)} |`,
    `| (WattSwarm submit transaction alone, 3 agents) | ${ms(L.submit)} | ${f1(L.submit.mean)} |`,
    "",
    "## Scale (PostgreSQL)",
    "",
    `History is made by running 100 real runs through the kernel and copying their rows in SQL with fresh ids (10 steps, 10 attempts and 23 events per run), then VACUUM ANALYZE. Then ${f0(m.scale[0]?.runs ?? 0)} fresh runs × 10 agents are measured as above. Claim latency is the duration of the claim statement (\`CLAIM_STEPS\`) as the worker's pool sees it. ${m.scaleNote}`,
    "",
    "| finished steps already stored | fill time | steps/s | vs empty | claim p50 / p95 / p99 (ms) | claims |",
    "|---|---|---|---|---|---|",
    ...m.scale.map((s) => {
      const empty = m.scale.find((e) => e.historySteps === 0);
      return `| ${f0(s.historySteps)} | ${f1(s.fillSeconds)} s | ${f0(s.stepsPerSec)} | ${empty ? pct(s.stepsPerSec / empty.stepsPerSec) : "—"} | ${ms(s.claim)} | ${f0(s.claims)} |`;
    }),
    "",
    `Worker memory with ${f0(m.memory.queuedSteps)} QUEUED steps: a separate worker process (\`node --import tsx bench/rss-worker.ts\`: startWorker, concurrency 64) ran for ${m.memory.windowSeconds} s against the queue and completed ${f0(m.memory.completedInWindow)} steps. RSS ${f1(m.memory.baselineRssMb)} MB before the worker started (Node + tsx + the store), peak **${f1(m.memory.peakRssMb)} MB** while working (peak heap used ${f1(m.memory.peakHeapMb)} MB). The worker only ever holds the steps it claimed (at most 64), so memory does not grow with the queue.`,
    "",
    "## Targets of issue 16",
    "",
    "Goals to report against, not test assertions; measured on the machine described above.",
    "",
    "| target | measured | met |",
    "|---|---|---|",
    ...targets(m).map(
      (t) =>
        `| ${t.target} | ${t.measured} | ${t.met === null ? "not measured" : t.met ? "yes" : "**no**"} |`,
    ),
    "",
    "## Where the time goes",
    "",
    ...notes.timeGoes.map((n) => `- ${n}`),
    "",
    "## What limits the rest",
    "",
    ...notes.limits.map((n) => `- ${n}`),
    "",
    "## Reputation upsert",
    "",
    "The sorted multi-row reputation upsert serializes concurrent finalizations per agent: every finalization",
    "that applies reputation writes one `agent_reputation` row per voter (task type and `'*'`) as the last statement",
    "before commit, in (agent_id, task_type) order, so two transactions with a voter in common finalize one after",
    "the other (the second waits on the first's row lock until it commits). The sort makes this wait",
    "deadlock-free. Within one worker, the group commit merges the finalizations of a batch into one upsert, so",
    "the wait is between workers only; in this benchmark every run has the same 10 agents.",
    "",
    // Measured by its own command (npm run bench:wide); kept when this page is rewritten.
    ...(wide !== null ? [wide, ""] : []),
  ].join("\n");
}
