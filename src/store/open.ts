// Opening the adapter a StoreConfig selects. `loadStore` imports only that adapter's driver (each CLI command is
// a new process, and the other driver would only add to its start-up time); `openStore` in index.ts builds the
// same adapters synchronously for library users, from the same option mapping.
import type { StoreConfig } from "./config.js";
import type { Store } from "./port.js";
import type { PostgresStoreOptions } from "./postgres/index.js";
import type { RunStore } from "./run-port.js";
import type { SqliteStoreOptions } from "./sqlite/index.js";

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

type PgConfig = Extract<StoreConfig, { kind: "postgres" }>;
type SqliteConfig = Extract<StoreConfig, { kind: "sqlite" }>;

export function sqliteOptions(config: SqliteConfig, options: OpenStoreOptions): SqliteStoreOptions {
  return {
    path: config.path,
    ...(config.busyWaitMs === undefined ? {} : { busyWaitMs: config.busyWaitMs }),
    ...(options.env === undefined ? {} : { env: options.env }),
  };
}

export function postgresOptions(config: PgConfig, options: OpenStoreOptions): PostgresStoreOptions {
  return {
    url: config.url,
    ...(config.schema === undefined ? {} : { schema: config.schema }),
    ...(options.poolMax === undefined ? {} : { max: options.poolMax }),
    ...(options.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: options.statementTimeoutMs }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.env === undefined ? {} : { env: options.env }),
  };
}

/** The adapter for `config`, loading only its driver. Nothing connects until the first call. */
export async function loadStore(
  config: StoreConfig,
  options: OpenStoreOptions = {},
): Promise<Store & RunStore> {
  if (config.kind === "sqlite") {
    const { SqliteStore } = await import("./sqlite/index.js");
    return new SqliteStore(sqliteOptions(config, options));
  }
  const { PostgresStore } = await import("./postgres/index.js");
  return new PostgresStore(postgresOptions(config, options));
}
