// What a step (or a peer's job) writes: heap tuples, how many of the updates were HOT, row locks, index entries
// and WAL bytes, counted from the write-ahead log itself (pg_walinspect, PostgreSQL 15+) between two LSNs and
// kept to the relations of one schema (its tables, indexes and TOAST), so other users of a shared server do
// not count. WAL is where every write has to go, so the counts are exact, not estimates from table statistics.
import { withAdmin } from "./bench-env.js";

export interface WriteCounts {
  /** Heap tuples inserted (INSERT, MULTI_INSERT tuples). */
  inserted: number;
  /** Heap tuples updated, HOT or not. */
  updated: number;
  /** Of the updates, the HOT ones (no index entry written). */
  hot: number;
  deleted: number;
  /** Row locks written to WAL (SELECT … FOR UPDATE / FOR NO KEY UPDATE, foreign-key checks). */
  locked: number;
  /** Index entries written (btree leaf inserts, posting-list inserts included). */
  indexEntries: number;
  /** WAL bytes of those records. */
  walBytes: number;
}

export interface WriteMeasurement {
  /** Steps or jobs the counts are divided by. */
  units: number;
  total: WriteCounts;
  /** Per table (indexes attributed to their table). */
  tables: Record<string, WriteCounts>;
}

const zero = (): WriteCounts => ({
  inserted: 0,
  updated: 0,
  hot: 0,
  deleted: 0,
  locked: 0,
  indexEntries: 0,
  walBytes: 0,
});

/** True when pg_walinspect can be used here (created in the database if missing; needs superuser). */
export async function walInspectable(): Promise<boolean> {
  return withAdmin(async (c) => {
    try {
      await c.query("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
      return true;
    } catch {
      return false;
    }
  }).catch(() => false);
}

export async function currentLsn(): Promise<string> {
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ lsn: string }>("SELECT pg_current_wal_flush_lsn()::text AS lsn");
    return rows[0]?.lsn ?? "0/0";
  });
}

interface Row {
  table_name: string;
  rm: string;
  rtype: string;
  n: number;
  bytes: number;
  tuples: number;
}

/**
 * The WAL records between `from` and now that touch a relation of `schema`, grouped by table (an index or TOAST
 * relation counts for its table) and record type. Call it before the schema is dropped.
 */
export async function writesSince(schema: string, from: string, units: number): Promise<WriteMeasurement> {
  const rows = await withAdmin(async (c) => {
    const { rows } = await c.query<Row>(
      `WITH rels AS (
         SELECT t.relname AS table_name, r.relfilenode
         FROM pg_class t
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = $1
         JOIN LATERAL (
           SELECT t.oid UNION ALL SELECT i.indexrelid FROM pg_index i WHERE i.indrelid = t.oid
           UNION ALL SELECT t.reltoastrelid WHERE t.reltoastrelid <> 0
           UNION ALL SELECT i.indexrelid FROM pg_index i WHERE t.reltoastrelid <> 0 AND i.indrelid = t.reltoastrelid
         ) AS member(oid) ON true
         JOIN pg_class r ON r.oid = member.oid
         WHERE t.relkind IN ('r', 'p') AND r.relfilenode <> 0
       ),
       wal AS (
         SELECT resource_manager AS rm, record_type AS rtype, record_length AS len, description,
                (regexp_match(block_ref, 'rel \\d+/\\d+/(\\d+)'))[1]::oid AS relfilenode
         FROM pg_get_wal_records_info($2::pg_lsn, pg_current_wal_flush_lsn())
         WHERE block_ref IS NOT NULL
       )
       SELECT rels.table_name, wal.rm, wal.rtype, count(*)::int AS n, sum(wal.len)::bigint AS bytes,
              sum(coalesce((regexp_match(wal.description, 'ntuples: (\\d+)'))[1]::int, 1))::int AS tuples
       FROM wal JOIN rels ON rels.relfilenode = wal.relfilenode
       GROUP BY 1, 2, 3`,
      [schema, from],
    );
    return rows;
  });
  const tables: Record<string, WriteCounts> = {};
  const total = zero();
  for (const r of rows) {
    const t = tables[r.table_name] ?? zero();
    tables[r.table_name] = t;
    const type = r.rtype.replace("+INIT", "");
    for (const counts of [t, total]) {
      counts.walBytes += Number(r.bytes);
      if (r.rm === "Heap" && type === "INSERT") counts.inserted += r.n;
      else if (r.rm === "Heap2" && type === "MULTI_INSERT") counts.inserted += r.tuples;
      else if (r.rm === "Heap" && type === "UPDATE") counts.updated += r.n;
      else if (r.rm === "Heap" && type === "HOT_UPDATE") {
        counts.updated += r.n;
        counts.hot += r.n;
      } else if (r.rm === "Heap" && type === "DELETE") counts.deleted += r.n;
      else if ((r.rm === "Heap" && type === "LOCK") || (r.rm === "Heap2" && type === "LOCK_UPDATED"))
        counts.locked += r.n;
      else if (r.rm === "Btree" && (type === "INSERT_LEAF" || type === "INSERT_POST"))
        counts.indexEntries += r.n;
    }
  }
  return { units, total, tables };
}

/** writesSince, or null (with the reason on stderr) when the WAL could not be read. */
export async function writesOrNull(
  schema: string,
  from: string | null,
  units: number,
): Promise<WriteCounts | null> {
  if (from === null) return null;
  try {
    return perUnit(await writesSince(schema, from, units));
  } catch (err) {
    process.stderr.write(
      `write counts of ${schema} left out: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return null;
  }
}

/** Per unit, rounded for a table cell. */
export function perUnit(m: WriteMeasurement): WriteCounts {
  const d = (n: number) => Math.round((n / Math.max(1, m.units)) * 100) / 100;
  const t = m.total;
  return {
    inserted: d(t.inserted),
    updated: d(t.updated),
    hot: d(t.hot),
    deleted: d(t.deleted),
    locked: d(t.locked),
    indexEntries: d(t.indexEntries),
    walBytes: Math.round(t.walBytes / Math.max(1, m.units)),
  };
}
