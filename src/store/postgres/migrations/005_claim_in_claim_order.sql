-- 005_claim_in_claim_order: the steps a claim takes, walked through run_steps_claim_idx in claim order (SPEC §7)
-- and locked as found, whatever the planner's statistics say (docs/storage.md, "Claims").
-- A burst of work reaches run_steps before autovacuum analyzes it (a table never analyzed, or statistics from
-- an idle spell that say the queue is empty). The planner then judged the claimable set tiny and chose to read
-- ALL of it and sort it on every claim (bitmap heap scan + sort): 43 ms per claim with 20,000 steps queued,
-- against 0.2 ms for walking the index, so a burst drained in quadratic time. The settings below apply while
-- this function plans and runs its one query and are restored when it returns; they leave the walk of the
-- partial index as the only plan. ROWS 10 tells the planner of the claim statement that a few rows come back
-- (the default guess is 1,000), so it reads their runs and steps by primary key instead of hashing whole
-- tables. The statuses are the claim's `from` statuses of the transition table
-- (src/store/transitions.ts) and the predicate of run_steps_claim_idx; test/store/pg-claim-plan.test.ts checks
-- both. `search_path FROM CURRENT` binds the function to the schema it is created in (--pg-schema).
CREATE OR REPLACE FUNCTION claimable_steps(n integer, t timestamptz)
RETURNS TABLE (step_id text, due_at timestamptz)
LANGUAGE sql VOLATILE
ROWS 10
SET enable_bitmapscan = off
SET enable_seqscan = off
SET enable_sort = off
SET search_path FROM CURRENT
AS $$
  SELECT s.step_id, s.next_run_at FROM run_steps s
  WHERE s.status IN ('QUEUED', 'RETRY_WAIT') AND s.next_run_at <= t
  ORDER BY s.priority DESC, s.next_run_at, s.run_created_at, s.step_id
  LIMIT n
  FOR UPDATE OF s SKIP LOCKED
$$;
