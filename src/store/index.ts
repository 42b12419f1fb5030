// The store entry point: pick an adapter from a resolved StoreConfig (config.ts). Importing this module loads
// both drivers; code that needs only types imports ./types.js or ./port.js.

import type { StoreConfig } from "./config.js";
import { type OpenStoreOptions, postgresOptions, sqliteOptions } from "./open.js";
import type { Store } from "./port.js";
import { PostgresStore } from "./postgres/index.js";
import type { RunStore } from "./run-port.js";
import { SqliteStore } from "./sqlite/index.js";

export type { StoreConfig, StoreFlags, StoreSource } from "./config.js";
export {
  DEFAULT_DB_PATH,
  describeStoreConfig,
  extractStoreFlags,
  redactUrl,
  resolveStoreConfig,
} from "./config.js";
export { loadStore, type OpenStoreOptions } from "./open.js";
export type { Store } from "./port.js";
export { PostgresStore } from "./postgres/index.js";
export { SqliteStore } from "./sqlite/index.js";
export * from "./types.js";

/** Creates the adapter for `config`. Nothing connects until the first call; call `migrate()` before use. */
export function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Store & RunStore {
  if (config.kind === "sqlite") return new SqliteStore(sqliteOptions(config, options));
  return new PostgresStore(postgresOptions(config, options));
}
