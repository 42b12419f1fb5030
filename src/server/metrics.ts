// GET /metrics: Prometheus text format 0.0.4 (SPEC §10), computed from the store so it covers every worker.
// Gauges for runs and steps by status, read whole on each scrape; counters and latency histograms over the
// attempts closed since this server started (a restart resets them, as Prometheus expects of counters), kept in
// memory and fed by each scrape with only the attempts closed since the previous one (MetricsCollector).

import type { ClosedAttempt, LatencyHistogram, StatusCounts } from "../store/metrics.js";
import type { Store } from "../store/port.js";
import { ATTEMPT_STATUSES, ERROR_CODES, RUN_STATUSES, STEP_STATUSES } from "../vocab.js";

/** Histogram bucket upper bounds in ms (rendered in seconds). */
export const LATENCY_BUCKETS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000,
] as const;

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const seconds = (ms: number) => String(ms / 1000);

class Exposition {
  private lines: string[] = [];

  family(name: string, type: "gauge" | "counter" | "histogram", help: string): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    return this;
  }

  sample(name: string, labels: Record<string, string>, value: number): this {
    const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
    this.lines.push(`${name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${value}`);
    return this;
  }

  histogram(name: string, help: string, h: LatencyHistogram): this {
    this.family(name, "histogram", help);
    h.bounds_ms.forEach((bound, i) => {
      this.sample(`${name}_bucket`, { le: seconds(bound) }, h.counts[i] ?? 0);
    });
    this.sample(`${name}_bucket`, { le: "+Inf" }, h.count);
    this.sample(`${name}_sum`, {}, h.sum_ms / 1000);
    return this.sample(`${name}_count`, {}, h.count);
  }

  text(): string {
    return `${this.lines.join("\n")}\n`;
  }
}

/** Every known label value gets a sample (0 when absent), so series exist before their first occurrence. */
function byLabel(
  out: Exposition,
  name: string,
  label: string,
  known: readonly string[],
  values: Partial<Record<string, number>>,
): void {
  const keys = [...new Set([...known, ...Object.keys(values)])];
  for (const key of keys) out.sample(name, { [label]: key }, values[key] ?? 0);
}

/** What one scrape shows: the gauges as read, the counters as accumulated since `since`. */
export interface MetricsSnapshot extends StatusCounts, AttemptTotals {}

export function renderMetrics(m: MetricsSnapshot, since: Date): string {
  const out = new Exposition();
  out.family("wattswarm_runs", "gauge", "Runs in the store by status.");
  byLabel(out, "wattswarm_runs", "status", RUN_STATUSES, m.runs_by_status);
  out.family("wattswarm_steps", "gauge", "Steps in the store by status.");
  byLabel(out, "wattswarm_steps", "status", STEP_STATUSES, m.steps_by_status);

  out.family(
    "wattswarm_attempts_finished_total",
    "counter",
    "Attempts closed since serve started, by attempt status.",
  );
  const closed = ATTEMPT_STATUSES.filter((s) => s !== "RUNNING");
  byLabel(out, "wattswarm_attempts_finished_total", "status", closed, m.attempts_by_status);
  out.family(
    "wattswarm_attempt_errors_total",
    "counter",
    "Failed attempts closed since serve started, by error_code (SPEC §8.4).",
  );
  byLabel(out, "wattswarm_attempt_errors_total", "error_code", ERROR_CODES, m.errors_by_code);

  out.histogram(
    "wattswarm_claim_latency_seconds",
    "Claim latency (started_at - due_at) of attempts closed since serve started.",
    m.claim_latency,
  );
  out.histogram(
    "wattswarm_step_latency_seconds",
    "Step latency (finished_at - started_at) of attempts closed since serve started.",
    m.step_latency,
  );
  out.family(
    "wattswarm_metrics_since_seconds",
    "gauge",
    "Start of the counting window (serve start), Unix time.",
  );
  out.sample("wattswarm_metrics_since_seconds", {}, since.getTime() / 1000);
  return out.text();
}

/** The counters: every attempt closed since serve started, each counted once. */
export interface AttemptTotals {
  /** By the status the attempt had when a scrape first read it. */
  attempts_by_status: Record<string, number>;
  /** Those with an error_code, by code. */
  errors_by_code: Record<string, number>;
  claim_latency: LatencyHistogram;
  step_latency: LatencyHistogram;
}

/** How long a closing transaction may take from its start to its commit and still be counted (default 60 s). */
export const DEFAULT_METRICS_LAG_MS = 60_000;

function emptyHistogram(boundsMs: readonly number[]): LatencyHistogram {
  return { bounds_ms: [...boundsMs], counts: boundsMs.map(() => 0), count: 0, sum_ms: 0 };
}

function observe(h: LatencyHistogram, ms: number): void {
  h.count += 1;
  h.sum_ms += ms;
  h.bounds_ms.forEach((bound, i) => {
    if (ms <= bound) h.counts[i] = (h.counts[i] ?? 0) + 1;
  });
}

const copyHistogram = (h: LatencyHistogram): LatencyHistogram => ({
  ...h,
  bounds_ms: [...h.bounds_ms],
  counts: [...h.counts],
});

/**
 * Cumulative counters over the attempts closed since `since`, fed with one read of the store per scrape.
 *
 * An attempt's `finished_at` is the clock of the transaction that closed it, taken when that transaction
 * started; it becomes visible only at commit. So a read cannot stop at the previous read's time: each read
 * starts `lagMs` before the clock value taken just before the previous read (never before `since`), and the
 * attempts it reads again are recognised by (step_id, attempt_seq). The keys kept are exactly those a later read
 * can return again: attempts whose finished_at is at or after the next read's lower bound, i.e. those closed in
 * the last `lagMs` before the previous scrape (plus any stamped by a clock ahead of the store's).
 *
 * The bound: an attempt is counted exactly once when its closing transaction committed less than `lagMs` after
 * it started. One that took longer can be missed, if a scrape ran between its start + `lagMs` and its commit.
 */
export class AttemptCounters {
  readonly since: Date;
  readonly lagMs: number;
  private from: number;
  private readonly seen = new Map<string, number>();
  private readonly totals: AttemptTotals;

  constructor(opts: { since: Date; lagMs?: number; boundsMs?: readonly number[] }) {
    this.since = opts.since;
    this.lagMs = opts.lagMs ?? DEFAULT_METRICS_LAG_MS;
    if (!Number.isSafeInteger(this.lagMs) || this.lagMs < 0)
      throw new RangeError(`metrics lag must be an integer ≥ 0 (ms), got ${this.lagMs}`);
    this.from = this.since.getTime();
    const bounds = opts.boundsMs ?? LATENCY_BUCKETS_MS;
    this.totals = {
      attempts_by_status: {},
      errors_by_code: {},
      claim_latency: emptyHistogram(bounds),
      step_latency: emptyHistogram(bounds),
    };
  }

  /** The lower bound (finished_at ≥) of the next read. */
  get readFrom(): Date {
    return new Date(this.from);
  }

  /** How many attempt keys are held to recognise re-read attempts. */
  get heldKeys(): number {
    return this.seen.size;
  }

  /**
   * Counts the attempts of one read from `readFrom`, each once; `clockBefore` is the store's clock read before
   * that read was sent. Returns how many were new.
   */
  absorb(rows: readonly ClosedAttempt[], clockBefore: Date): number {
    let added = 0;
    const t = this.totals;
    for (const a of rows) {
      if (a.finished_ms < this.from) continue;
      const key = `${a.step_id}#${a.attempt_seq}`;
      if (this.seen.has(key)) continue;
      this.seen.set(key, a.finished_ms);
      added += 1;
      t.attempts_by_status[a.status] = (t.attempts_by_status[a.status] ?? 0) + 1;
      if (a.error_code !== null) t.errors_by_code[a.error_code] = (t.errors_by_code[a.error_code] ?? 0) + 1;
      observe(t.claim_latency, a.claim_ms);
      observe(t.step_latency, a.step_ms);
    }
    // Never moves back, even when the clock does; starts at `since`. Keys behind it can never be read again.
    this.from = Math.max(this.from, clockBefore.getTime() - this.lagMs);
    for (const [key, finished] of this.seen) if (finished < this.from) this.seen.delete(key);
    return added;
  }

  snapshot(): AttemptTotals {
    const t = this.totals;
    return {
      attempts_by_status: { ...t.attempts_by_status },
      errors_by_code: { ...t.errors_by_code },
      claim_latency: copyHistogram(t.claim_latency),
      step_latency: copyHistogram(t.step_latency),
    };
  }
}

export type MetricsSource = Pick<Store, "readStatusCounts" | "readClosedAttempts" | "now">;

export interface MetricsCollectorOptions {
  /** Start of the counting window (serve start). */
  since: Date;
  /** See AttemptCounters (default DEFAULT_METRICS_LAG_MS). */
  lagMs?: number;
  /** The clock `finished_at` is written in (default: the store's, `store.now()`); tests inject one. */
  now?: () => Promise<Date>;
}

/** One per server: each scrape reads the gauges and the attempts closed since the previous scrape's window. */
export class MetricsCollector {
  readonly counters: AttemptCounters;
  private readonly now: () => Promise<Date>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: MetricsSource,
    opts: MetricsCollectorOptions,
  ) {
    this.counters = new AttemptCounters({
      since: opts.since,
      ...(opts.lagMs === undefined ? {} : { lagMs: opts.lagMs }),
    });
    this.now = opts.now ?? (() => store.now());
  }

  get since(): Date {
    return this.counters.since;
  }

  /** The current values; concurrent scrapes take turns, so each read starts where the previous one left. */
  scrape(): Promise<MetricsSnapshot> {
    const next = this.queue.then(() => this.collect());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async collect(): Promise<MetricsSnapshot> {
    // The clock first: any attempt the read below cannot see yet commits after this instant.
    const clock = await this.now();
    const [gauges, rows] = await Promise.all([
      this.store.readStatusCounts(),
      this.store.readClosedAttempts(this.counters.readFrom),
    ]);
    this.counters.absorb(rows, clock);
    return { ...gauges, ...this.counters.snapshot() };
  }
}
