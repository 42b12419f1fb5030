-- 007_events_keyed_by_run_seq: on PostgreSQL, run_events drops the index on `id` and is keyed by (run_id, seq).
-- On SQLite `id` is the rowid (INTEGER PRIMARY KEY), which costs no index entry of its own, and (run_id, seq)
-- stays UNIQUE. Nothing to do here; the version keeps both dialects' migration lists equal.
SELECT 1;
