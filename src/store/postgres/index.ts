// The PostgreSQL adapter of the store port. Run transitions build on `this.db.tx` (one client, BEGIN …
// COMMIT); everything that reads a single statement uses `this.db.query`. The run half (transactions, claims,
// heartbeats, reads) is the base class, in run-store.ts.

import type pg from "pg";
import { WattswarmError } from "../../errors.js";
import { redactUrl } from "../config.js";
import type { ClosedAttempt, StatusCounts } from "../metrics.js";
import type { PruneCounts, PruneQuery, Store } from "../port.js";
import { assertExecutorInput, executorKindOf, isoTime, jsonObjectOf } from "../records.js";
import type { ExecutorInput, ExecutorRecord, MigrateResult } from "../types.js";
import { PgDatabase, type PgDatabaseOptions, quoteIdent } from "./database.js";
import { readPgClosedAttempts, readPgStatusCounts } from "./metrics-queries.js";
import { migratePostgres } from "./migrate.js";
import { MIGRATIONS } from "./migrations/index.js";
import { notifyChannel, PgNotifier } from "./notifier.js";
import { countPgPrunable, prunePgBatch } from "./prune-queries.js";
import {
  type ExecutorRow,
  GET_EXECUTOR,
  LIST_EXECUTORS,
  NOW,
  REMOVE_EXECUTOR,
  UPSERT_EXECUTOR,
} from "./queries.js";
import { PgRunStore } from "./run-store.js";

export interface PostgresStoreOptions extends PgDatabaseOptions {
  /** Read for WATTSWARM_RUNTIME_URL when the schema is created (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

function toExecutorRecord(row: ExecutorRow): ExecutorRecord {
  return {
    name: row.name,
    kind: executorKindOf(row.kind, row.name),
    config: jsonObjectOf(row.config_json, `executor "${row.name}" config`),
    created_at: isoTime(row.created_at),
    updated_at: isoTime(row.updated_at),
  };
}

/** The pool and the LISTEN connection of a store. */
function connect(options: PostgresStoreOptions): { db: PgDatabase; notifier: PgNotifier } {
  const { env, ...dbOptions } = options;
  const db = new PgDatabase(dbOptions);
  // LISTEN needs a session of its own: behind a transaction-mode pooler, WATTSWARM_PG_LISTEN_URL names a
  // direct connection to the same database for it (docs/operations.md, "Poolers").
  const listenUrl = (env ?? process.env).WATTSWARM_PG_LISTEN_URL?.trim();
  if (listenUrl && !/^postgres(ql)?:\/\//.test(listenUrl))
    throw new WattswarmError(
      "USAGE",
      `WATTSWARM_PG_LISTEN_URL must be a postgres:// or postgresql:// URL, got "${redactUrl(listenUrl)}"`,
    );
  const clientConfig: pg.ClientConfig = {
    connectionString: listenUrl || options.url,
    application_name: "wattswarm-listen",
  };
  if (db.schema !== undefined) clientConfig.options = `-c search_path=${quoteIdent(db.schema)}`;
  return { db, notifier: new PgNotifier(clientConfig, notifyChannel(db.schema)) };
}

export class PostgresStore extends PgRunStore implements Store {
  readonly kind = "postgres" as const;
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: PostgresStoreOptions) {
    const { db, notifier } = connect(options);
    super(db, notifier);
    this.env = options.env ?? process.env;
  }

  /** The schema all tables live in, when one was chosen with --pg-schema. */
  get schema(): string | undefined {
    return this.db.schema;
  }

  describe(): string {
    return this.db.redactedUrl;
  }

  migrate(): Promise<MigrateResult> {
    return migratePostgres(this.db, MIGRATIONS, this.env);
  }

  async close(): Promise<void> {
    await this.notifier.close();
    await this.db.end();
  }

  async now(): Promise<Date> {
    const rows = await this.db.query<{ now: Date }>(NOW);
    return rows[0]?.now as Date;
  }

  async listExecutors(): Promise<ExecutorRecord[]> {
    const rows = await this.db.query<ExecutorRow>(LIST_EXECUTORS);
    return rows.map(toExecutorRecord);
  }

  async getExecutor(name: string): Promise<ExecutorRecord | null> {
    const rows = await this.db.query<ExecutorRow>(GET_EXECUTOR, [name]);
    return rows[0] ? toExecutorRecord(rows[0]) : null;
  }

  async upsertExecutor(input: ExecutorInput): Promise<ExecutorRecord> {
    assertExecutorInput(input);
    const rows = await this.db.query<ExecutorRow>(UPSERT_EXECUTOR, [
      input.name,
      input.kind,
      JSON.stringify(input.config),
    ]);
    return toExecutorRecord(rows[0] as ExecutorRow);
  }

  async removeExecutor(name: string): Promise<boolean> {
    const rows = await this.db.query(REMOVE_EXECUTOR, [name]);
    return rows.length > 0;
  }

  readStatusCounts(): Promise<StatusCounts> {
    return readPgStatusCounts(this.db);
  }

  readClosedAttempts(since: Date): Promise<ClosedAttempt[]> {
    return readPgClosedAttempts(this.db, since);
  }

  pruneRuns(query: PruneQuery, limit: number): Promise<PruneCounts> {
    return prunePgBatch(this.db, query, limit);
  }

  countPrunable(query: PruneQuery): Promise<PruneCounts> {
    return countPgPrunable(this.db, query);
  }
}
