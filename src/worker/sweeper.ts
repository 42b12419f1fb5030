// How often a worker sweeps for expired leases (SPEC §4). The claim loop asks before every claim, but a sweep
// goes ahead only once per interval of the worker's clock, min(L/4, 1 s), and never while this worker's last
// sweep is still running; the heartbeat's sweep (every H) is forced, so the recovery bound does not depend on
// the claim loop. Across workers, RunTx.trySweepLock lets one sweeper at a time do the work.

import { expireLeases } from "../kernel/attempts.js";
import type { Store } from "../store/port.js";

/** The claim loop's sweep interval for lease length `leaseMs`: a quarter of the lease, at most 1 s. */
export function sweepIntervalMs(leaseMs: number): number {
  return Math.min(Math.floor(leaseMs / 4), 1_000);
}

export class LeaseSweeper {
  /** When the last sweep began, by the clock; a failed sweep counts too. */
  private lastAt = Number.NEGATIVE_INFINITY;
  private running = 0;

  constructor(
    private readonly store: Store,
    readonly intervalMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Expires stale leases (kernel expireLeases) and returns how many; null when skipped: a sweep of this worker
   * began less than the interval ago or is still running. `force` sweeps regardless (the heartbeat).
   */
  async sweep(opts: { force?: boolean } = {}): Promise<number | null> {
    const now = this.clock();
    if (!opts.force && (this.running > 0 || now - this.lastAt < this.intervalMs)) return null;
    this.lastAt = now;
    this.running += 1;
    try {
      return await expireLeases(this.store);
    } finally {
      this.running -= 1;
    }
  }
}
