// The pool and the two ways the adapter talks to it: a single statement, or a transaction on one pooled
// client. Connection failures leave here as DB_UNAVAILABLE, whichever method hit them.

import { createHash } from "node:crypto";
import pg from "pg";
import { redactUrl, validateSchemaName } from "../config.js";
import { mapConnectionError } from "./errors.js";

/** What a named query needs: the pool itself or a client inside a transaction. */
export interface PgQueryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

export interface PgDatabaseOptions {
  url: string;
  /** Every pooled connection gets `search_path` = this schema only, so nothing leaks into `public`. */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** Per-statement limit (default 30 s); migrations lift it for their own transactions. */
  statementTimeoutMs?: number;
  /** How long to wait for a connection (default 10 s), so a black-holed host fails instead of hanging. */
  connectTimeoutMs?: number;
  /**
   * Send parameterized statements as named prepared statements, parsed and planned once per connection
   * (default: on, unless WATTSWARM_PG_PREPARED=off; turn it off behind a pooler in transaction mode that does
   * not track prepared statements, e.g. pgbouncer before 1.21 or without max_prepared_statements).
   */
  prepared?: boolean;
}

/** Whether the environment allows named prepared statements (WATTSWARM_PG_PREPARED=off forbids them). */
export function preparedFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return !/^(off|0|false|no)$/i.test(env.WATTSWARM_PG_PREPARED?.trim() ?? "");
}

const statementNames = new Map<string, string>();

/**
 * A parameterized statement as a named prepared statement: the name is derived from the text, so every
 * connection prepares each text once. The texts are the adapter's fixed queries and whitelisted SET lists,
 * so the set of names is bounded.
 */
function preparedQuery(text: string, values: unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `ws_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

const INT8_OID = 20;

// int8 arrives as a string by default. Ours are counts and event ids, far below 2^53: parse them, but refuse
// to round silently if one ever is not.
function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} exceeds Number.MAX_SAFE_INTEGER`);
  return n;
}

const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? "text")) as pg.CustomTypesConfig["getTypeParser"],
};

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A worker that dies between BEGIN and COMMIT must not hold run-row locks for long. */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;

/**
 * The timeouts as SET statements (`SET LOCAL` for one transaction), never as startup parameters: a pooler such
 * as PgBouncer refuses unknown startup parameters (`unsupported startup parameter: statement_timeout`).
 */
export function timeoutSettings(statementTimeoutMs: number, scope: "SESSION" | "LOCAL"): string {
  const set = scope === "LOCAL" ? "SET LOCAL" : "SET";
  return (
    `${set} statement_timeout = ${Math.trunc(statementTimeoutMs)}; ` +
    `${set} idle_in_transaction_session_timeout = ${IDLE_IN_TRANSACTION_TIMEOUT_MS}`
  );
}

export class PgDatabase {
  readonly pool: pg.Pool;
  readonly redactedUrl: string;
  readonly schema: string | undefined;
  private readonly prepared: boolean;
  /** Sent after every BEGIN, in the same round trip (two results, dropped before `fn` sees the begin's). */
  private readonly txSettings: string;
  /** SET statements of the session timeouts, and the clients that have run them. */
  private readonly sessionSettings: string;
  private readonly sessioned = new WeakSet<pg.PoolClient>();
  private ended = false;

  constructor(options: PgDatabaseOptions) {
    this.redactedUrl = redactUrl(options.url);
    this.schema = options.schema === undefined ? undefined : validateSchemaName(options.schema, "schema");
    this.prepared = options.prepared ?? preparedFromEnv();
    const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
    this.txSettings = timeoutSettings(statementTimeoutMs, "LOCAL");
    // No statement_timeout or idle_in_transaction_session_timeout here: pg would send them as startup
    // parameters, which PgBouncer refuses. `application_name` is one it accepts.
    const config: pg.PoolConfig = {
      connectionString: options.url,
      max: options.max ?? 10,
      application_name: "wattswarm",
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      types: TYPES,
    };
    // A startup parameter, not a SET after connect: it is in force before the first query on every
    // connection, with no window in which a query could run against `public`.
    if (this.schema !== undefined) config.options = `-c search_path=${quoteIdent(this.schema)}`;
    this.pool = new pg.Pool(config);
    // An idle client losing its server emits here; without a listener the process would crash. The next
    // checkout fails and is reported as DB_UNAVAILABLE instead.
    this.pool.on("error", () => {});
    // Session defaults for the single statements outside a transaction, on a direct connection: sent before a
    // client's first such statement (query below). Behind a pooler in transaction mode a session SET lands on
    // whichever server connection serves it and is not kept: every transaction sets its own with SET LOCAL.
    this.sessionSettings = timeoutSettings(statementTimeoutMs, "SESSION");
  }

  /**
   * A client from the pool with `onError` listening: a connection lost while it is checked out (the server
   * terminated it, or restarted) would otherwise emit an unhandled 'error' and crash the process. The listener
   * is attached in the checkout callback itself: the pool drops its own listener there, and a cut in the
   * microtask before an `await` resumed would find no listener at all.
   */
  private checkout(onError: (err: Error) => void): Promise<pg.PoolClient> {
    return new Promise<pg.PoolClient>((resolve, reject) => {
      this.pool.connect((err, checkedOut) => {
        if (err || !checkedOut) reject(err ?? new Error("no client"));
        else {
          checkedOut.on("error", onError);
          resolve(checkedOut);
        }
      });
    }).catch((err: unknown) => {
      throw mapConnectionError(err, this.redactedUrl);
    });
  }

  /** The statement as sent: named and prepared when that is on and it has parameters, else as given. */
  private statement(text: string, values?: unknown[]): pg.QueryConfig {
    if (values === undefined) return { text };
    return this.prepared ? preparedQuery(text, values) : { text, values };
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<R[]> {
    let lost: Error | undefined;
    const onError = (err: Error) => {
      lost ??= err;
    };
    const client = await this.checkout(onError);
    let failed: Error | undefined;
    try {
      if (!this.sessioned.has(client)) {
        await client.query(this.sessionSettings);
        this.sessioned.add(client);
      }
      return (await client.query<R>(this.statement(text, values))).rows;
    } catch (err) {
      failed = err as Error;
      throw mapConnectionError(err, this.redactedUrl);
    } finally {
      client.off("error", onError);
      // As pg.Pool#query does: a client whose statement failed is not handed to the next caller.
      client.release(failed ?? lost);
    }
  }

  /**
   * Runs `fn` between BEGIN and COMMIT on one client; any error rolls back and is rethrown.
   * `control.begin` / `control.commit` replace the plain BEGIN / COMMIT with a multi-statement text sent in one
   * round trip (simple query protocol: `BEGIN; SELECT now()` / `SELECT pg_notify(…); COMMIT`); `fn` gets the
   * results of the begin text. A failing statement in the commit text skips the COMMIT and rolls back.
   */
  async tx<T>(
    fn: (client: PgQueryable, begun: pg.QueryResult[]) => Promise<T>,
    control: { begin?: string; commit?: (escapeLiteral: (s: string) => string) => string } = {},
  ): Promise<T> {
    let broken: Error | undefined;
    let lost: Error | undefined;
    // A checked-out client has no pool listener: a connection lost between two statements (the server
    // terminated it, or restarted) would emit an unhandled 'error' and crash the process. Record it instead;
    // the next statement fails and the transaction is reported as DB_UNAVAILABLE. The listener is attached in
    // the checkout callback itself: the pool drops its own listener there, and a cut in the microtask before
    // an `await` resumed would find no listener at all.
    const onError = (err: Error) => {
      lost ??= err;
      broken = err;
    };
    const client = await this.checkout(onError);
    try {
      const begun = (await client.query(
        `${control.begin ?? "BEGIN"}; ${this.txSettings}`,
      )) as unknown as pg.QueryResult[];
      const queryable: PgQueryable = {
        query: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) =>
          client.query<R>(this.statement(text, values)),
      };
      const result = await fn(queryable, begun.slice(0, -2));
      const pc = client;
      await client.query(control.commit ? control.commit((s) => pc.escapeLiteral(s)) : "COMMIT");
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackErr) {
        // The connection is unusable: destroy it rather than hand it to the next caller.
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
      // After a lost connection pg reports "not queryable"; the loss itself says what happened.
      throw mapConnectionError(lost ?? err, this.redactedUrl);
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}
