// What both adapters' migration runners share: the migration record, the tables WattSwarm owns, the
// refusal messages, and the default executors registered when a schema is created.

import { WattswarmError } from "../errors.js";
import type { ExecutorInput } from "./types.js";

export interface Migration {
  /** 1, 2, 3…: applied in order, each exactly once. */
  version: number;
  name: string;
  sql: string;
}

/** Checked before anything is created: one of these without `wattswarm_migrations` is somebody else's table. */
export const WATTSWARM_TABLES = [
  "runs",
  "run_steps",
  "run_step_attempts",
  "run_events",
  "executors",
  "agent_reputation",
  "run_feedback",
] as const;

export const MIGRATIONS_TABLE = "wattswarm_migrations";

export const DEFAULT_RUNTIME_URL = "http://127.0.0.1:8787";

/** SPEC §8.3: `sim` with its defaults, `rt` pointing at a local `wattswarm runtime`. */
export function defaultExecutors(env: NodeJS.ProcessEnv): ExecutorInput[] {
  const url = env.WATTSWARM_RUNTIME_URL?.trim() || DEFAULT_RUNTIME_URL;
  return [
    { name: "rt", kind: "http", config: { url } },
    { name: "sim", kind: "sim", config: {} },
  ];
}

export function foreignTableError(table: string, remedy: string): WattswarmError {
  return new WattswarmError(
    "SCHEMA_CONFLICT",
    `table "${table}" exists but was not created by WattSwarm; ${remedy}`,
  );
}

export function newerSchemaError(found: number, known: number): WattswarmError {
  return new WattswarmError(
    "SCHEMA_CONFLICT",
    `the store's schema is at version ${found} but this wattswarm knows only up to ${known}; upgrade wattswarm`,
  );
}

/** Rejects gaps and duplicates in a migration list, which would otherwise skip or repeat DDL silently. */
export function assertMigrationList(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new WattswarmError(
        "INTERNAL",
        `migration "${m.name}" has version ${m.version}, expected ${i + 1}`,
      );
    }
  });
}

export function latestVersion(migrations: readonly Migration[]): number {
  return migrations.at(-1)?.version ?? 0;
}
