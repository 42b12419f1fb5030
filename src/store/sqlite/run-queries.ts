// Named SQL of the run port (SQLite). Every value is a parameter; lists travel as one JSON array parameter
// read with json_each. The only text composed at run time is the SET list of guarded updates, built from a
// fixed column whitelist (run-tx.ts), never from input. Times are epoch ms from the process clock. Status
// guards and targets come from the transition table (../transitions.ts), composed into the texts when this
// module loads: constants of the code, written as the migrations' partial index predicates write them (a
// query that says INDEXED BY must imply its index's predicate).

import type { AttemptStatus } from "../../vocab.js";
import {
  CLAIMABLE_STEP_STATUSES,
  LEASE_HELD,
  RUN_TRANSITIONS,
  STEP_TRANSITIONS,
  sqlLeaseClosePair,
  sqlStatus,
  sqlStatusIs,
} from "../transitions.js";

/** Attempt statuses these statements name (the attempt row has no transition table: SPEC §3). */
const ATTEMPT_OPEN: AttemptStatus = "RUNNING";
const ATTEMPT_SUCCEEDED: AttemptStatus = "SUCCEEDED";

import { ATTEMPT_COLUMNS, EVENT_COLUMNS, RUN_COLUMNS, STEP_COLUMNS } from "../columns.js";

/** `@name` placeholders for a column list. */
function placeholders(columns: string): string {
  return columns
    .split(",")
    .map((c) => `@${c.trim()}`)
    .join(", ");
}

/** A JSON array parameter as a set of values, for `x IN (…)`. */
export const IN_JSON = (param: string): string => `(SELECT value FROM json_each(${param}))`;

// BEGIN IMMEDIATE already holds the database's write lock, so "locking" a row is reading it.
export const LOCK_RUN = `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ?`;

export const LOCK_STEPS = `SELECT ${STEP_COLUMNS} FROM run_steps WHERE run_id = ? ORDER BY ordinal`;

/**
 * The result_json column as only the keys listed in @keys (a JSON array), and of its candidate_output object
 * the same keys: the projection RunTx.lockSteps(runId, resultKeys) describes. A value SQLite cannot parse (nested
 * deeper than its JSON limit) comes back whole, for the kernel to judge.
 */
const PROJECTED_RESULT = `CASE WHEN json_valid(result_json) AND json_type(result_json) = 'object' THEN (
    SELECT json_group_object(e.key, CASE WHEN e.key = 'candidate_output' AND e.type = 'object'
      THEN (SELECT json_group_object(i.key, json(result_json -> i.fullkey))
            FROM json_each(result_json, '$.candidate_output') i WHERE i.key IN ${IN_JSON("@keys")})
      ELSE json(result_json -> e.fullkey) END)
    FROM json_each(result_json) e WHERE e.key IN ${IN_JSON("@keys")})
  ELSE result_json END AS result_json`;

const withProjectedResult = (columns: string): string => columns.replace(/\bresult_json\b/, PROJECTED_RESULT);

export const LOCK_STEPS_PROJECTED = `
SELECT ${withProjectedResult(STEP_COLUMNS)} FROM run_steps WHERE run_id = @run_id ORDER BY ordinal`;

export const LOCK_RUNS = `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id IN ${IN_JSON("?")} ORDER BY run_id`;

export const LOCK_STEPS_BY_ID = `
SELECT ${STEP_COLUMNS} FROM run_steps WHERE step_id IN ${IN_JSON("?")} ORDER BY run_id, ordinal`;

/** Adds a change in active steps to a run (the statements that write step statuses call it). */
export const ADD_ACTIVE_STEPS = "UPDATE runs SET active_steps = active_steps + ? WHERE run_id = ?";

export const CLOSE_ATTEMPT = `
UPDATE run_step_attempts
SET status = @status, error_code = @error_code, result_json = @result_json, error_text = @error_text,
    finished_at = @finished_at
WHERE step_id = @step_id AND attempt_seq = @attempt_seq
RETURNING step_id, attempt_seq, worker_id, due_at, started_at`;

// Guarded by the lease-closing transitions of the table: a step is written only while it holds the token and
// only to the status one of them leads to from its status; any other close matches nothing (the caller reports it).
export const CLOSE_LEASE = `
UPDATE run_steps
SET status = @status, result_json = @result_json, error_text = @error_text, next_run_at = @next_run_at,
    finished_at = @finished_at, lease_token = NULL, lease_owner = NULL, lease_until = NULL, updated_at = @now
WHERE step_id = @step_id AND lease_token = @lease_token AND ${sqlLeaseClosePair("status", "@status")}
RETURNING run_id`;

// Steps with their own inputs (a JSON array of [step_id, inputs as JSON text]), as rows for UPDATE … FROM.
export const STEP_INPUT_PAIRS = `
SELECT json_extract(value, '$[0]') AS step_id, json_extract(value, '$[1]') AS inputs FROM json_each(?)`;

export const INSERT_RUN = `INSERT INTO runs (${RUN_COLUMNS}) VALUES (${placeholders(RUN_COLUMNS)})`;

export const INSERT_STEP = `INSERT INTO run_steps (${STEP_COLUMNS}) VALUES (${placeholders(STEP_COLUMNS)})`;

export const GET_ATTEMPT = `SELECT ${ATTEMPT_COLUMNS} FROM run_step_attempts WHERE step_id = ? AND attempt_seq = ?`;

export const FIND_ATTEMPT_BY_TOKEN = `
SELECT ${ATTEMPT_COLUMNS} FROM run_step_attempts WHERE step_id = ? AND lease_token = ?
ORDER BY attempt_seq DESC LIMIT 1`;

const SUCCEEDED_BEFORE = `FROM run_step_attempts
WHERE run_id = @run_id AND round < @round AND ${sqlStatusIs("status", [ATTEMPT_SUCCEEDED])}
ORDER BY round, step_id, attempt_seq`;

export const SUCCEEDED_ATTEMPTS_BEFORE = `SELECT ${ATTEMPT_COLUMNS} ${SUCCEEDED_BEFORE}`;

export const SUCCEEDED_ATTEMPTS_BEFORE_PROJECTED = `SELECT ${withProjectedResult(ATTEMPT_COLUMNS)} ${SUCCEEDED_BEFORE}`;

export const EVENTS_OF_TYPES = `
SELECT ${EVENT_COLUMNS} FROM run_events WHERE run_id = ? AND event_type IN ${IN_JSON("?")} ORDER BY seq`;

// The task_type row sorts before the overall '*' row (SPEC §9); the caller keeps the first per agent.
export const REPUTATION_UNITS = `
SELECT agent_id, units FROM agent_reputation
WHERE agent_id IN ${IN_JSON("?")} AND task_type IN (?, '*')
ORDER BY agent_id, (task_type = '*')`;

export const BUMP_EVENT_SEQ =
  "UPDATE runs SET event_seq = event_seq + ? WHERE run_id = ? RETURNING event_seq";

export const INSERT_EVENT = `
INSERT INTO run_events (run_id, seq, event_type, payload_json, created_at) VALUES (?, ?, ?, ?, ?)
RETURNING ${EVENT_COLUMNS}`;

export const INSERT_EVENT_ONLY =
  "INSERT INTO run_events (run_id, seq, event_type, payload_json, created_at) VALUES (?, ?, ?, ?, ?)";

// Claims: due steps in claim order. Run inside BEGIN IMMEDIATE, which stands for every lock of SPEC §4, so
// nothing can take the same rows between the pick and the update.
export const PICK_DUE_STEPS = `
SELECT step_id, next_run_at FROM run_steps
WHERE ${sqlStatusIs("status", STEP_TRANSITIONS.claim.from)} AND next_run_at <= @now
ORDER BY priority DESC, next_run_at, run_created_at, step_id
LIMIT @limit`;

// One run's due steps (`run exec`): through the run's own rows (run_id, ordinal), sorted there. The unary `+`
// keeps SQLite from walking the queue's claim index (every queued step of every run) for it.
export const PICK_RUN_DUE_STEPS = `
SELECT step_id, next_run_at FROM run_steps
WHERE run_id = @run_id AND ${sqlStatusIs("+status", STEP_TRANSITIONS.claim.from)} AND next_run_at <= @now
ORDER BY priority DESC, next_run_at, run_created_at, step_id
LIMIT @limit`;

// The picked steps, each with a fresh token (@leases: a JSON array of [step_id, token]), in one statement.
export const LEASE_STEPS = `
UPDATE run_steps
SET status = ${sqlStatus(STEP_TRANSITIONS.claim.to)}, attempt = attempt + 1, attempt_seq = attempt_seq + 1, lease_token = l.token,
    lease_owner = @worker_id, lease_until = @now + @lease_ms, started_at = coalesce(started_at, @now),
    updated_at = @now
FROM (SELECT json_extract(value, '$[0]') AS step_id, json_extract(value, '$[1]') AS token FROM json_each(@leases)) AS l
WHERE run_steps.step_id = l.step_id AND ${sqlStatusIs("run_steps.status", STEP_TRANSITIONS.claim.from)}
RETURNING ${STEP_COLUMNS}`;

// The attempt rows of the steps just leased: due_at is next_run_at, which a claim leaves unchanged.
export const OPEN_ATTEMPTS = `
INSERT INTO run_step_attempts (step_id, attempt_seq, run_id, round, attempt, worker_id, lease_token, status, due_at,
                               started_at)
SELECT step_id, attempt_seq, run_id, round, attempt, @worker_id, lease_token, ${sqlStatus(ATTEMPT_OPEN)}, next_run_at, @now
FROM run_steps WHERE step_id IN ${IN_JSON("@step_ids")}`;

export const START_RUNS = `
UPDATE runs SET status = ${sqlStatus(RUN_TRANSITIONS.start.to)}, started_at = coalesce(started_at, @now), updated_at = @now
WHERE run_id IN ${IN_JSON("@run_ids")} AND ${sqlStatusIs("status", RUN_TRANSITIONS.start.from)}`;

export const RUN_TASK_TYPES = `SELECT run_id, task_type FROM runs WHERE run_id IN ${IN_JSON("?")}`;

// Leases travel as a JSON array of {step_id, lease_token}.
const LEASE_PAIRS = `(SELECT json_extract(value, '$.step_id'), json_extract(value, '$.lease_token') FROM json_each(?))`;

export const HEARTBEAT = `
UPDATE run_steps SET lease_until = ? + ?, updated_at = ?
WHERE ${sqlStatusIs("status", [LEASE_HELD])} AND (step_id, lease_token) IN ${LEASE_PAIRS}
RETURNING step_id`;

export const VALID_LEASES = `
SELECT step_id FROM run_steps WHERE ${sqlStatusIs("status", [LEASE_HELD])} AND (step_id, lease_token) IN ${LEASE_PAIRS}`;

// Without statistics SQLite would walk a whole (run_id, …) index to produce DISTINCT run_id, however much
// history the table holds; the partial index of in-flight steps is what this query is for.
export const EXPIRED_LEASE_RUNS = `
SELECT DISTINCT run_id FROM run_steps INDEXED BY run_steps_lease_expiry_idx
WHERE ${sqlStatusIs("status", [LEASE_HELD])} AND lease_until < ? ORDER BY run_id`;

// Two probes, each over its partial index (claimable steps; in-flight steps), never over history.
export const HAS_PENDING_WORK = `
SELECT EXISTS (
  SELECT 1 FROM run_steps WHERE ${sqlStatusIs("status", CLAIMABLE_STEP_STATUSES)} AND (@run_id IS NULL OR run_id = @run_id)
) OR EXISTS (
  SELECT 1 FROM run_steps WHERE ${sqlStatusIs("status", [LEASE_HELD])} AND (@run_id IS NULL OR run_id = @run_id)
) AS pending`;

export const GET_RUN = `SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ?`;

export const GET_STEPS = `SELECT ${STEP_COLUMNS} FROM run_steps WHERE run_id = ? ORDER BY ordinal`;

export const GET_ATTEMPTS = `
SELECT a.step_id, a.attempt_seq, a.run_id, a.round, a.attempt, a.worker_id, a.lease_token, a.status, a.closed_as,
       a.error_code, a.result_json, a.error_text, a.due_at, a.started_at, a.finished_at
FROM run_step_attempts a JOIN run_steps s ON s.step_id = a.step_id
WHERE a.run_id = ? ORDER BY s.ordinal, a.attempt_seq`;

export const LIST_RUNS = `
SELECT ${RUN_COLUMNS} FROM runs
WHERE (@status IS NULL OR status = @status)
  AND (@before IS NULL OR (created_at, run_id) < (SELECT b.created_at, b.run_id FROM runs b WHERE b.run_id = @before))
ORDER BY created_at DESC, run_id DESC
LIMIT @limit`;

export const COUNT_STEPS = `
SELECT run_id, status, count(*) AS n FROM run_steps WHERE run_id IN ${IN_JSON("?")} GROUP BY run_id, status`;

export const LIST_EVENTS_AFTER = `
SELECT ${EVENT_COLUMNS} FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?`;

export const LIST_EVENTS_TAIL = `
SELECT * FROM (SELECT ${EVENT_COLUMNS} FROM run_events WHERE run_id = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`;
