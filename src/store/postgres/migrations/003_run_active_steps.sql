-- 003_run_active_steps: the run row counts its steps in an active status (CREATED, QUEUED, LEASED,
-- RETRY_WAIT), so a completion knows whether its run became idle without reading the run's other steps
-- (docs/storage.md). Every statement that changes a step's status keeps the count, in the same statement.
ALTER TABLE runs ADD COLUMN active_steps integer NOT NULL DEFAULT 0 CHECK (active_steps >= 0);

UPDATE runs r SET active_steps = s.n
FROM (
  SELECT run_id, count(*)::int AS n FROM run_steps
  WHERE status IN ('CREATED', 'QUEUED', 'LEASED', 'RETRY_WAIT')
  GROUP BY run_id
) s
WHERE r.run_id = s.run_id;
