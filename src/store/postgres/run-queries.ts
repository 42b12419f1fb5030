import { ACTIVE_STEP_STATUSES, type AttemptStatus } from "../../vocab.js";
import {
  CLAIMABLE_STEP_STATUSES,
  LEASE_HELD,
  RUN_TRANSITIONS,
  STEP_TRANSITIONS,
  sqlLeaseClosePair,
  sqlStatus,
  sqlStatusIs,
} from "../transitions.js";

// Named SQL of the run port (PostgreSQL). Every value is a parameter; the only text composed at run time is
// the SET list of guarded updates, built from a fixed column whitelist (run-tx.ts), never from input. Status
// guards and targets come from the transition table (../transitions.ts), composed into the texts when this
// module loads: constants of the code, written as the migrations' partial index predicates write them.

/** Attempt statuses these statements name (the attempt row has no transition table: SPEC §3). */
const ATTEMPT_OPEN: AttemptStatus = "RUNNING";
const ATTEMPT_SUCCEEDED: AttemptStatus = "SUCCEEDED";

import { ATTEMPT_COLUMNS, EVENT_COLUMNS, RUN_COLUMNS, STEP_COLUMNS } from "../columns.js";

/** BEGIN and the transaction's clock in one round trip (a multi-statement simple query). */
export const TX_BEGIN_NOW = "BEGIN; SELECT now() AS now";

// NO KEY UPDATE: a claim inserting an attempt takes KEY SHARE on the run row (foreign key) and must not wait.
export const LOCK_RUN = `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1 FOR NO KEY UPDATE`;

export const LOCK_STEPS = `SELECT ${STEP_COLUMNS} FROM run_steps WHERE run_id = $1 ORDER BY ordinal FOR UPDATE`;

/**
 * The result_json column as only the keys listed in `keys` (a text[] parameter), and of its candidate_output
 * object the same keys: the projection RunTx.lockSteps(runId, resultKeys) describes. The server reads the
 * whole value; only the projection travels.
 */
function projectedResult(keys: string): string {
  return `CASE WHEN json_typeof(result_json) = 'object' THEN (
    SELECT COALESCE(json_object_agg(e.key, CASE WHEN e.key = 'candidate_output' AND json_typeof(e.value) = 'object'
      THEN (SELECT COALESCE(json_object_agg(i.key, i.value), '{}'::json) FROM json_each(e.value) i WHERE i.key = ANY(${keys}))
      ELSE e.value END), '{}'::json)
    FROM json_each(result_json) e WHERE e.key = ANY(${keys}))
  ELSE result_json END AS result_json`;
}

const withProjectedResult = (columns: string, keys: string): string =>
  columns.replace(/\bresult_json\b/, projectedResult(keys));

export const LOCK_STEPS_PROJECTED = `
SELECT ${withProjectedResult(STEP_COLUMNS, "$2::text[]")}
FROM run_steps WHERE run_id = $1 ORDER BY ordinal FOR UPDATE`;

export const INSERT_RUN = `
INSERT INTO runs (${RUN_COLUMNS})
SELECT ${RUN_COLUMNS} FROM json_populate_record(null::runs, $1::json)`;

/** The active step statuses as an SQL array literal (a constant of the code, not input). */
const ACTIVE = `ARRAY[${ACTIVE_STEP_STATUSES.map(sqlStatus).join(", ")}]::text[]`;

/**
 * Appended to a statement whose CTE \`changed\` returns (run_id, was, now) for every step whose status it wrote:
 * adds each run's change in active steps to runs.active_steps (the caller holds the run rows' locks, SPEC §4),
 * and answers the number of steps written.
 */
function keepingActiveCount(changed: string, before = ""): string {
  return `WITH ${before}changed AS (${changed}),
delta AS (
  SELECT run_id, sum((now = ANY(${ACTIVE}))::int - (coalesce(was = ANY(${ACTIVE}), false))::int)::int AS d
  FROM changed GROUP BY run_id
),
counted AS (
  UPDATE runs r SET active_steps = r.active_steps + delta.d FROM delta
  WHERE r.run_id = delta.run_id AND delta.d <> 0
  RETURNING 1
)
SELECT (SELECT count(*) FROM changed)::int AS n`;
}

export const INSERT_STEPS = keepingActiveCount(`
INSERT INTO run_steps (${STEP_COLUMNS})
SELECT ${STEP_COLUMNS} FROM json_populate_recordset(null::run_steps, $1::json)
RETURNING run_id, NULL::text AS was, status AS now`);

/**
 * An update that writes the status of the steps \`selected\` picks (a condition on run_steps, with the guard on
 * their status), joined with \`also\` when the new values come from it. The rows are locked first, in the order
 * every transition locks steps, so \`was\` is the status the update replaced; runs.active_steps is kept.
 * \`sets\` and the conditions are composed by run-tx.ts from its column whitelist, never from input.
 */
function updateLockedSteps(sets: string, selected: string, also?: { from: string; on: string }): string {
  return keepingActiveCount(
    `
UPDATE run_steps s SET ${sets} FROM ${also ? `${also.from}, ` : ""}old
WHERE ${also ? `${also.on} AND ` : ""}s.step_id = old.step_id
RETURNING s.run_id, old.status AS was, s.status AS now`,
    `old AS (SELECT step_id, status FROM run_steps WHERE ${selected} ORDER BY run_id, ordinal FOR UPDATE),
`,
  );
}

/** A guarded update of steps ($1 key, $2 from) that writes their status. */
export function updateStepStatuses(sets: string, key: string): string {
  return updateLockedSteps(sets, `${key} AND status = ANY($2::text[])`);
}

export const GET_ATTEMPT = `SELECT ${ATTEMPT_COLUMNS} FROM run_step_attempts WHERE step_id = $1 AND attempt_seq = $2`;

export const FIND_ATTEMPT_BY_TOKEN = `
SELECT ${ATTEMPT_COLUMNS} FROM run_step_attempts WHERE step_id = $1 AND lease_token = $2
ORDER BY attempt_seq DESC LIMIT 1`;

const SUCCEEDED_BEFORE = `FROM run_step_attempts
WHERE run_id = $1 AND round < $2 AND ${sqlStatusIs("status", [ATTEMPT_SUCCEEDED])}
ORDER BY round, step_id, attempt_seq`;

export const SUCCEEDED_ATTEMPTS_BEFORE = `SELECT ${ATTEMPT_COLUMNS} ${SUCCEEDED_BEFORE}`;

export const SUCCEEDED_ATTEMPTS_BEFORE_PROJECTED = `
SELECT ${withProjectedResult(ATTEMPT_COLUMNS, "$3::text[]")} ${SUCCEEDED_BEFORE}`;

export const EVENTS_OF_TYPES = `
SELECT ${EVENT_COLUMNS} FROM run_events WHERE run_id = $1 AND event_type = ANY($2::text[]) ORDER BY seq`;

// The task_type row first, then the overall '*' row (SPEC §9).
export const REPUTATION_UNITS = `
SELECT DISTINCT ON (agent_id) agent_id, units FROM agent_reputation
WHERE agent_id = ANY($1::text[]) AND task_type IN ($2, '*')
ORDER BY agent_id, (task_type = '*')`;

// Events of one or more runs in one statement: each run's event_seq is bumped by its number of events and the
// events take the seq values in between, in array order. The arrays list each run's events contiguously.
// Rows are inserted in array order, so the global id grows with seq within a run.
export const APPEND_EVENTS = `
WITH u AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::json[], $4::timestamptz[])
    WITH ORDINALITY AS u(run_id, event_type, payload, created_at, i)
),
n AS (SELECT run_id, count(*)::int AS n, min(i) AS first_i FROM u GROUP BY run_id),
bumped AS (
  UPDATE runs r SET event_seq = r.event_seq + n.n FROM n WHERE r.run_id = n.run_id
  RETURNING r.run_id, r.event_seq - n.n AS base, n.first_i
)
INSERT INTO run_events (run_id, seq, event_type, payload_json, created_at)
SELECT u.run_id, b.base + (u.i - b.first_i)::int + 1, u.event_type, u.payload, u.created_at
FROM u JOIN bumped b ON b.run_id = u.run_id
ORDER BY u.i
RETURNING ${EVENT_COLUMNS}`;

// Row locks in SPEC §4's order: run rows by ascending run_id (rows are locked as the sort emits them).
export const LOCK_RUNS = `
SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ANY($1::text[]) ORDER BY run_id FOR NO KEY UPDATE`;

/** Steps written each with its own inputs ($1 ids, $2 inputs, $3 from): re-explore. Keeps active_steps. */
export function updateStepInputs(sets: string): string {
  return updateLockedSteps(sets, "step_id = ANY($1::text[]) AND status = ANY($3::text[])", {
    from: "unnest($1::text[], $2::json[]) AS u(step_id, inputs)",
    on: "s.step_id = u.step_id",
  });
}

export const LOCK_STEPS_BY_ID = `
SELECT ${STEP_COLUMNS} FROM run_steps WHERE step_id = ANY($1::text[]) ORDER BY run_id, ordinal FOR UPDATE`;

export const CLOSE_ATTEMPTS = `
UPDATE run_step_attempts a
SET status = u.status, error_code = u.error_code, result_json = u.result, error_text = u.error_text,
    finished_at = u.finished_at
FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::json[], $6::text[], $7::timestamptz[])
  AS u(step_id, attempt_seq, status, error_code, result, error_text, finished_at)
WHERE a.step_id = u.step_id AND a.attempt_seq = u.attempt_seq
RETURNING a.step_id, a.attempt_seq, a.worker_id, a.due_at, a.started_at`;

// Guarded by the lease-closing transitions of the table: a step is written only while it holds the token and
// only to the status one of them leads to from its status; any other close matches nothing (the caller reports it).
export const CLOSE_LEASES = keepingActiveCount(`
UPDATE run_steps s
SET status = u.status, result_json = u.result, error_text = u.error_text, next_run_at = u.next_run_at,
    finished_at = u.finished_at, lease_token = NULL, lease_owner = NULL, lease_until = NULL, updated_at = $8
FROM unnest($1::text[], $2::text[], $3::text[], $4::json[], $5::text[], $6::timestamptz[], $7::timestamptz[])
  AS u(step_id, lease_token, status, result, error_text, next_run_at, finished_at)
WHERE s.step_id = u.step_id AND s.lease_token = u.lease_token AND ${sqlLeaseClosePair("s.status", "u.status")}
RETURNING s.run_id, ${sqlStatus(LEASE_HELD)}::text AS was, s.status AS now`);

// Claims: due steps in claim order, locking only step rows and skipping locked ones; the attempt row is
// opened in the same statement. A QUEUED run becomes RUNNING here only if its row is free (SKIP LOCKED):
// a claim never waits on a run row. Otherwise the next transaction that locks the run does it.
// The claim time is cut to the millisecond the columns keep, so the attempt returned is the attempt stored.
// $1 worker, $2 limit, $3 lease ms, $4 clock (null: now()), $5 run (CLAIM_RUN_STEPS only).
function claimSteps(picked: string): string {
  return `
WITH clock AS (SELECT date_trunc('milliseconds', coalesce($4::timestamptz, now())) AS t),
picked AS (${picked}),
claimed AS (
  UPDATE run_steps s
  SET status = ${sqlStatus(STEP_TRANSITIONS.claim.to)}, attempt = s.attempt + 1, attempt_seq = s.attempt_seq + 1,
      lease_token = gen_random_uuid()::text, lease_owner = $1,
      lease_until = clock.t + $3::int * interval '1 millisecond',
      started_at = coalesce(s.started_at, clock.t), updated_at = clock.t
  FROM picked, clock
  WHERE s.step_id = picked.step_id
  RETURNING s.*, picked.due_at AS claim_due_at, clock.t AS claim_at
),
opened AS (
  INSERT INTO run_step_attempts (step_id, attempt_seq, run_id, round, attempt, worker_id, lease_token, status, due_at,
                                 started_at)
  SELECT step_id, attempt_seq, run_id, round, attempt, $1, lease_token, ${sqlStatus(ATTEMPT_OPEN)}, claim_due_at, claim_at FROM claimed
),
started AS (
  UPDATE runs r SET status = ${sqlStatus(RUN_TRANSITIONS.start.to)}, started_at = coalesce(r.started_at, clock.t), updated_at = clock.t
  FROM clock
  WHERE r.run_id IN (
    SELECT q.run_id FROM runs q
    WHERE q.run_id IN (SELECT run_id FROM claimed) AND ${sqlStatusIs("q.status", RUN_TRANSITIONS.start.from)}
    FOR NO KEY UPDATE SKIP LOCKED
  )
)
SELECT c.*, r.task_type AS run_task_type
FROM claimed c JOIN runs r ON r.run_id = c.run_id
ORDER BY c.priority DESC, c.claim_due_at, c.run_created_at, c.step_id`;
}

/**
 * Any run's due steps: claimable_steps() walks run_steps_claim_idx in claim order whatever the statistics say
 * (migration 005), so a claim reads about `limit` index entries however long the queue is.
 */
export const CLAIM_STEPS = claimSteps(
  "SELECT p.step_id, p.due_at FROM clock, claimable_steps($2::int, clock.t) p",
);

/**
 * One run's due steps (`run exec`): found through the run's own index entries (run_id, ordinal) and sorted
 * there, never through the queue's claim index. The status test is written on `status || ''` so that it does
 * not imply the claim index's predicate: the planner cannot pick that index (a walk of the whole queue) when
 * its statistics are stale.
 */
export const CLAIM_RUN_STEPS = claimSteps(`
  SELECT s.step_id, s.next_run_at AS due_at
  FROM run_steps s, clock
  WHERE s.run_id = $5::text AND ${sqlStatusIs("(s.status || '')", STEP_TRANSITIONS.claim.from)}
    AND s.next_run_at <= clock.t
  ORDER BY s.priority DESC, s.next_run_at, s.run_created_at, s.step_id
  LIMIT $2
  FOR UPDATE OF s SKIP LOCKED`);

// The step rows are locked first in the order every transition locks them (run_id, then step order): a worker's
// leases span several runs, and a group commit holds the steps of several runs, so an update in plan order
// could deadlock with it.
export const HEARTBEAT = `
WITH held AS (
  SELECT s.step_id FROM run_steps s
  JOIN unnest($1::text[], $2::text[]) AS h(step_id, lease_token)
    ON s.step_id = h.step_id AND s.lease_token = h.lease_token
  WHERE ${sqlStatusIs("s.status", [LEASE_HELD])}
  ORDER BY s.run_id, s.ordinal
  FOR UPDATE OF s
)
UPDATE run_steps s
SET lease_until = coalesce($4::timestamptz, now()) + $3::int * interval '1 millisecond',
    updated_at = coalesce($4::timestamptz, now())
FROM held
WHERE s.step_id = held.step_id AND ${sqlStatusIs("s.status", [LEASE_HELD])}
RETURNING s.step_id`;

export const VALID_LEASES = `
SELECT s.step_id FROM run_steps s
JOIN unnest($1::text[], $2::text[]) AS h(step_id, lease_token)
  ON s.step_id = h.step_id AND s.lease_token = h.lease_token
WHERE ${sqlStatusIs("s.status", [LEASE_HELD])}`;

/**
 * The lease sweeper's advisory lock key: the schema's own, so that sweepers of other schemas in the same
 * database never hold each other back. An SQL expression (of the session's current schema).
 */
export const SWEEP_LOCK_KEY = "hashtextextended('wattswarm:sweep:' || coalesce(current_schema(), ''), 0)";

// One sweeper at a time: tried, never waited for; held until the transaction ends.
export const TRY_SWEEP_LOCK = `SELECT pg_try_advisory_xact_lock(${SWEEP_LOCK_KEY}) AS locked`;

export const EXPIRED_LEASE_RUNS = `
SELECT DISTINCT run_id FROM run_steps
WHERE ${sqlStatusIs("status", [LEASE_HELD])} AND lease_until < coalesce($1::timestamptz, now())
ORDER BY run_id`;

// Two probes, each over its partial index (claimable steps; in-flight steps), never over history.
export const HAS_PENDING_WORK = `
SELECT EXISTS (
  SELECT 1 FROM run_steps WHERE ${sqlStatusIs("status", CLAIMABLE_STEP_STATUSES)} AND ($1::text IS NULL OR run_id = $1::text)
) OR EXISTS (
  SELECT 1 FROM run_steps WHERE ${sqlStatusIs("status", [LEASE_HELD])} AND ($1::text IS NULL OR run_id = $1::text)
) AS pending`;

export const GET_RUN = `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = $1`;

export const GET_STEPS = `SELECT ${STEP_COLUMNS} FROM run_steps WHERE run_id = $1 ORDER BY ordinal`;

export const GET_ATTEMPTS = `
SELECT a.step_id, a.attempt_seq, a.run_id, a.round, a.attempt, a.worker_id, a.lease_token, a.status, a.closed_as,
       a.error_code, a.result_json, a.error_text, a.due_at, a.started_at, a.finished_at
FROM run_step_attempts a JOIN run_steps s ON s.step_id = a.step_id
WHERE a.run_id = $1 ORDER BY s.ordinal, a.attempt_seq`;

export const LIST_RUNS = `
SELECT ${RUN_COLUMNS} FROM runs
WHERE ($1::text IS NULL OR status = $1::text)
  AND ($3::text IS NULL OR (created_at, run_id) < (SELECT b.created_at, b.run_id FROM runs b WHERE b.run_id = $3::text))
ORDER BY created_at DESC, run_id DESC
LIMIT $2`;

export const COUNT_STEPS = `
SELECT run_id, status, count(*)::int AS n FROM run_steps WHERE run_id = ANY($1::text[]) GROUP BY run_id, status`;

export const LIST_EVENTS_AFTER = `
SELECT ${EVENT_COLUMNS} FROM run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`;

export const LIST_EVENTS_TAIL = `
SELECT * FROM (SELECT ${EVENT_COLUMNS} FROM run_events WHERE run_id = $1 ORDER BY seq DESC LIMIT $2) t ORDER BY seq`;
