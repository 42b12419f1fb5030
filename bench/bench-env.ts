// Shared plumbing of the performance benchmark (npm run bench): the PostgreSQL URL, fresh schemas and stores,
// percentiles, and a query counter that wraps pg.Client#query in this process only (src/ is untouched), so
// round trips per completed step can be counted for WattSwarm and for the peers alike.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { openStore, type Store } from "../src/index.js";

const BASE_URL = process.env.WATTSWARM_BENCH_PG_URL?.trim() || "postgres://postgres@127.0.0.1:5432/test";

/** Every connection of the benchmark (peers included) carries its own application_name. */
export const PG_URL = BASE_URL.includes("application_name=")
  ? BASE_URL
  : `${BASE_URL}${BASE_URL.includes("?") ? "&" : "?"}application_name=wattswarm_perf_bench`;

/**
 * Other processes on a shared server may terminate connections (57P01). A peer library can surface that as an
 * unhandled rejection; count it and carry on rather than lose the whole invocation.
 */
export const terminated = { count: 0 };
export function tolerateTerminatedConnections(): void {
  const handler = (err: unknown) => {
    if ((err as { code?: unknown } | null)?.code === "57P01") {
      terminated.count += 1;
      return;
    }
    process.stderr.write(
      `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  };
  process.on("unhandledRejection", handler);
  process.on("uncaughtException", handler);
}

/** Every schema the benchmark creates starts with this, and is dropped at the end. */
export const SCHEMA_PREFIX = "wattswarm_perf_";

export const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL });
  client.on("error", () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function schemaName(tag: string): string {
  return `${SCHEMA_PREFIX}${tag}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}

export async function dropSchema(schema: string): Promise<void> {
  await withAdmin((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}

export async function dropAllBenchSchemas(): Promise<string[]> {
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ nspname: string }>(
      "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
      [`${SCHEMA_PREFIX}%`],
    );
    for (const r of rows) await c.query(`DROP SCHEMA IF EXISTS "${r.nspname}" CASCADE`);
    return rows.map((r) => r.nspname);
  });
}

export interface BenchStore {
  store: Store;
  kind: "postgres" | "sqlite";
  /** The PostgreSQL schema, or the SQLite file. */
  where: string;
  close(): Promise<void>;
}

/** A fresh, migrated store with the adapter's default pool (10 connections), like `wattswarm run worker`. */
export async function freshBenchStore(kind: "postgres" | "sqlite", tag: string): Promise<BenchStore> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "wattswarm-perf-"));
    const path = join(dir, `${tag}.db`);
    const store = await openStore({ kind: "sqlite", path, source: "flag" });
    await store.migrate();
    return {
      store,
      kind,
      where: path,
      close: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = schemaName(tag);
  await dropSchema(schema);
  const store = await openStore({ kind: "postgres", url: PG_URL, schema, source: "flag" });
  await store.migrate();
  return {
    store,
    kind,
    where: schema,
    close: async () => {
      await store.close();
      await dropSchema(schema);
    },
  };
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), mean };
}

/** Runs `fn` over `items` with at most `width` calls in flight. */
export async function inParallel<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}

// ---- query counting ------------------------------------------------------------------------------------

export interface QueryCounts {
  queries: number;
  /** BEGIN / COMMIT / ROLLBACK statements (included in `queries`). */
  txControl: number;
}

const counts: QueryCounts = { queries: 0, txControl: 0 };
const timedTexts = new Map<string, number[]>();
let installed = false;

/** Wraps pg.Client#query once: every statement any pool or client of this process sends is counted. */
export function installQueryCounter(): void {
  if (installed) return;
  installed = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function counted(this: unknown, ...args: unknown[]): unknown {
    const first = args[0];
    const text = typeof first === "string" ? first : (first as { text?: unknown } | null)?.text;
    counts.queries += 1;
    if (typeof text === "string" && /(^|;)\s*(BEGIN|COMMIT|ROLLBACK)\b/i.test(text)) counts.txControl += 1;
    const samples = typeof text === "string" ? timedTexts.get(text) : undefined;
    if (!samples) return original.apply(this, args);
    const started = performance.now();
    const last = args[args.length - 1];
    // pg.Pool#query calls client.query with a callback; a direct client.query returns a promise.
    if (typeof last === "function") {
      args[args.length - 1] = (...cbArgs: unknown[]) => {
        samples.push(performance.now() - started);
        return (last as (...a: unknown[]) => unknown)(...cbArgs);
      };
      return original.apply(this, args);
    }
    const result = original.apply(this, args);
    if (result instanceof Promise) {
      result.then(
        () => samples.push(performance.now() - started),
        () => {},
      );
    }
    return result;
  };
}

export function resetQueryCounts(): void {
  counts.queries = 0;
  counts.txControl = 0;
}

export function queryCounts(): QueryCounts {
  return { ...counts };
}

/** Records the duration of every statement whose text is exactly `text` (e.g. the claim query). */
export function timeStatement(text: string): { samples: number[]; stop: () => void } {
  const samples: number[] = [];
  timedTexts.set(text, samples);
  return { samples, stop: () => timedTexts.delete(text) };
}
