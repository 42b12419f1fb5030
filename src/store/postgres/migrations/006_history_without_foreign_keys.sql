-- 006_history_without_foreign_keys: run_step_attempts and run_events (the history tables, written on every step)
-- no longer carry foreign keys (docs/storage.md, "History without foreign keys"). Each key cost a trigger per
-- inserted row that looked the parent row up and locked it FOR KEY SHARE (a step: four, for its attempt's step
-- and run and its two events' run; about 5 µs of server time each, measured), for checks the kernel already
-- makes: an attempt is opened by the claim of its locked step row, an event is appended under its run row's
-- lock. `run prune`
-- deletes a run's attempts and events itself, in the transaction that deletes the run (the cascade did it
-- before). run_steps → runs and run_feedback → runs keep their keys.
ALTER TABLE run_step_attempts DROP CONSTRAINT IF EXISTS run_step_attempts_step_id_fkey;
ALTER TABLE run_step_attempts DROP CONSTRAINT IF EXISTS run_step_attempts_run_id_fkey;
ALTER TABLE run_events DROP CONSTRAINT IF EXISTS run_events_run_id_fkey;
