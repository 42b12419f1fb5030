// The store entry point: pick an adapter from a resolved StoreConfig (config.ts). Importing this module loads
// both drivers; code that needs only types imports ./types.js or ./port.js.

import type { StoreConfig } from "./config.js";
import type { Store } from "./port.js";
import { PostgresStore } from "./postgres/index.js";
import { SqliteStore } from "./sqlite/index.js";

export type { StoreConfig, StoreFlags, StoreSource } from "./config.js";
export {
  DEFAULT_DB_PATH,
  describeStoreConfig,
  extractStoreFlags,
  redactUrl,
  resolveStoreConfig,
} from "./config.js";
export type { Store } from "./port.js";
export { PostgresStore } from "./postgres/index.js";
export { SqliteStore } from "./sqlite/index.js";
export * from "./types.js";

export interface OpenStoreOptions {
  /** Read for WATTSWARM_RUNTIME_URL when the schema is created (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** PostgreSQL pool size (default 10). */
  poolMax?: number;
  /** PostgreSQL per-statement limit in ms (default 30 000). */
  statementTimeoutMs?: number;
  /** PostgreSQL connect limit in ms (default 10 000). */
  connectTimeoutMs?: number;
}

/** Creates the adapter for `config`. Nothing connects until the first call; call `migrate()` before use. */
export function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Store {
  const env = options.env === undefined ? {} : { env: options.env };
  if (config.kind === "sqlite") return new SqliteStore({ path: config.path, ...env });
  return new PostgresStore({
    url: config.url,
    ...(config.schema === undefined ? {} : { schema: config.schema }),
    ...(options.poolMax === undefined ? {} : { max: options.poolMax }),
    ...(options.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: options.statementTimeoutMs }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    ...env,
  });
}
