// Retention (SPEC §7 `run prune`): terminal runs finished longer ago than an age are deleted with their steps,
// attempts, events and feedback, one bounded transaction per batch, so a large backlog never holds locks or
// grows one transaction without limit. A chore with one entry point (DESIGN practice 6): the CLI calls it
// once; a scheduler could call it periodically. agent_reputation is never touched.

import { WattswarmError } from "../errors.js";
import type { PruneCounts, Store } from "../store/port.js";
import { type RunStatus, TERMINAL_RUN_STATUSES } from "../vocab.js";

export const DEFAULT_PRUNE_BATCH = 1000;

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/** `30d`, `12h`, `90m` → milliseconds; anything else is a usage error naming the accepted forms. */
export function parseAge(text: string): number {
  const match = /^(\d{1,7})([dhm])$/.exec(text.trim());
  const n = match ? Number(match[1]) : Number.NaN;
  if (!match || !(n >= 0)) {
    throw new WattswarmError(
      "USAGE",
      `invalid age "${text}": expected a whole number of days, hours or minutes (30d, 12h, 90m)`,
    );
  }
  return n * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** The statuses to prune: all terminal ones by default; a non-terminal one is a usage error. */
export function pruneStatuses(statuses: readonly string[] | undefined): RunStatus[] {
  if (statuses === undefined || statuses.length === 0) return [...TERMINAL_RUN_STATUSES];
  const terminal: readonly string[] = TERMINAL_RUN_STATUSES;
  const out = new Set<RunStatus>();
  for (const raw of statuses) {
    const status = raw.toUpperCase();
    if (!terminal.includes(status)) {
      throw new WattswarmError(
        "USAGE",
        `--status ${raw}: only terminal runs can be pruned (${TERMINAL_RUN_STATUSES.join(", ")})`,
      );
    }
    out.add(status as RunStatus);
  }
  return [...out];
}

export interface PruneOptions {
  olderThanMs: number;
  statuses?: readonly string[];
  dryRun?: boolean;
  batch?: number;
}

export interface PruneResult extends PruneCounts {
  ok: true;
  dry_run: boolean;
}

/** Prunes batch after batch until one comes back short; the cut-off is taken once, from the store's clock. */
export async function pruneRuns(store: Store, opts: PruneOptions): Promise<PruneResult> {
  const statuses = pruneStatuses(opts.statuses);
  const batch = opts.batch ?? DEFAULT_PRUNE_BATCH;
  if (!Number.isSafeInteger(batch) || batch < 1) {
    throw new WattswarmError("USAGE", `invalid batch size ${batch}: expected an integer ≥ 1`);
  }
  const before = new Date((await store.now()).getTime() - opts.olderThanMs);
  const query = { before, statuses };
  const dryRun = opts.dryRun === true;
  if (dryRun) return { ok: true, dry_run: true, ...(await store.countPrunable(query)) };
  const total: PruneCounts = { runs: 0, steps: 0, attempts: 0, events: 0 };
  for (;;) {
    const counts = await store.pruneRuns(query, batch);
    total.runs += counts.runs;
    total.steps += counts.steps;
    total.attempts += counts.attempts;
    total.events += counts.events;
    if (counts.runs < batch) break;
  }
  return { ok: true, dry_run: false, ...total };
}
