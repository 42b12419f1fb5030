// Which store a command talks to (SPEC §7). Pure: flags, environment and cwd in, a decision out, so every
// precedence rule is testable without touching a database.

import { isAbsolute, resolve } from "node:path";
import { WattswarmError } from "../errors.js";

export interface StoreFlags {
  pgUrl?: string;
  db?: string;
  pgSchema?: string;
}

export type StoreSource = "flag" | "WATTSWARM_PG_URL" | "DATABASE_URL" | "WATTSWARM_DB" | "default";

export type StoreConfig =
  | { kind: "postgres"; url: string; schema?: string; source: StoreSource }
  | {
      kind: "sqlite";
      path: string;
      source: StoreSource;
      /** How long a write waits for another connection's lock, ms (WATTSWARM_SQLITE_BUSY_MS; default 5000). */
      busyWaitMs?: number;
    };

export interface ResolveStoreInput {
  flags: StoreFlags;
  env: Readonly<Record<string, string | undefined>>;
  /** Relative SQLite paths resolve against this; defaults to process.cwd(). */
  cwd?: string;
}

export const DEFAULT_DB_PATH = "./.wattswarm/wattswarm.db";

const PG_SCHEMES = /^postgres(ql)?:\/\//i;
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Empty variables count as unset: `FOO= cmd` is how shells unset a variable for one command. */
function envValue(env: ResolveStoreInput["env"], name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function isPostgresUrl(url: string): boolean {
  return PG_SCHEMES.test(url);
}

export function validateSchemaName(schema: string, origin: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new WattswarmError(
      "USAGE",
      `${origin}: invalid schema name "${schema}" (letters, digits and _, not starting with a digit, at most 63)`,
    );
  }
  return schema;
}

function busyWaitOf(value: string): number {
  if (!/^\d{1,9}$/.test(value)) {
    throw new WattswarmError(
      "USAGE",
      `WATTSWARM_SQLITE_BUSY_MS must be a whole number of milliseconds (0 to 999999999), got "${value}"`,
    );
  }
  return Number(value);
}

function requirePostgresUrl(url: string, origin: string): string {
  if (!isPostgresUrl(url)) {
    throw new WattswarmError(
      "USAGE",
      `${origin} must be a postgres:// or postgresql:// URL, got "${redactUrl(url)}"`,
    );
  }
  return url;
}

export function resolveStoreConfig(input: ResolveStoreInput): StoreConfig {
  const { flags, env } = input;
  const cwd = input.cwd ?? process.cwd();
  if (flags.pgUrl !== undefined && flags.db !== undefined) {
    throw new WattswarmError("USAGE", "use either --pg-url or --db, not both");
  }

  const schemaFlag = flags.pgSchema;
  const schemaEnv = envValue(env, "WATTSWARM_PG_SCHEMA");
  const postgres = (url: string, source: StoreSource): StoreConfig => {
    if (schemaFlag !== undefined) {
      return { kind: "postgres", url, schema: validateSchemaName(schemaFlag, "--pg-schema"), source };
    }
    if (schemaEnv !== undefined) {
      return { kind: "postgres", url, schema: validateSchemaName(schemaEnv, "WATTSWARM_PG_SCHEMA"), source };
    }
    return { kind: "postgres", url, source };
  };
  const sqlite = (path: string, source: StoreSource): StoreConfig => {
    // An explicit --pg-schema with a SQLite store is a mistake worth reporting; the env var may be set
    // globally for other invocations and is simply not used here.
    if (schemaFlag !== undefined) {
      throw new WattswarmError(
        "USAGE",
        "--pg-schema needs a PostgreSQL store (--pg-url or WATTSWARM_PG_URL)",
      );
    }
    const busyWait = envValue(env, "WATTSWARM_SQLITE_BUSY_MS");
    const config: StoreConfig = { kind: "sqlite", path: resolveDbPath(path, cwd), source };
    if (busyWait !== undefined) config.busyWaitMs = busyWaitOf(busyWait);
    return config;
  };

  if (flags.pgUrl !== undefined) return postgres(requirePostgresUrl(flags.pgUrl, "--pg-url"), "flag");
  if (flags.db !== undefined) return sqlite(flags.db, "flag");

  const pgUrl = envValue(env, "WATTSWARM_PG_URL");
  if (pgUrl !== undefined) return postgres(requirePostgresUrl(pgUrl, "WATTSWARM_PG_URL"), "WATTSWARM_PG_URL");

  // DATABASE_URL is shared with other tools (a MySQL or SQLite URL for another app): only a PostgreSQL URL
  // is ours to take.
  const databaseUrl = envValue(env, "DATABASE_URL");
  if (databaseUrl !== undefined && isPostgresUrl(databaseUrl)) return postgres(databaseUrl, "DATABASE_URL");

  const dbPath = envValue(env, "WATTSWARM_DB");
  if (dbPath !== undefined) return sqlite(dbPath, "WATTSWARM_DB");
  return sqlite(DEFAULT_DB_PATH, "default");
}

function resolveDbPath(path: string, cwd: string): string {
  if (path === ":memory:" || isAbsolute(path)) return path;
  return resolve(cwd, path);
}

/**
 * Query parameters of a libpq URL that hold secrets: the password and the passphrase of the client key.
 * `sslkey`, `sslcert` and `passfile` are paths, kept because they help to read an error.
 */
const SECRET_URL_PARAMS = new Set(["password", "sslpassword"]);

/** The URL with its password (and `password`/`sslpassword` query parameters) removed, for logs and errors. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL we can parse: still never echo what looks like credentials.
    return url
      .replace(/\/\/([^/@:]*):[^/@]*@/, "//$1@")
      .replace(/([?&])(ssl)?password=[^&#]*&?/gi, "$1")
      .replace(/[?&]$/, "");
  }
  parsed.password = "";
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_URL_PARAMS.has(key.toLowerCase())) parsed.searchParams.delete(key);
  }
  return parsed.toString();
}

/** How a store is shown in logs: `store: <describe>` plus the rule that chose it when it was DATABASE_URL. */
export function describeStoreConfig(config: StoreConfig): string {
  const where = config.kind === "postgres" ? redactUrl(config.url) : config.path;
  return config.source === "DATABASE_URL" ? `${where} (from DATABASE_URL)` : where;
}

const VALUE_FLAGS = { "--pg-url": "pgUrl", "--db": "db", "--pg-schema": "pgSchema" } as const;
type ValueFlag = keyof typeof VALUE_FLAGS;

function isValueFlag(token: string): token is ValueFlag {
  return Object.hasOwn(VALUE_FLAGS, token);
}

/**
 * Pulls the store flags out of argv wherever they appear, so `wattswarm --pg-url U run init`,
 * `wattswarm run --pg-url U worker` and `wattswarm run init --pg-url U` are the same command. Scanning stops
 * at `--` and at `--command`, whose following words are another program's argv (SPEC §7 `executors add`).
 */
export function extractStoreFlags(argv: readonly string[]): { argv: string[]; flags: StoreFlags } {
  const rest: string[] = [];
  const flags: StoreFlags = {};
  const seen = new Set<ValueFlag>();

  const take = (flag: ValueFlag, value: string | undefined): void => {
    if (value === undefined || value === "" || value.startsWith("--")) {
      throw new WattswarmError("USAGE", `${flag} needs a value`);
    }
    if (seen.has(flag)) throw new WattswarmError("USAGE", `${flag} given more than once`);
    seen.add(flag);
    flags[VALUE_FLAGS[flag]] = value;
  };

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === "--" || token === "--command") {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = token.indexOf("=");
    const name = eq > 0 ? token.slice(0, eq) : token;
    if (!isValueFlag(name)) {
      rest.push(token);
      continue;
    }
    if (eq > 0) {
      take(name, token.slice(eq + 1));
    } else {
      take(name, argv[i + 1]);
      i++;
    }
  }
  return { argv: rest, flags };
}
