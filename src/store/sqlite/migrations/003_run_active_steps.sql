-- 003_run_active_steps: the run row counts its steps in an active status (CREATED, QUEUED, LEASED,
-- RETRY_WAIT), so a completion knows whether its run became idle without reading the run's other steps
-- (docs/storage.md). Every statement that changes a step's status keeps the count, in the same transaction.
ALTER TABLE runs ADD COLUMN active_steps INTEGER NOT NULL DEFAULT 0 CHECK (active_steps >= 0);

UPDATE runs SET active_steps = (
  SELECT count(*) FROM run_steps s
  WHERE s.run_id = runs.run_id AND s.status IN ('CREATED', 'QUEUED', 'LEASED', 'RETRY_WAIT')
);
