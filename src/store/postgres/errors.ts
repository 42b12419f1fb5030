// Turns "the database is not there" into one actionable line (SPEC §7: exit 1, the URL without password and
// how to start a database). Everything else (constraint violations, syntax errors) passes through untouched.

import { WattswarmError } from "../../errors.js";

const START_HINT =
  "Start one with: docker compose up -d postgres (or use the embedded SQLite default by omitting --pg-url)";

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
  EPIPE: "connection closed",
};

// SQLSTATEs that mean the server cannot serve us at all, as opposed to a failing statement.
const SERVER_REASONS: Record<string, string> = {
  "28P01": "password authentication failed",
  "28000": "not authorized",
  "3D000": "database does not exist",
  "57P01": "server is shutting down",
  "57P02": "server crashed",
  "57P03": "server is starting up or shutting down",
  "53300": "too many connections",
};

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  errors?: unknown;
}

function asErrorLike(err: unknown): ErrorLike | null {
  return typeof err === "object" && err !== null ? (err as ErrorLike) : null;
}

/** Why the connection failed, or null when `err` is not a connection failure. */
export function connectionFailureReason(err: unknown): string | null {
  const e = asErrorLike(err);
  if (!e) return null;
  const code = typeof e.code === "string" ? e.code : undefined;
  const message = typeof e.message === "string" ? e.message : "";
  if (code !== undefined && code in NETWORK_REASONS) return NETWORK_REASONS[code] ?? null;
  if (code !== undefined && code in SERVER_REASONS) {
    // The server's own text names the role or database, which is the useful part.
    return message ? message : (SERVER_REASONS[code] ?? null);
  }
  if (code?.startsWith("08")) return message || "connection failure";
  // Node reports "localhost" resolving to ::1 and 127.0.0.1 as an AggregateError of both failures.
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const reason = connectionFailureReason(inner);
      if (reason) return reason;
    }
  }
  if (/connection timeout|timeout exceeded when trying to connect/i.test(message))
    return "connection timed out";
  if (/Connection terminated|encountered a connection error and is not queryable/i.test(message))
    return "connection lost";
  if (/does not support SSL|SSL/i.test(message) && !code) return message;
  return null;
}

// An established connection that went away (terminated by an administrator or a failover, reset): the server
// was there, so "start one" would mislead.
const LOST_CODES = new Set(["57P01", "ECONNRESET", "EPIPE"]);

function isLostConnection(err: unknown, reason: string): boolean {
  const code = asErrorLike(err)?.code;
  return (typeof code === "string" && LOST_CODES.has(code)) || reason === "connection lost";
}

// Nothing answered at the address: the only failures for which "start one" is the right advice. A server or a
// pooler that answered (refused a role, a database, a startup parameter) is there.
const NOTHING_LISTENING = new Set([
  "connection refused",
  "host not found",
  "host name lookup failed",
  "connection timed out",
]);

function hintFor(reason: string): string {
  if (NOTHING_LISTENING.has(reason)) return `. ${START_HINT}`;
  if (/unsupported startup parameter/i.test(reason)) {
    return (
      ". A pooler (pgbouncer) refuses that startup parameter: connect directly, or add it to the pooler's " +
      "ignore_startup_parameters (--pg-schema is sent as `options`)"
    );
  }
  return "";
}

// A named prepared statement of ours that the server connection already has, or does not have: what a pooler in
// transaction mode without prepared-statement tracking does to them.
const PREPARED_CODES = new Set(["42P05", "26000"]);

function preparedStatementClash(err: unknown): string | null {
  const e = asErrorLike(err);
  const message = typeof e?.message === "string" ? e.message : "";
  if (typeof e?.code !== "string" || !PREPARED_CODES.has(e.code) || !/prepared statement "?ws_/.test(message))
    return null;
  return message;
}

/** A DB_UNAVAILABLE error when `err` is a connection failure, otherwise `err` itself. */
export function mapConnectionError(err: unknown, redactedUrl: string): unknown {
  if (err instanceof WattswarmError) return err;
  const clash = preparedStatementClash(err);
  if (clash !== null) {
    const wrapped = new WattswarmError(
      "DB_UNAVAILABLE",
      `PostgreSQL at ${redactedUrl} does not keep prepared statements per connection (${clash}): a pooler in ` +
        "transaction mode (pgbouncer) is in front. Set WATTSWARM_PG_PREPARED=off on every WattSwarm process",
    );
    (wrapped as Error).cause = err;
    return wrapped;
  }
  const reason = connectionFailureReason(err);
  if (reason === null) return err;
  const wrapped = new WattswarmError(
    "DB_UNAVAILABLE",
    isLostConnection(err, reason)
      ? `lost the connection to PostgreSQL at ${redactedUrl}: ${reason}`
      : `cannot connect to PostgreSQL at ${redactedUrl}: ${reason}${hintFor(reason)}`,
  );
  (wrapped as Error).cause = err;
  return wrapped;
}

// SQLSTATE classes that blame the statement's data: data exception, integrity violation, program limit (e.g.
// a value nested too deep). Any other SQLSTATE is the database's own state: connection, locks, serialization,
// resources, operator intervention, configuration.
const DATA_CLASSES = new Set(["22", "23", "54"]);

/** True when `err` is a failure of the database itself rather than of the data or the code that used it. */
export function isDatabaseFailure(err: unknown): boolean {
  if (connectionFailureReason(err) !== null) return true;
  const code = asErrorLike(err)?.code;
  if (code === "DB_UNAVAILABLE") return true;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !DATA_CLASSES.has(code.slice(0, 2));
}
