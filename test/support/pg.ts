// Real PostgreSQL for tests, never a mock. Each test file gets its own schema (dropped with CASCADE after its
// last test), so files run in parallel against one database without seeing each other's rows.
//
// WATTSWARM_TEST_PG_URL picks the server (default postgres://postgres@127.0.0.1:5432/test). When it cannot be
// reached the PostgreSQL tests are SKIPPED with a loud warning, unless WATTSWARM_REQUIRE_PG=1 (CI), in which
// case they FAIL.

import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, it } from "vitest";
import { redactUrl } from "../../src/store/config.js";

export const TEST_PG_URL =
  process.env.WATTSWARM_TEST_PG_URL?.trim() || "postgres://postgres@127.0.0.1:5432/test";
const REQUIRE_PG = process.env.WATTSWARM_REQUIRE_PG === "1";

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3_000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return e.message || e.code || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Why PostgreSQL is unusable for this file's tests, or null when it is reachable. Probed once per file. */
export const pgUnavailable: string | null = await probe();

if (pgUnavailable !== null && !REQUIRE_PG) {
  console.warn(
    [
      "",
      "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
      `!! PostgreSQL tests SKIPPED: ${redactUrl(TEST_PG_URL)} is unreachable (${pgUnavailable}).`,
      "!! Set WATTSWARM_TEST_PG_URL to a reachable server, or WATTSWARM_REQUIRE_PG=1 to fail instead.",
      "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
      "",
    ].join("\n"),
  );
}

export interface PgTestContext {
  readonly url: string;
  /** This file's schema: created before the first test, dropped after the last. */
  readonly schema: string;
  /**
   * Another unique schema name, NOT created (the code under test may create it), dropped after the file;
   * padded with `x` to `length` characters when given.
   */
  newSchema(length?: number): string;
  /** Runs SQL on an admin connection whose search_path is untouched. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
}

export function uniqueSchemaName(): string {
  return `wst_${process.pid}_${randomBytes(5).toString("hex")}`;
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function createContext(): PgTestContext & { setup(): Promise<void>; teardown(): Promise<void> } {
  const schemas: string[] = [];
  let pool: pg.Pool | undefined;
  const fileSchema = uniqueSchemaName();
  const ctx = {
    url: TEST_PG_URL,
    schema: fileSchema,
    newSchema(length?: number): string {
      const name = uniqueSchemaName().padEnd(length ?? 0, "x");
      schemas.push(name);
      return name;
    },
    async query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]> {
      if (!pool) throw new Error("PgTestContext.query used outside a test");
      return (await pool.query<R>(sql, params)).rows;
    },
    async setup(): Promise<void> {
      pool = new pg.Pool({ connectionString: TEST_PG_URL, max: 2 });
      pool.on("error", () => {});
      schemas.push(fileSchema);
      await pool.query(`CREATE SCHEMA ${quote(fileSchema)}`);
    },
    async teardown(): Promise<void> {
      if (!pool) return;
      for (const name of schemas) await pool.query(`DROP SCHEMA IF EXISTS ${quote(name)} CASCADE`);
      await pool.end();
      pool = undefined;
    },
  };
  return ctx;
}

/** `describe` for tests that need PostgreSQL: skipped (or failed, with WATTSWARM_REQUIRE_PG=1) without one. */
export function describePg(name: string, fn: (pg: PgTestContext) => void): void {
  if (pgUnavailable !== null) {
    if (REQUIRE_PG) {
      describe(name, () => {
        it("needs PostgreSQL (WATTSWARM_REQUIRE_PG=1)", () => {
          throw new Error(`PostgreSQL at ${redactUrl(TEST_PG_URL)} is unreachable: ${pgUnavailable}`);
        });
      });
    } else {
      describe.skip(name, () => fn(createContext()));
    }
    return;
  }
  describe(name, () => {
    const ctx = createContext();
    beforeAll(() => ctx.setup());
    afterAll(() => ctx.teardown());
    fn(ctx);
  });
}
