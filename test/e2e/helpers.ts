// Shared pieces of the end-to-end tests: they spawn the BUILT CLI (`node dist/cli/main.js`) as a user would,
// against a real PostgreSQL schema or a temporary SQLite file, one fresh store per test.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect } from "vitest";
import { getRunView, listRunEvents } from "../../src/kernel/index.js";
import type { RunView } from "../../src/kernel/result.js";
import { PostgresStore, SqliteStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/port.js";
import { CLI_PATH, type CliOptions, type CliResult, cliIsBuilt, REPO_ROOT, runCli } from "../support/cli.js";
import { startTestRuntime, type TestRuntime, type TestRuntimeOptions } from "../support/http-runtime.js";
import { describePg, type PgTestContext } from "../support/pg.js";
import { makeTempDir, useTempSqlite } from "../support/sqlite.js";

if (!cliIsBuilt()) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` before the e2e tests`);

export type StoreKind = "pg" | "sqlite";
export const STORE_KINDS: readonly StoreKind[] = ["pg", "sqlite"];

/** One fresh, empty store: the CLI flags that select it, and a library handle to the same database. */
export interface StoreTarget {
  kind: StoreKind;
  /** `--pg-url U --pg-schema S` or `--db PATH`. */
  args: string[];
  /** For PostgreSQL: the URL (with an application_name naming this store) and the schema. */
  pgUrl?: string;
  schema?: string;
  /** Opens the same store through the library (closed after the test). Call `migrate()` yourself if needed. */
  open(): Store;
}

export interface StoreSuite {
  kind: StoreKind;
  /** A new empty store for this test. */
  fresh(): StoreTarget;
  pg?: PgTestContext;
}

// Tests in a file run concurrently (each with its own store and runtime), so cleanup is per file: every
// child process still running is killed, every library store and test runtime closed, after the last test.
const openedStores: Store[] = [];
const runtimes: TestRuntime[] = [];
const children = new Set<ChildProcessWithoutNullStreams>();

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.clear();
  for (const store of openedStores.splice(0)) await store.close().catch(() => undefined);
  for (const runtime of runtimes.splice(0)) await runtime.close().catch(() => undefined);
});

/** A scripted HTTP runtime (SPEC §8.2) for one test, closed after the file. */
export async function testRuntime(options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  const runtime = await startTestRuntime(options);
  runtimes.push(runtime);
  return runtime;
}

function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

function appName(schema: string): string {
  return `e2e_${schema}`;
}

/**
 * `describe.each` over both stores: PostgreSQL (skipped without a server) and SQLite. All tests inside run
 * concurrently (they spend most of their time waiting on child processes); each must take its own
 * `suite.fresh()` store.
 */
export function describeStores(name: string, fn: (suite: StoreSuite) => void, kinds = STORE_KINDS): void {
  describe.concurrent(name, () => describeEachStore(fn, kinds));
}

function describeEachStore(fn: (suite: StoreSuite) => void, kinds: readonly StoreKind[]): void {
  for (const kind of kinds) {
    if (kind === "pg") {
      describePg("pg", (pg) => {
        fn({
          kind,
          pg,
          fresh() {
            const schema = pg.newSchema();
            const url = `${pg.url}${pg.url.includes("?") ? "&" : "?"}application_name=${appName(schema)}`;
            return {
              kind,
              args: ["--pg-url", url, "--pg-schema", schema],
              pgUrl: url,
              schema,
              open: once(() => {
                const store = new PostgresStore({ url, schema });
                openedStores.push(store);
                return store;
              }),
            };
          },
        });
      });
    } else {
      describe("sqlite", () => {
        const tempDb = useTempSqlite();
        fn({
          kind,
          fresh() {
            const path = tempDb();
            return {
              kind,
              args: ["--db", path],
              open: once(() => {
                const store = new SqliteStore({ path });
                openedStores.push(store);
                return store;
              }),
            };
          },
        });
      });
    }
  }
}

/** Runs `wattswarm …` with the store's flags appended (they are accepted anywhere on the line). */
export function ws(target: StoreTarget, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return runCli([...args, ...target.args], opts);
}

/** stdout parsed as one JSON document; fails the test with stderr when it is not. */
export function json<T = Record<string, unknown>>(res: CliResult): T {
  try {
    return JSON.parse(res.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${res.code}):\n${res.stdout}\nstderr:\n${res.stderr}`);
  }
}

/** Asserts the exit code, showing stderr on a mismatch. */
export function expectExit(res: CliResult, code: number): void {
  if (res.code !== code) {
    throw new Error(
      `expected exit ${code}, got ${res.code}\nstdout: ${res.stdout.slice(0, 2000)}\nstderr: ${res.stderr.slice(-3000)}`,
    );
  }
}

/** A failing command's stderr: `store: …` lines aside, exactly one `error:` line and no stack trace. */
export function expectOneLineError(res: CliResult, pattern?: RegExp | string): string {
  expect(res.stdout).toBe("");
  const lines = res.stderr.split("\n").filter((l) => l !== "" && !l.startsWith("store: "));
  const errors = lines.filter((l) => l.startsWith("error: "));
  expect(errors, res.stderr).toHaveLength(1);
  expect(res.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  const line = errors[0] as string;
  if (pattern !== undefined) expect(line).toMatch(pattern);
  return line;
}

export interface EventJson {
  seq: number;
  event_type: string;
  payload: Record<string, unknown>;
  created_at: string;
}

/**
 * All events of a run, as `run events` prints them, read through the library (the CLI command itself is
 * exercised by the tests that check its output; this keeps the number of spawned processes down).
 */
export async function allEvents(target: StoreTarget, runId: string): Promise<EventJson[]> {
  return (await listRunEvents(target.open(), runId, { limit: 10_000 })) as unknown as EventJson[];
}

/** What `run watch --once` prints, read through the library. */
export function viewOf(target: StoreTarget, runId: string): Promise<RunView> {
  return getRunView(target.open(), runId);
}

export function eventTypes(events: readonly EventJson[]): string[] {
  return events.map((e) => e.event_type);
}

export function countOf(events: readonly EventJson[], type: string): number {
  return events.filter((e) => e.event_type === type).length;
}

/** Writes a spec into a new temp directory; returns its path (the directory is the cwd for `./file`). */
export function writeSpec(spec: unknown, name = "run-spec.json"): { dir: string; file: string } {
  const dir = makeTempDir();
  const file = join(dir, name);
  writeFileSync(file, typeof spec === "string" ? spec : `${JSON.stringify(spec, null, 2)}\n`);
  return { dir, file };
}

/** The seed page's example spec (reference/runs-doc.txt), with another run_id when given. */
export function seedSpec(runId = "analysis-run-001", executor = "rt"): Record<string, unknown> {
  return {
    run_id: runId,
    task_type: "swarm",
    shared_inputs: {
      topic: "quarterly-revenue-review",
      data_url: "https://data.example.com/q3.json",
      instructions: "Identify the top three revenue drivers and any anomalies.",
    },
    agents: [
      { agent_id: "analyst-a", prompt: "Focus on geographic trends in the revenue data.", executor },
      { agent_id: "analyst-b", prompt: "Focus on product-line contributions and margin changes.", executor },
      { agent_id: "analyst-c", prompt: "Focus on customer-segment shifts and churn signals.", executor },
    ],
    aggregation: {
      quorum: 2,
      tie_policy: { chain: ["STOCHASTIC"] },
      null_policy: { chain: ["REEXPLORE", "FINALIZE_NULL"] },
    },
  };
}

export interface BackgroundCli {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns a long-running command (`run worker`, `run watch`, `events --follow`); killed after the test. */
export function spawnCli(
  target: StoreTarget,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): BackgroundCli {
  const child = spawn(process.execPath, [CLI_PATH, ...args, ...target.args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(child);
  child.stdin.end();
  let out = "";
  let err = "";
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString("utf8");
  });
  child.stderr.on("data", (b: Buffer) => {
    err += b.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** `run worker` in the background with short polling. */
export function startWorker(target: StoreTarget, extra: readonly string[] = []): BackgroundCli {
  return spawnCli(target, ["run", "worker", "--poll-ms", "50", ...extra]);
}

/** Waits until `check` resolves truthy (polled), or fails after `timeoutMs`. */
export async function until<T>(
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  timeoutMs = 10_000,
  what = "condition",
): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves with the exit, or fails when the process is still running after `timeoutMs`. */
export async function exitWithin(
  proc: BackgroundCli,
  timeoutMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`process did not exit within ${timeoutMs} ms; stderr:\n${proc.stderr().slice(-2000)}`),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([proc.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The worker logs JSON lines on stderr (not a TTY); the `msg` of each. */
export function logMessages(stderr: string): string[] {
  const out: string[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      out.push(String((JSON.parse(line) as { msg?: unknown }).msg ?? ""));
    } catch {
      // not a log line
    }
  }
  return out;
}

/** Parsed CLI output, read freely in assertions (the assertions are the type check). */
// biome-ignore lint/suspicious/noExplicitAny: JSON from another process, checked by the expectations
export type AnyJson = any;
