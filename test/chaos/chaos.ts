// The chaos suite (issue 9): N worker processes (the BUILT CLI) serve hundreds of sim runs of random latency
// while this harness SIGKILLs and restarts workers, terminates their PostgreSQL connections and, in the long
// mode where the machine allows, restarts PostgreSQL once. Then verify.ts checks the tables. Used by
// chaos.test.ts (short mode, CI) and main.ts (`npm run chaos`).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { submitRun } from "../../src/kernel/index.js";
import { validateRunSpec } from "../../src/spec/index.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/port.js";
import type { RunStore } from "../../src/store/run-port.js";
import { TERMINAL_RUN_STATUSES } from "../../src/store/types.js";
import { CLI_PATH } from "../support/cli.js";
import { type KillRecord, type TableFigures, verifyChaos } from "./verify.js";

export type ChaosStore = Store & RunStore;

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
  /** PostgreSQL only, and only with pg_ctlcluster and WATTSWARM_CHAOS_PG_RESTART=1: never in the short mode. */
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

/** The PostgreSQL cluster to restart, when this machine can: `pg_ctlcluster` and exactly one cluster. */
function pgCluster(): string | null {
  try {
    execFileSync("sh", ["-c", "command -v pg_ctlcluster"], { stdio: "ignore" });
    const versions = existsSync("/etc/postgresql") ? readdirSync("/etc/postgresql") : [];
    return versions.length === 1 ? (versions[0] as string) : null;
  } catch {
    return null;
  }
}

interface Target {
  args: string[];
  ctl: ChaosStore;
  /** Terminates the workers' connections; returns how many were terminated. */
  terminate?: () => Promise<number>;
  cleanup(): Promise<void>;
}

async function openTarget(o: ChaosOptions): Promise<Target> {
  if (o.store.kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "wattswarm-chaos-"));
    const path = join(dir, "chaos.db");
    const ctl = openStore({ kind: "sqlite", path, source: "flag" }) as ChaosStore;
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
  const ctl = openStore({
    kind: "postgres",
    url: withApp(`wsc_${schema}`),
    schema,
    source: "flag",
  }) as ChaosStore;
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
  private lastStderr = "";

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
    child.stderr?.on("data", (d: Buffer) => {
      this.lastStderr = (this.lastStderr + d.toString()).slice(-4000);
    });
    this.alive.set(id, child);
    child.on("exit", () => {
      const wasAlive = this.alive.delete(id);
      // A worker that exits on its own (not killed by us) is restarted too, and counted.
      if (wasAlive && !this.stopping) {
        this.unexpectedExits += 1;
        this.o.log(
          `worker ${id} exited on its own: ${this.lastStderr.slice(-(Number(process.env.WATTSWARM_CHAOS_STDERR) || 300))}`,
        );
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

async function pendingRuns(store: ChaosStore, total: number): Promise<number> {
  const runs = await store.listRuns({ limit: total + 10 });
  const terminal: readonly string[] = TERMINAL_RUN_STATUSES;
  return runs.filter((r) => !terminal.includes(r.status)).length;
}

export interface ChaosReport extends TableFigures {
  store: string;
  connection_terminations: number;
  pg_restarts: number;
  unexpected_worker_exits: number;
  elapsed_ms: number;
  problems: string[];
}

/** Runs one chaos round and returns the figures and every invariant violation found (none expected). */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const target = await openTarget(o);
  const { ctl } = target;
  const fleet = new WorkerFleet(o, target.args);
  let terminations = 0;
  let pgRestarts = 0;
  const started = Date.now();
  try {
    await ctl.migrate();
    for (let i = 0; i < o.runs; i++) await submitRun(ctl, specOf(i, o), true);
    o.log(`${o.store.kind}: ${o.runs} runs × ${o.agentsPerRun} agents submitted; ${o.workers} workers`);
    for (let slot = 0; slot < o.workers; slot++) fleet.start(slot);

    const cluster = o.store.kind === "pg" && o.restartPg ? pgCluster() : null;
    if (
      o.store.kind === "pg" &&
      o.restartPg &&
      (cluster === null || process.env.WATTSWARM_CHAOS_PG_RESTART !== "1")
    ) {
      o.log("PostgreSQL restart skipped: needs pg_ctlcluster (one cluster) and WATTSWARM_CHAOS_PG_RESTART=1");
    }
    let nextKill = Date.now() + o.killEveryMs;
    let nextTerminate = Date.now() + o.terminateEveryMs;
    let restartDone = cluster === null || process.env.WATTSWARM_CHAOS_PG_RESTART !== "1";
    let pending = o.runs;
    while (pending > 0) {
      if (Date.now() - started > o.deadlineMs) {
        const m = await ctl.readMetrics({ since: new Date(), boundsMs: [] });
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
      if (!restartDone && pending < o.runs / 2) {
        restartDone = true;
        o.log(`restarting PostgreSQL ${cluster} main`);
        execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", cluster as string, "main", "restart"]);
        pgRestarts += 1;
      }
      pending = await pendingRuns(ctl, o.runs).catch(() => pending);
    }
    const elapsedMs = Date.now() - started;
    await fleet.stop();
    const { figures, problems } = await verifyChaos(ctl, {
      runs: o.runs,
      kills: fleet.kills,
      leaseMs: o.leaseMs,
      // Expiry is checked before each claim (every poll) and every H; allow a poll plus scheduling slack.
      claimableWithinMs: o.leaseMs + o.pollMs + 1_000,
    });
    return {
      store: o.store.kind,
      ...figures,
      connection_terminations: terminations,
      pg_restarts: pgRestarts,
      unexpected_worker_exits: fleet.unexpectedExits,
      elapsed_ms: elapsedMs,
      problems,
    };
  } finally {
    await fleet.stop();
    await ctl.close().catch(() => undefined);
    await target.cleanup();
  }
}
