-- 007_events_keyed_by_run_seq: run_events is keyed by (run_id, seq), the key every reader uses (`run events
-- --after`, followers, the API, SSE); `id` keeps its global sequence values but no index of its own. No query
-- reads events by id, and its primary-key index took an entry for every event, two per step (docs/storage.md,
-- "What a step writes"). The primary key's index is built here: on a large run_events this holds writes to the
-- table until it is built (docs/operations.md, "Upgrades").
ALTER TABLE run_events DROP CONSTRAINT IF EXISTS run_events_pkey;
ALTER TABLE run_events DROP CONSTRAINT IF EXISTS run_events_run_seq_key;
ALTER TABLE run_events ADD CONSTRAINT run_events_pkey PRIMARY KEY (run_id, seq);
