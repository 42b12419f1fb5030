// Opening the adapter a StoreConfig selects. `openStore` imports only that adapter's driver (each CLI command is
// a new process, and the other driver would only add to its start-up time).
import type { StoreConfig } from "./config.js";
import type { Store } from "./port.js";
import type { PostgresStoreOptions } from "./postgres/index.js";
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

function sqliteOptions(config: SqliteConfig, options: OpenStoreOptions): SqliteStoreOptions {
  return {
    path: config.path,
    ...(config.busyWaitMs === undefined ? {} : { busyWaitMs: config.busyWaitMs }),
    ...(options.env === undefined ? {} : { env: options.env }),
  };
}

function postgresOptions(config: PgConfig, options: OpenStoreOptions): PostgresStoreOptions {
  return {
    url: config.url,
    ...(config.schema === undefined ? {} : { schema: config.schema }),
    ...(options.poolMax === undefined ? {} : { max: options.poolMax }),
    ...(options.statementTimeoutMs === undefined ? {} : { statementTimeoutMs: options.statementTimeoutMs }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.env === undefined ? {} : { env: options.env }),
  };
}

/**
 * The store `config` selects (resolveStoreConfig), loading only its driver. Nothing connects until the first
 * call, and nothing is migrated or logged: call `migrate()` before first use (the CLI logs `store: …` and
 * migrates itself, SPEC §7).
 */
export async function openStore(config: StoreConfig, options: OpenStoreOptions = {}): Promise<Store> {
  if (config.kind === "sqlite") {
    const { SqliteStore } = await import("./sqlite/index.js");
    return new SqliteStore(sqliteOptions(config, options));
  }
  const { PostgresStore } = await import("./postgres/index.js");
  return new PostgresStore(postgresOptions(config, options));
}
