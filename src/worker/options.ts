// Worker options, typed and defaulted once (SPEC §7 `run worker`).
import { hostname } from "node:os";
import { WattswarmError } from "../errors.js";

export interface WorkerOptions {
  /** Shown in attempts and events; default `<host>:<pid>:<random>`. */
  workerId: string;
  /** Steps executed at once. Default 16. */
  concurrency: number;
  /** Poll interval when no NOTIFY arrives, ms. Default 250. */
  pollMs: number;
  /** Lease length L, ms. Default 20 000. */
  leaseMs: number;
  /** Heartbeat interval H, ms; must be < L. Default L/2. */
  heartbeatMs: number;
  /** Claim one batch, finish it, exit. */
  once: boolean;
  /** Exit when this worker holds nothing and no step in the store is QUEUED, RETRY_WAIT or LEASED. */
  exitWhenIdle: boolean;
  /** Only claim steps of this run (`run exec`). */
  runId?: string;
  /** How long a graceful shutdown waits for in-flight steps before releasing them, ms. Default 10 000. */
  shutdownGraceMs: number;
}

export type WorkerOptionsInput = Partial<WorkerOptions>;

function positiveInt(name: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new WattswarmError("USAGE", `${name} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}

export function resolveWorkerOptions(input: WorkerOptionsInput = {}): WorkerOptions {
  const leaseMs = positiveInt("--lease-ms", input.leaseMs ?? 20_000, 100);
  const heartbeatMs = positiveInt("--heartbeat-ms", input.heartbeatMs ?? Math.floor(leaseMs / 2), 10);
  if (heartbeatMs >= leaseMs) {
    throw new WattswarmError(
      "USAGE",
      `--heartbeat-ms (${heartbeatMs}) must be less than --lease-ms (${leaseMs})`,
    );
  }
  const options: WorkerOptions = {
    workerId: input.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`,
    concurrency: positiveInt("--concurrency", input.concurrency ?? 16),
    pollMs: positiveInt("--poll-ms", input.pollMs ?? 250, 10),
    leaseMs,
    heartbeatMs,
    once: input.once ?? false,
    exitWhenIdle: input.exitWhenIdle ?? false,
    shutdownGraceMs: positiveInt("shutdownGraceMs", input.shutdownGraceMs ?? 10_000, 0),
  };
  if (input.runId !== undefined) options.runId = input.runId;
  return options;
}
