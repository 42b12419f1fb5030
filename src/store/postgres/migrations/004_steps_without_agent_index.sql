-- 004_steps_without_agent_index: run_steps no longer keeps a unique index on (run_id, agent_id). No query
-- reads it, agent ids are unique within a run by spec validation (SPEC §2, the only way steps are written),
-- and every claim and every completion of a step wrote an entry into it (a step's status moves between
-- partial indexes, so neither update is HOT): two index entries per step for nothing (docs/storage.md).
-- (run_id, ordinal) stays unique: it orders a run's steps and backs the cascade from runs.
ALTER TABLE run_steps DROP CONSTRAINT IF EXISTS run_steps_run_agent_key;
