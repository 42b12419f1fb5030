// GET /metrics: Prometheus text computed from the store after an in-process worker processed runs.
import { expect, it } from "vitest";
import { startWorker } from "../../src/index.js";
import type { Store } from "../../src/store/port.js";
import { PostgresStore } from "../../src/store/postgres/index.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { pgRawAttempts, type RawAttempts, sqliteRawAttempts } from "../support/attempt-rows.js";
import { TEST_PG_URL } from "../support/pg.js";
import { describeServer, simSpec } from "./helpers.js";

/** Direct access to the rows of the store a test server serves. */
function rawOf(store: Store): RawAttempts {
  if (store instanceof PostgresStore) return pgRawAttempts(TEST_PG_URL, store.schema as string);
  if (store instanceof SqliteStore) return sqliteRawAttempts(store.path);
  throw new Error("unknown store");
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict parser of the text format 0.0.4 subset we emit: HELP/TYPE comments and samples. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.trimEnd().split("\n")) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|histogram)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? "").split(",").filter(Boolean)) {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/.exec(pair);
      if (!lm) throw new Error(`bad label ${pair} in ${line}`);
      labels[lm[1] as string] = lm[2] as string;
    }
    const value = Number(m[3]);
    expect(Number.isNaN(value), line).toBe(false);
    samples.push({ name: m[1] as string, labels, value });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

describeServer("/metrics", (suite) => {
  it("reports runs and steps by status, attempts by error_code and latency histograms", async () => {
    const s = await suite.start();
    await s.store.upsertExecutor({ name: "broken", kind: "sim", config: { fail_rate: 1 } });
    await s.call("/api/runs", { method: "POST", json: { spec: simSpec("m-ok", 3), kickoff: true } });
    const failing = {
      ...simSpec("m-bad", 2, "broken"),
      retry: { max_attempts: 1, backoff_ms: 0 },
      aggregation: { null_policy: { chain: ["FINALIZE_NULL"] } },
    };
    await s.call("/api/runs", { method: "POST", json: { spec: failing, kickoff: true } });
    await s.call("/api/runs", { method: "POST", json: simSpec("m-new", 1) });
    await startWorker(s.store, { pollMs: 20, exitWhenIdle: true }).done;

    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const { samples, types } = parsePrometheus(await res.text());

    expect(types.get("wattswarm_runs")).toBe("gauge");
    expect(types.get("wattswarm_claim_latency_seconds")).toBe("histogram");
    expect(types.get("wattswarm_attempt_errors_total")).toBe("counter");
    expect(value(samples, "wattswarm_runs", { status: "FINALIZED" })).toBe(1);
    expect(value(samples, "wattswarm_runs", { status: "FAILED" })).toBe(1);
    expect(value(samples, "wattswarm_runs", { status: "CREATED" })).toBe(1);
    expect(value(samples, "wattswarm_runs", { status: "RUNNING" })).toBe(0);
    expect(value(samples, "wattswarm_steps", { status: "SUCCEEDED" })).toBe(3);
    expect(value(samples, "wattswarm_steps", { status: "FAILED" })).toBe(2);
    expect(value(samples, "wattswarm_steps", { status: "CREATED" })).toBe(1);
    expect(value(samples, "wattswarm_attempts_finished_total", { status: "SUCCEEDED" })).toBe(3);
    expect(value(samples, "wattswarm_attempts_finished_total", { status: "FAILED" })).toBe(2);
    expect(value(samples, "wattswarm_attempt_errors_total", { error_code: "HTTP_5XX" })).toBe(2);
    expect(value(samples, "wattswarm_attempt_errors_total", { error_code: "TIMEOUT" })).toBe(0);

    for (const h of ["wattswarm_claim_latency_seconds", "wattswarm_step_latency_seconds"]) {
      const buckets = samples.filter((x) => x.name === `${h}_bucket`);
      expect(buckets.at(-1)?.labels.le).toBe("+Inf");
      expect(buckets.at(-1)?.value).toBe(5);
      for (let i = 1; i < buckets.length; i++)
        expect(buckets[i]?.value).toBeGreaterThanOrEqual(buckets[i - 1]?.value ?? 0);
      expect(value(samples, `${h}_count`)).toBe(5);
      expect(value(samples, `${h}_sum`)).toBeGreaterThanOrEqual(0);
    }
    expect(value(samples, "wattswarm_metrics_since_seconds")).toBeGreaterThan(1_600_000_000);
  });

  it("counts only attempts closed since the server started", async () => {
    const s = await suite.start();
    const res = await fetch(`${s.url}/metrics`);
    const { samples } = parsePrometheus(await res.text());
    expect(value(samples, "wattswarm_claim_latency_seconds_count")).toBe(0);
    expect(value(samples, "wattswarm_attempts_finished_total", { status: "SUCCEEDED" })).toBe(0);
  });

  it("counters never go down: an attempt counted LEASE_EXPIRED that later turns STALE stays counted so", async () => {
    const s = await suite.start();
    const raw = rawOf(s.store);
    try {
      // Closed now (after the server started), as a lease expiry records it.
      const at = Math.max((await s.store.now()).getTime(), Date.now());
      await raw.insert([
        {
          step_id: "expired",
          status: "LEASE_EXPIRED",
          error_code: "LEASE_EXPIRED",
          due_ms: at - 20,
          started_ms: at - 10,
          finished_ms: at,
        },
      ]);
      const scrape = async () => parsePrometheus(await (await fetch(`${s.url}/metrics`)).text()).samples;
      const first = await scrape();
      expect(value(first, "wattswarm_attempts_finished_total", { status: "LEASE_EXPIRED" })).toBe(1);
      expect(value(first, "wattswarm_attempt_errors_total", { error_code: "LEASE_EXPIRED" })).toBe(1);

      await raw.markStale("expired"); // the worker's result arrives after all
      const second = await scrape();
      expect(value(second, "wattswarm_attempts_finished_total", { status: "LEASE_EXPIRED" })).toBe(1);
      expect(value(second, "wattswarm_attempts_finished_total", { status: "STALE" })).toBe(0);
      expect(value(second, "wattswarm_attempt_errors_total", { error_code: "LEASE_EXPIRED" })).toBe(1);
      expect(value(second, "wattswarm_claim_latency_seconds_count")).toBe(1);
    } finally {
      await raw.end();
    }
  });
});
