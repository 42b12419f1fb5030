// The chaos suite (issue 9): N worker processes (the BUILT CLI) serve hundreds of sim runs of random latency
// while this harness SIGKILLs and restarts workers, terminates their PostgreSQL connections and, in the long
// mode where the machine allows, restarts PostgreSQL once. Then verify.ts checks the tables. Used by
// chaos.test.ts (short mode, CI) and main.ts (`npm run chaos`).
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import pg from "pg";
import { submitRun } from "../../src/kernel/index.js";
import { validateRunSpec } from "../../src/spec/index.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/port.js";
import { TERMINAL_RUN_STATUSES } from "../../src/vocab.js";
import { CLI_PATH } from "../support/cli.js";
import { type KillRecord, type OutageWindow, type TableFigures, verifyChaos } from "./verify.js";

export interface ChaosOptions {
  store: { kind: "pg"; url: string } | { kind: "sqlite" };
  runs: number;
  agentsPerRun: number;
  workers: number;
  concurrency: number;
  /** Sim latency is drawn per agent from [min, max] ms. */
  latencyMs: [number, number];
  killEveryMs: number;
  /** PostgreSQL only; 0 = never. */
  terminateEveryMs: number;
  /**
   * PostgreSQL only, and only with WATTSWARM_CHAOS_PG_RESTART=1 and pg_ctlcluster with one cluster: restart the
   * server once, when half the runs are terminal. Never in the short mode (other test files share the server).
   */
  restartPg: boolean;
  deadlineMs: number;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  log: (line: string) => void;
}

export const SHORT_MODE: Omit<ChaosOptions, "store" | "log"> = {
  runs: 60,
  agentsPerRun: 5,
  workers: 4,
  concurrency: 4,
  latencyMs: [20, 600],
  killEveryMs: 1_200,
  // Only this run's worker connections are terminated (by application_name), so other test files sharing the
  // server are untouched.
  terminateEveryMs: 2_500,
  restartPg: false,
  deadlineMs: 50_000,
  leaseMs: 2_000,
  heartbeatMs: 1_000,
  pollMs: 50,
};

export const LONG_MODE: Omit<ChaosOptions, "store" | "log"> = {
  ...SHORT_MODE,
  runs: 400,
  workers: 6,
  concurrency: 8,
  killEveryMs: 1_500,
  terminateEveryMs: 2_500,
  restartPg: true,
  deadlineMs: 600_000,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What the recovery bound allows beyond L + H: the heartbeat's own lease write, which comes first; one expiry
 * sweep, a transaction per run with expired leases, in turn (a dead worker leaves up to `concurrency` runs:
 * 8 in the long mode, ~50-100 ms each on a loaded 2-CPU machine); up to two retries, 150 ms apart, when a cut
 * connection fails the expiry; and timer lag (the suite runs ~8 processes). See docs/operations.md.
 */
export const EXPIRY_SLACK_MS = 1_000;

/**
 * kill → claimable again, at most (docs/operations.md "Recovery time"): the dead worker's leases end at most L
 * after the kill (L from its last heartbeat or claim, both before the kill); every live worker runs the expiry
 * every H, so it starts at most H after a lease ended. The expiry before each claim (every poll) is usually
 * sooner but is not guaranteed: after a database error the claim loop backs off (250 ms doubling to 5 s).
 */
export function recoveryBoundMs(o: Pick<ChaosOptions, "leaseMs" | "heartbeatMs">): number {
  return o.leaseMs + o.heartbeatMs + EXPIRY_SLACK_MS;
}

function pick<T>(items: readonly T[]): T | undefined {
  return items[Math.floor(Math.random() * items.length)];
}

function specOf(i: number, o: ChaosOptions) {
  const [lo, hi] = o.latencyMs;
  const agents = Array.from({ length: o.agentsPerRun }, (_, k) => ({
    agent_id: `agent-${k}`,
    prompt: "A or B?",
    executor: "sim",
    inputs: { _sim: { latency_ms: lo + Math.floor(Math.random() * (hi - lo + 1)) } },
  }));
  const checked = validateRunSpec({
    run_id: `chaos-${String(i).padStart(4, "0")}`,
    task_type: "chaos",
    shared_inputs: { n: i, _sim: { accuracy: 0.75, truth: "A", options: ["A", "B"], seed: "chaos" } },
    agents,
    retry: { max_attempts: 10, backoff_ms: 0 },
  });
  if (!checked.ok) throw new Error(`chaos spec invalid: ${JSON.stringify(checked.issues)}`);
  return checked.spec;
}

/** The PostgreSQL cluster version to restart (`pg_ctlcluster` and exactly one cluster), or why not. */
function pgCluster(): { version: string } | { skip: string } {
  try {
    execFileSync("sh", ["-c", "command -v pg_ctlcluster"], { stdio: "ignore" });
  } catch {
    return { skip: "pg_ctlcluster not found" };
  }
  const versions = existsSync("/etc/postgresql") ? readdirSync("/etc/postgresql") : [];
  if (versions.length !== 1) return { skip: `expected one cluster in /etc/postgresql, found [${versions}]` };
  return { version: versions[0] as string };
}

/**
 * `pg_ctlcluster --skip-systemctl-redirect <version> main restart`, then waits until `probe` succeeds again.
 * Returns the outage window, or null (with a printed reason) when the command is missing or fails.
 */
async function restartPostgres(
  log: (line: string) => void,
  probe: () => Promise<unknown>,
): Promise<OutageWindow | null> {
  const cluster = pgCluster();
  if ("skip" in cluster) {
    log(`PostgreSQL restart skipped: ${cluster.skip}`);
    return null;
  }
  const args = ["--skip-systemctl-redirect", cluster.version, "main", "restart"];
  log(`restarting PostgreSQL: pg_ctlcluster ${args.join(" ")}`);
  const from = Date.now();
  const failed = await new Promise<string | null>((resolve) => {
    execFile("pg_ctlcluster", args, { timeout: 120_000 }, (err, _stdout, stderr) =>
      resolve(err ? `${err.message.split("\n")[0]} ${String(stderr).trim()}`.trim() : null),
    );
  });
  if (failed !== null) {
    log(`PostgreSQL restart skipped: pg_ctlcluster failed: ${failed}`);
    return null;
  }
  const commandMs = Date.now() - from;
  const reachable = () =>
    probe().then(
      () => true,
      () => false,
    );
  const giveUpAt = Date.now() + 60_000;
  while (!(await reachable()) && Date.now() < giveUpAt) await sleep(100);
  const to = Date.now();
  log(
    `PostgreSQL restarted: pg_ctlcluster took ${commandMs} ms; reachable again ${to - from} ms after the start`,
  );
  return { from, to };
}

interface Target {
  args: string[];
  ctl: Store;
  /** Terminates the workers' connections; returns how many were terminated. */
  terminate?: () => Promise<number>;
  /** One query on the harness's own connection: succeeds when the database is reachable. */
  probe?: () => Promise<unknown>;
  cleanup(): Promise<void>;
}

async function openTarget(o: ChaosOptions): Promise<Target> {
  if (o.store.kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "wattswarm-chaos-"));
    const path = join(dir, "chaos.db");
    const ctl = await openStore({ kind: "sqlite", path, source: "flag" });
    return { args: ["--db", path], ctl, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `chaos_${process.pid}_${randomBytes(4).toString("hex")}`;
  const withApp = (name: string) =>
    `${o.store.kind === "pg" ? o.store.url : ""}${o.store.kind === "pg" && o.store.url.includes("?") ? "&" : "?"}application_name=${name}`;
  // Workers connect under a name unique to this run, so only this test's connections are ever terminated.
  const workerApp = `wsw_${schema}`;
  const admin = new pg.Pool({ connectionString: withApp(`wsa_${schema}`), max: 1 });
  admin.on("error", () => {});
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const ctl = await openStore({
    kind: "postgres",
    url: withApp(`wsc_${schema}`),
    schema,
    source: "flag",
  });
  return {
    args: ["--pg-url", withApp(workerApp), "--pg-schema", schema],
    ctl,
    terminate: async () => {
      // Pick the victims first, then terminate exactly those: pg_terminate_backend() inside a WHERE clause may be
      // evaluated before the other conditions, on every backend of the server.
      const victims = await admin.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
        [workerApp],
      );
      const pids = victims.rows.map((r) => r.pid);
      if (pids.length === 0) return 0;
      const done = await admin.query<{ ok: boolean }>(
        "SELECT pg_terminate_backend(pid) AS ok FROM unnest($1::int[]) AS v(pid)",
        [pids],
      );
      return done.rows.filter((r) => r.ok).length;
    },
    probe: () => admin.query("SELECT 1"),
    cleanup: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await admin.end();
    },
  };
}

class WorkerFleet {
  private readonly alive = new Map<string, ChildProcess>();
  private generation = 0;
  readonly kills: KillRecord[] = [];
  unexpectedExits = 0;
  private stopping = false;

  constructor(
    private readonly o: ChaosOptions,
    private readonly args: string[],
  ) {}

  start(slot: number): void {
    const id = `w${slot}-g${this.generation++}`;
    const child = spawn(
      process.execPath,
      [
        CLI_PATH,
        ...["run", "worker", "--worker-id", id, "--concurrency", String(this.o.concurrency)],
        ...["--lease-ms", String(this.o.leaseMs), "--heartbeat-ms", String(this.o.heartbeatMs)],
        ...["--poll-ms", String(this.o.pollMs), ...this.args],
      ],
      { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, WATTSWARM_LOG_LEVEL: "warn" } },
    );
    // Each worker's own stderr tail (not one buffer shared by all: that showed another worker's lines).
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-16_000);
    });
    this.alive.set(id, child);
    child.on("exit", (code, signal) => {
      const wasAlive = this.alive.delete(id);
      // A worker that exits on its own (not killed by us) is restarted too, and counted.
      if (wasAlive && !this.stopping) {
        this.unexpectedExits += 1;
        const tail = stderr.slice(-(Number(process.env.WATTSWARM_CHAOS_STDERR) || 4_000));
        this.o.log(`worker ${id} exited on its own (code ${code}, signal ${signal}); stderr tail:\n${tail}`);
        this.start(slot);
      }
    });
  }

  /** SIGKILLs one random worker and starts its replacement after `restartMs`. */
  killOne(restartMs: number): void {
    const id = pick([...this.alive.keys()]);
    if (id === undefined) return;
    const child = this.alive.get(id) as ChildProcess;
    this.alive.delete(id);
    this.kills.push({ worker_id: id, at: Date.now() });
    child.kill("SIGKILL");
    const slot = Number(id.slice(1, id.indexOf("-")));
    setTimeout(() => {
      if (!this.stopping) this.start(slot);
    }, restartMs);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.alive.values()].map(
      (c) =>
        new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : c.once("exit", () => resolve()))),
    );
    for (const c of this.alive.values()) c.kill("SIGTERM");
    const timer = setTimeout(() => {
      for (const c of this.alive.values()) c.kill("SIGKILL");
    }, 15_000);
    await Promise.all(exits);
    clearTimeout(timer);
  }
}

async function pendingRuns(store: Store, total: number): Promise<number> {
  const runs = await store.listRuns({ limit: total + 10 });
  const terminal: readonly string[] = TERMINAL_RUN_STATUSES;
  return runs.filter((r) => !terminal.includes(r.status)).length;
}

export interface ChaosReport extends TableFigures {
  store: string;
  /** The kill → claimable bound checked (recoveryBoundMs). */
  recovery_bound_ms: number;
  connection_terminations: number;
  pg_restarts: number;
  /** PostgreSQL restart: start of pg_ctlcluster → the harness could query again (0 without a restart). */
  pg_restart_outage_ms: number;
  unexpected_worker_exits: number;
  /**
   * How late the harness's own timers fired at worst while the workers ran. The harness mostly sleeps, so this
   * is a measure of CPU starvation on the host: every worker's heartbeat timer is late by as much.
   */
  harness_max_timer_lag_ms: number;
  elapsed_ms: number;
  problems: string[];
}

/** Runs one chaos round and returns the figures and every invariant violation found (none expected). */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const target = await openTarget(o);
  const { ctl } = target;
  const fleet = new WorkerFleet(o, target.args);
  let terminations = 0;
  const outages: OutageWindow[] = [];
  const timerLag = monitorEventLoopDelay({ resolution: 20 });
  const started = Date.now();
  try {
    await ctl.migrate();
    for (let i = 0; i < o.runs; i++) await submitRun(ctl, specOf(i, o), true);
    o.log(`${o.store.kind}: ${o.runs} runs × ${o.agentsPerRun} agents submitted; ${o.workers} workers`);
    for (let slot = 0; slot < o.workers; slot++) fleet.start(slot);
    timerLag.enable();

    const wantRestart = o.store.kind === "pg" && o.restartPg;
    const restartAsked = process.env.WATTSWARM_CHAOS_PG_RESTART === "1";
    if (wantRestart && !restartAsked) o.log("PostgreSQL restart off (set WATTSWARM_CHAOS_PG_RESTART=1)");
    if (o.store.kind === "pg" && !o.restartPg && restartAsked)
      o.log("PostgreSQL restart: not in this mode (only the long mode restarts the server)");
    let nextKill = Date.now() + o.killEveryMs;
    let nextTerminate = Date.now() + o.terminateEveryMs;
    let restartDone = !(wantRestart && restartAsked && target.probe);
    let restarting: Promise<unknown> = Promise.resolve();
    let pending = o.runs;
    while (pending > 0) {
      if (Date.now() - started > o.deadlineMs) {
        const m = await ctl.readStatusCounts();
        throw new Error(
          `deadline: ${pending} runs still not terminal; steps ${JSON.stringify(m.steps_by_status)}`,
        );
      }
      await sleep(100);
      const now = Date.now();
      if (now >= nextKill) {
        fleet.killOne(300);
        nextKill = now + o.killEveryMs;
      }
      if (target.terminate && o.terminateEveryMs > 0 && now >= nextTerminate) {
        terminations += await target.terminate().catch(() => 0);
        nextTerminate = now + o.terminateEveryMs;
      }
      if (!restartDone && target.probe && pending < o.runs / 2) {
        restartDone = true;
        // Kills and terminations go on meanwhile: the loop is not blocked while PostgreSQL restarts.
        restarting = restartPostgres(o.log, target.probe).then((w) => w && outages.push(w));
      }
      pending = await pendingRuns(ctl, o.runs).catch(() => pending);
    }
    await restarting;
    timerLag.disable();
    const elapsedMs = Date.now() - started;
    await fleet.stop();
    const bound = recoveryBoundMs(o);
    const { figures, problems } = await verifyChaos(ctl, {
      runs: o.runs,
      kills: fleet.kills,
      leaseMs: o.leaseMs,
      claimableWithinMs: bound,
      outages,
    });
    return {
      store: o.store.kind,
      recovery_bound_ms: bound,
      ...figures,
      connection_terminations: terminations,
      pg_restarts: outages.length,
      pg_restart_outage_ms: outages.reduce((sum, w) => sum + (w.to - w.from), 0),
      unexpected_worker_exits: fleet.unexpectedExits,
      harness_max_timer_lag_ms: Math.round(timerLag.max / 1e6),
      elapsed_ms: elapsedMs,
      problems,
    };
  } finally {
    await fleet.stop();
    await ctl.close().catch(() => undefined);
    await target.cleanup();
  }
}
