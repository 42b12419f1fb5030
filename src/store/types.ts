// Domain types shared by the store port and its callers. This module imports no adapter, so the kernel, CLI
// and server can depend on it without pulling in `pg` or `better-sqlite3`.

import type { JsonObject } from "../spec/types.js";
import type { ExecutorKind } from "../vocab.js";

export type StoreKind = "postgres" | "sqlite";

/** A row of the `executors` registry. Times are ISO-8601 UTC with milliseconds. */
export interface ExecutorRecord {
  name: string;
  kind: ExecutorKind;
  /** Kind-specific settings; never secrets, only the names of env vars that hold them (SPEC §8.1). */
  config: JsonObject;
  created_at: string;
  updated_at: string;
}

export type { ExecutorInput } from "../vocab.js";

export interface MigrateResult {
  /** The highest applied migration version after this call. */
  schema_version: number;
  /** Names of the migrations this call applied, in order; empty when the schema was already current. */
  applied: string[];
}
