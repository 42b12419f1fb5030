// Opening the store a command talks to (SPEC §7 store selection). The store flags are pulled out of argv by
// main.ts before commander parses, so they are accepted anywhere on the line.
import {
  describeStoreConfig,
  resolveStoreConfig,
  type StoreConfig,
  type StoreFlags,
} from "../store/config.js";
import { loadStore } from "../store/open.js";
import type { WorkerStore } from "../worker/worker.js";

let storeFlags: StoreFlags = {};

export function setStoreFlags(flags: StoreFlags): void {
  storeFlags = flags;
}

export function currentStoreConfig(): StoreConfig {
  return resolveStoreConfig({ flags: storeFlags, env: process.env });
}

/** Opens the selected store, migrates it on first use, runs `fn`, and closes the store. */
export async function withStore<T>(
  fn: (store: WorkerStore, config: StoreConfig) => Promise<T>,
  opts: { migrate?: boolean } = {},
): Promise<T> {
  const config = currentStoreConfig();
  process.stderr.write(`store: ${describeStoreConfig(config)}\n`);
  const store = await loadStore(config);
  try {
    if (opts.migrate !== false) await store.migrate();
    return await fn(store, config);
  } finally {
    await store.close().catch(() => undefined);
  }
}
