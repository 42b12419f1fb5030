// Opening the store a command talks to (SPEC §7 store selection). The store flags are pulled out of argv by
// main.ts before commander parses, so they are accepted anywhere on the line.
import { isWattswarmError } from "../errors.js";
import {
  describeStoreConfig,
  resolveStoreConfig,
  type StoreConfig,
  type StoreFlags,
} from "../store/config.js";
import { openStore } from "../store/open.js";
import type { Store } from "../store/port.js";
import { sleep } from "../util/signals.js";

let storeFlags: StoreFlags = {};

export function setStoreFlags(flags: StoreFlags): void {
  storeFlags = flags;
}

export function currentStoreConfig(): StoreConfig {
  return resolveStoreConfig({ flags: storeFlags, env: process.env });
}

export interface WithStoreOptions {
  /** Migrate before `fn` (default true). */
  migrate?: boolean;
  /**
   * Long-running commands wait this long (ms) for a store that is unavailable at start-up (a database still
   * starting, a connection cut by a failover), retrying with capped backoff, before giving up with exit 1.
   * Default 0: fail at once.
   */
  waitForStoreMs?: number;
}

async function migrateWhenAvailable(store: Store, waitMs: number): Promise<void> {
  const giveUpAt = Date.now() + waitMs;
  for (let delay = 250; ; delay = Math.min(5_000, delay * 2)) {
    try {
      await store.migrate();
      return;
    } catch (err) {
      if (!isWattswarmError(err) || err.code !== "DB_UNAVAILABLE" || Date.now() + delay > giveUpAt) throw err;
      process.stderr.write(`store unavailable (${err.message}); retrying in ${delay} ms\n`);
      await sleep(delay);
    }
  }
}

/** Opens the selected store, migrates it on first use, runs `fn`, and closes the store. */
export async function withStore<T>(
  fn: (store: Store, config: StoreConfig) => Promise<T>,
  opts: WithStoreOptions = {},
): Promise<T> {
  const config = currentStoreConfig();
  process.stderr.write(`store: ${describeStoreConfig(config)}\n`);
  const store = await openStore(config);
  try {
    if (opts.migrate !== false) await migrateWhenAvailable(store, opts.waitForStoreMs ?? 0);
    return await fn(store, config);
  } finally {
    await store.close().catch(() => undefined);
  }
}
