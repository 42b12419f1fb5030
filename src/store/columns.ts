// The column lists the run store selects, the same in both dialects: the tables are the same (the migrations
// of postgres/ and sqlite/ create the same columns), only their types differ.

export const RUN_COLUMNS = `run_id, status, task_type, spec_json, shared_inputs_json, round, event_seq, active_steps,
  reputation_applied, result_json, error_text, created_at, updated_at, started_at, finished_at`;

export const STEP_COLUMNS = `step_id, run_id, ordinal, agent_id, executor, profile, prompt, inputs_json, weight, priority,
  timeout_ms, status, round, attempt, attempt_seq, max_attempts, next_run_at, run_created_at, lease_token,
  lease_owner, lease_until, result_json, error_text, created_at, updated_at, started_at, finished_at`;

export const ATTEMPT_COLUMNS = `step_id, attempt_seq, run_id, round, attempt, worker_id, lease_token, status, closed_as,
  error_code, result_json, error_text, due_at, started_at, finished_at`;

export const EVENT_COLUMNS = "id, run_id, seq, event_type, payload_json, created_at";

export const EXECUTOR_COLUMNS = "name, kind, config_json, created_at, updated_at";
