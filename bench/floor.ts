// The floor of the database: the most any queue on this server can do per transaction. N rows in a simple
// table; C connections each loop on one autocommit statement that claims a single row with
// FOR UPDATE SKIP LOCKED and marks it done, until none is left. rows/s.
import pg from "pg";
import { dropSchema, PG_URL, schemaName, withAdmin } from "./bench-env.js";

export interface FloorResult {
  rows: number;
  connections: number;
  seconds: number;
  rowsPerSec: number;
}

const CLAIM_ONE = `
UPDATE floor_jobs SET done = true, done_at = now()
WHERE id = (SELECT id FROM floor_jobs WHERE NOT done ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id`;

export async function databaseFloor(rows: number, connections: number): Promise<FloorResult> {
  const schema = schemaName("floor");
  await dropSchema(schema);
  await withAdmin(async (c) => {
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.query(
      `CREATE TABLE "${schema}".floor_jobs (id bigserial PRIMARY KEY, done boolean NOT NULL DEFAULT false,
         payload jsonb NOT NULL DEFAULT '{}', done_at timestamptz)`,
    );
    await c.query(`CREATE INDEX ON "${schema}".floor_jobs (id) WHERE NOT done`);
    await c.query(`INSERT INTO "${schema}".floor_jobs (payload) SELECT '{}' FROM generate_series(1, $1)`, [
      rows,
    ]);
    await c.query(`VACUUM ANALYZE "${schema}".floor_jobs`);
  });
  const clients = Array.from(
    { length: connections },
    () => new pg.Client({ connectionString: PG_URL, options: `-c search_path="${schema}"` }),
  );
  for (const c of clients) c.on("error", () => {});
  await Promise.all(clients.map((c) => c.connect()));
  let claimed = 0;
  const t0 = Date.now();
  await Promise.all(
    clients.map(async (c) => {
      for (;;) {
        const { rowCount } = await c.query(CLAIM_ONE);
        if (!rowCount) return;
        claimed += 1;
      }
    }),
  );
  const seconds = (Date.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.end()));
  await dropSchema(schema);
  if (claimed !== rows) throw new Error(`floor: claimed ${claimed} of ${rows} rows`);
  return { rows, connections, seconds, rowsPerSec: rows / seconds };
}
