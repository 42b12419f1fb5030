// The pool's timeouts are SET after connect and SET LOCAL in every transaction, never startup parameters: a
// pooler such as PgBouncer refuses those (issue 21). On a direct connection they hold as before.
import { describe, expect, it } from "vitest";
import { PgDatabase } from "../../src/store/postgres/database.js";
import { describePg } from "../support/pg.js";

/** What pg sends at startup besides user and database: the keys its connection parameters serialise. */
const STARTUP_KEYS = [
  "statement_timeout",
  "idle_in_transaction_session_timeout",
  "lock_timeout",
  "query_timeout",
];

describe("PgDatabase pool config", () => {
  it("sends no timeout as a startup parameter", async () => {
    const db = new PgDatabase({ url: "postgres://postgres@127.0.0.1:1/x", statementTimeoutMs: 1234 });
    try {
      const options = db.pool.options as unknown as Record<string, unknown>;
      for (const key of STARTUP_KEYS) expect(options[key], key).toBeUndefined();
      expect(options.options).toBeUndefined();
      expect(options.application_name).toBe("wattswarm");
    } finally {
      await db.end();
    }
  });
});

describePg("PgDatabase timeouts on a direct connection", (pg) => {
  it("single statements and transactions run under the statement and idle-in-transaction timeouts", async () => {
    const db = new PgDatabase({ url: pg.url, schema: pg.schema, statementTimeoutMs: 4321, max: 1 });
    try {
      const [single] = await db.query<{ st: string; idle: string }>(
        "SELECT current_setting('statement_timeout') AS st, current_setting('idle_in_transaction_session_timeout') AS idle",
      );
      expect(single).toEqual({ st: "4321ms", idle: "1min" });
      const inTx = await db.tx(async (client, begun) => {
        expect(begun).toHaveLength(1);
        const { rows } = await client.query<{ st: string; idle: string }>(
          "SELECT current_setting('statement_timeout') AS st, current_setting('idle_in_transaction_session_timeout') AS idle",
        );
        return rows[0];
      });
      expect(inTx).toEqual({ st: "4321ms", idle: "1min" });
      // The begin text's own results come back to the caller, the settings' are dropped.
      const now = await db.tx(async (_client, begun) => begun[1]?.rows[0]?.now, {
        begin: "BEGIN; SELECT now() AS now",
      });
      expect(now).toBeInstanceOf(Date);
      await expect(db.query("SELECT pg_sleep(5)")).rejects.toMatchObject({ code: "57014" });
    } finally {
      await db.end();
    }
  }, 20_000);
});
