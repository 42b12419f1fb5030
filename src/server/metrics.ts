// GET /metrics: Prometheus text format 0.0.4 (SPEC §10), computed from the store so it covers every worker.
// Gauges for runs and steps by status; counters and latency histograms over the attempts closed since this
// server started (a restart resets them, as Prometheus expects of counters).
import { ERROR_CODES } from "../executors/types.js";
import type { LatencyHistogram, StoreMetrics } from "../store/metrics.js";
import { ATTEMPT_STATUSES, RUN_STATUSES, STEP_STATUSES } from "../store/types.js";

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

export function renderMetrics(m: StoreMetrics, since: Date): string {
  const out = new Exposition();
  out.family("wattswarm_runs", "gauge", "Runs in the store by status.");
  byLabel(out, "wattswarm_runs", "status", RUN_STATUSES, m.runs_by_status);
  out.family("wattswarm_steps", "gauge", "Steps in the store by status.");
  byLabel(out, "wattswarm_steps", "status", STEP_STATUSES, m.steps_by_status);

  const byStatus: Record<string, number> = {};
  const byCode: Record<string, number> = {};
  for (const a of m.attempts) {
    byStatus[a.status] = (byStatus[a.status] ?? 0) + a.count;
    if (a.error_code !== null) byCode[a.error_code] = (byCode[a.error_code] ?? 0) + a.count;
  }
  out.family(
    "wattswarm_attempts_finished_total",
    "counter",
    "Attempts closed since serve started, by attempt status.",
  );
  const closed = ATTEMPT_STATUSES.filter((s) => s !== "RUNNING");
  byLabel(out, "wattswarm_attempts_finished_total", "status", closed, byStatus);
  out.family(
    "wattswarm_attempt_errors_total",
    "counter",
    "Failed attempts closed since serve started, by error_code (SPEC §8.4).",
  );
  byLabel(out, "wattswarm_attempt_errors_total", "error_code", ERROR_CODES, byCode);

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
