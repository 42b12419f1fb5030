// How PostgreSQL connection failures read: a server that is not there says how to start one; a connection that
// was there and went away (terminated, reset) says so instead.
import { describe, expect, it } from "vitest";
import { WattswarmError } from "../../src/errors.js";
import { mapConnectionError } from "../../src/store/postgres/errors.js";

const URL = "postgres://postgres@127.0.0.1:5432/test";

function mapped(err: unknown): WattswarmError {
  const out = mapConnectionError(err, URL);
  if (!(out instanceof WattswarmError)) throw new Error("not mapped");
  return out;
}

describe("mapConnectionError", () => {
  it("a refused connection: cannot connect, with how to start a database", () => {
    const e = mapped(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    expect(e.code).toBe("DB_UNAVAILABLE");
    expect(e.message).toBe(
      `cannot connect to PostgreSQL at ${URL}: connection refused. Start one with: docker compose up -d postgres (or use the embedded SQLite default by omitting --pg-url)`,
    );
  });

  it("a terminated or reset connection: lost, without the start hint", () => {
    const terminated = mapped(
      Object.assign(new Error("terminating connection due to administrator command"), { code: "57P01" }),
    );
    expect(terminated.message).toBe(
      `lost the connection to PostgreSQL at ${URL}: terminating connection due to administrator command`,
    );
    const reset = mapped(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }));
    expect(reset.message).toBe(`lost the connection to PostgreSQL at ${URL}: connection reset`);
    expect(mapped(new Error("Connection terminated unexpectedly")).message).toBe(
      `lost the connection to PostgreSQL at ${URL}: connection lost`,
    );
    // What pg says for the next statement on a client whose connection was cut mid-transaction.
    expect(mapped(new Error("Client has encountered a connection error and is not queryable")).message).toBe(
      `lost the connection to PostgreSQL at ${URL}: connection lost`,
    );
  });

  it("leaves statement errors alone", () => {
    const err = Object.assign(new Error("duplicate key"), { code: "23505" });
    expect(mapConnectionError(err, URL)).toBe(err);
  });
});

describe("mapConnectionError: a server or pooler that answered is there", () => {
  it("a refused startup parameter names the pooler setting, not how to start a database", () => {
    const e = mapped(Object.assign(new Error("unsupported startup parameter: options"), { code: "08P01" }));
    expect(e.code).toBe("DB_UNAVAILABLE");
    expect(e.message).toMatch(
      /^cannot connect to PostgreSQL at .*: unsupported startup parameter: options\. /,
    );
    expect(e.message).toContain("ignore_startup_parameters");
    expect(e.message).not.toMatch(/docker compose|Start one/);
  });

  it("a failed authentication or a missing database has no start hint", () => {
    for (const [code, message] of [
      ["28P01", 'password authentication failed for user "postgres"'],
      ["3D000", 'database "nope" does not exist'],
      ["53300", "sorry, too many clients already"],
    ]) {
      const e = mapped(Object.assign(new Error(message), { code }));
      expect(e.message).toBe(`cannot connect to PostgreSQL at ${URL}: ${message}`);
    }
  });

  it("a prepared statement a pooler mixed up says to set WATTSWARM_PG_PREPARED=off", () => {
    for (const [code, message] of [
      ["42P05", 'prepared statement "ws_0123456789abcdef01234567" already exists'],
      ["26000", 'prepared statement "ws_0123456789abcdef01234567" does not exist'],
    ]) {
      const e = mapped(Object.assign(new Error(message), { code }));
      expect(e.code).toBe("DB_UNAVAILABLE");
      expect(e.message).toContain(message);
      expect(e.message).toContain("Set WATTSWARM_PG_PREPARED=off");
    }
    // Someone else's statement name is a statement error like any other.
    const other = Object.assign(new Error('prepared statement "mine" already exists'), { code: "42P05" });
    expect(mapConnectionError(other, URL)).toBe(other);
  });
});
