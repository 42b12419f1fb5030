// The records of the store port (port.ts) and `RunTx`, the handle of one transaction opened by
// `store.transaction(fn)`. The kernel writes every transition once, against `RunTx`; adapters implement these
// narrow operations with their own SQL. A `RunTx` is one database transaction: PostgreSQL BEGIN … COMMIT on one
// connection, SQLite BEGIN IMMEDIATE. port.ts's header says how its operations compose.
import type { JsonObject, JsonValue, RunSpec } from "../spec/types.js";
import type { AttemptStatus, RunStatus, StepStatus } from "../vocab.js";

/** Times are ISO-8601 UTC strings with milliseconds (`2026-01-02T03:04:05.678Z`). */
export interface RunRecord {
  run_id: string;
  status: RunStatus;
  task_type: string;
  spec: RunSpec;
  shared_inputs: JsonValue;
  round: number;
  event_seq: number;
  /**
   * How many of its steps are in an active status (CREATED, QUEUED, LEASED, RETRY_WAIT). Kept by the stores in
   * the statements that write step statuses, so a completion learns whether its run became idle without
   * reading the run's other steps.
   */
  active_steps: number;
  reputation_applied: boolean;
  result: JsonObject | null;
  error_text: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface StepRecord {
  step_id: string;
  run_id: string;
  ordinal: number;
  agent_id: string;
  executor: string;
  profile: string;
  prompt: string;
  inputs: JsonObject;
  weight: number;
  priority: number;
  timeout_ms: number;
  status: StepStatus;
  round: number;
  attempt: number;
  attempt_seq: number;
  max_attempts: number;
  next_run_at: string;
  run_created_at: string;
  lease_token: string | null;
  lease_owner: string | null;
  lease_until: string | null;
  result: JsonValue | null;
  error_text: string | null;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface AttemptRecord {
  step_id: string;
  attempt_seq: number;
  run_id: string;
  round: number;
  attempt: number;
  worker_id: string;
  lease_token: string;
  status: AttemptStatus;
  closed_as: AttemptStatus | null;
  error_code: string | null;
  result: JsonValue | null;
  error_text: string | null;
  due_at: string;
  started_at: string;
  finished_at: string | null;
}

export interface EventRecord {
  id: number;
  run_id: string;
  seq: number;
  event_type: string;
  payload: JsonObject;
  created_at: string;
}

export interface NewEvent {
  event_type: string;
  payload: JsonObject;
  /** Defaults to the transaction's time; STEP_LEASED carries the claim time. */
  created_at?: string;
}

export type RunPatch = Partial<
  Pick<
    RunRecord,
    | "status"
    | "shared_inputs"
    | "round"
    | "reputation_applied"
    | "result"
    | "error_text"
    | "started_at"
    | "finished_at"
  >
>;

export type StepPatch = Partial<
  Pick<
    StepRecord,
    | "status"
    | "inputs"
    | "round"
    | "attempt"
    | "next_run_at"
    | "lease_token"
    | "lease_owner"
    | "lease_until"
    | "result"
    | "error_text"
    | "finished_at"
  >
>;

export type AttemptPatch = Partial<
  Pick<AttemptRecord, "status" | "closed_as" | "error_code" | "result" | "error_text" | "finished_at">
>;

/** One agent_reputation row (SPEC §9); `task_type` is the run's task type or '*' (the overall row). */
export interface ReputationRecord {
  agent_id: string;
  task_type: string;
  runs: number;
  agreed: number;
  correct: number;
  wrong: number;
  units: number;
  updated_at: string;
}

/** Counts to add to one agent_reputation row (negative to take back replaced feedback). */
export type ReputationDelta = Omit<ReputationRecord, "units" | "updated_at">;

/** How one attempt ends (SPEC §4: the transition that ends an attempt writes its row once). */
export interface AttemptClose {
  step_id: string;
  attempt_seq: number;
  status: AttemptStatus;
  error_code: string | null;
  result: JsonValue | null;
  error_text: string | null;
  finished_at: string;
}

/** What the claim wrote into an attempt row, returned when the attempt is closed (for `STEP_LEASED`). */
export type AttemptClaimInfo = Pick<
  AttemptRecord,
  "step_id" | "attempt_seq" | "worker_id" | "due_at" | "started_at"
>;

/** The outcome of a LEASED step whose lease ends: its new values; the lease columns are cleared. */
export interface LeaseClose {
  step_id: string;
  /** Written only while the step is LEASED with this token. */
  lease_token: string;
  status: StepStatus;
  result: JsonValue | null;
  error_text: string | null;
  next_run_at: string;
  finished_at: string | null;
}

/** One step's own inputs, for a guarded update that writes every listed step with its own (re-explore). */
export interface StepInputs {
  step_id: string;
  inputs: JsonObject;
}

/** Events of one run, to append with its next seq values. */
export interface EventBatch {
  run_id: string;
  events: readonly NewEvent[];
}

/** A claimed step: the step row after the claim plus the attempt the claim opened. */
export interface ClaimedStep {
  step: StepRecord;
  attempt: AttemptRecord;
  task_type: string;
}

/** What RunTx.isolate returns: fn's value, or the error that rolled its writes back. */
export type Isolated<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface RunTx {
  /** The transaction's clock (PostgreSQL `now()` of this transaction; the process clock on SQLite). */
  readonly now: Date;
  /** Locks the run row (FOR UPDATE); null when there is no such run. */
  lockRun(runId: string): Promise<RunRecord | null>;
  /**
   * The run's steps in step order, locked FOR UPDATE (after the run row: SPEC §4 lock order). With
   * `resultKeys`, each step's result comes back as only those keys of it (and of its `candidate_output`
   * object): settling reads what aggregation looks at (aggregationKeys) without moving every agent's whole
   * output through the worker. A result that is not a JSON object comes back as it is.
   */
  lockSteps(runId: string, resultKeys?: readonly string[]): Promise<StepRecord[]>;
  /** Locks these runs' rows in ascending run_id order (SPEC §4) in one statement; missing runs are absent. */
  lockRuns(runIds: readonly string[]): Promise<RunRecord[]>;
  /**
   * These steps (of runs whose rows this transaction locked), locked FOR UPDATE by run_id then step order, the
   * order every transition and heartbeat locks steps in; missing ones are absent.
   */
  lockStepsById(stepIds: readonly string[]): Promise<StepRecord[]>;
  insertRun(run: RunRecord): Promise<void>;
  /** Inserts the steps and adds the active ones to their runs' active_steps, like every status write below. */
  insertSteps(steps: StepRecord[]): Promise<void>;
  /** Guarded update; returns false when the run's status is not in `from`. */
  updateRun(runId: string, from: readonly RunStatus[], patch: RunPatch): Promise<boolean>;
  /** Guarded update of every step of the run whose status is in `from`; returns how many matched. */
  updateRunSteps(runId: string, from: readonly StepStatus[], patch: StepPatch): Promise<number>;
  /** Guarded update of each listed step; returns how many matched `from`. */
  updateSteps(stepIds: readonly string[], from: readonly StepStatus[], patch: StepPatch): Promise<number>;
  /**
   * updateSteps where each step also gets its own inputs: one statement for all of them; returns how many
   * matched `from`.
   */
  updateStepsWithInputs(
    steps: readonly StepInputs[],
    from: readonly StepStatus[],
    patch: Omit<StepPatch, "inputs">,
  ): Promise<number>;
  getAttempt(stepId: string, attemptSeq: number): Promise<AttemptRecord | null>;
  findAttemptByToken(stepId: string, leaseToken: string): Promise<AttemptRecord | null>;
  updateAttempt(stepId: string, attemptSeq: number, patch: AttemptPatch): Promise<void>;
  /**
   * Makes this transaction the lease sweeper, without waiting: true when no other transaction is sweeping the
   * same tables, false when one is (it stops, and this sweep stops with it). PostgreSQL: a transaction-level
   * advisory lock keyed by the schema (`pg_try_advisory_xact_lock`), released at commit or rollback, so a
   * sweeper that dies holds nobody back. SQLite: always true (BEGIN IMMEDIATE already makes this transaction
   * the only writer).
   */
  trySweepLock(): Promise<boolean>;
  /** Closes these attempts in one statement; returns what their claims recorded (absent when no such row). */
  closeAttempts(closes: readonly AttemptClose[]): Promise<AttemptClaimInfo[]>;
  /** Writes these leased steps' outcomes in one statement; returns how many still held the token. */
  closeLeases(closes: readonly LeaseClose[]): Promise<number>;
  /**
   * SUCCEEDED attempts of the run in rounds before `round` (evidence history for aggregation); `resultKeys`
   * as in lockSteps.
   */
  listSucceededAttemptsBefore(
    runId: string,
    round: number,
    resultKeys?: readonly string[],
  ): Promise<AttemptRecord[]>;
  /** The run's events of these types, in seq order. */
  listEventsOfTypes(runId: string, types: readonly string[]): Promise<EventRecord[]>;
  /** Reputation units per agent (task_type row first, then '*'); agents without a row are absent. */
  getReputationUnits(agentIds: readonly string[], taskType: string): Promise<Record<string, number>>;
  /** The run's recorded feedback (normalized correct value), or null. */
  getFeedback(runId: string): Promise<string | null>;
  /** Records or replaces the run's feedback. */
  putFeedback(runId: string, correct: string): Promise<void>;
  /**
   * Adds the deltas as ONE multi-row upsert in (agent_id, task_type) order and recomputes each row's units
   * (SPEC §9). It takes the agent_reputation row locks, the last in SPEC §4's order: call it last.
   */
  applyReputation(deltas: readonly ReputationDelta[]): Promise<void>;
  /** Appends events with the run's next seq values (the run row must be locked). */
  appendEvents(runId: string, events: readonly NewEvent[]): Promise<EventRecord[]>;
  /** appendEvents for several runs in one statement (each run once; their rows must be locked). */
  appendEventBatches(batches: readonly EventBatch[]): Promise<void>;
  /**
   * Asks for a NOTIFY at commit naming this run and why (PostgreSQL; a no-op elsewhere). All of a
   * transaction's nudges go out as one NOTIFY.
   */
  notify(runId: string, kind: NudgeKind): void;
  /**
   * Runs `fn` under a savepoint. When it throws for a reason of its own (the data it met, a bug), its writes
   * are rolled back and the error is returned: the transaction goes on. A failure of the database itself
   * (connection, lock, serialization, resources) is rethrown, and the transaction is lost with it.
   */
  isolate<T>(fn: () => Promise<T>): Promise<Isolated<T>>;
}

/**
 * Why a transaction nudges: `work` (steps became claimable: kickoff, retry, re-explore, release, expiry),
 * `revoke` (leases were taken back: cancel, early stop) or `run` (the run changed otherwise: finalized).
 */
export type NudgeKind = "work" | "revoke" | "run";

/** Which nudges wake a waiter: any nudge of one run (followers), or nudges of some kinds (workers). */
export interface NudgeFilter {
  runId?: string;
  kinds?: readonly NudgeKind[];
}

export interface ClaimOptions {
  workerId: string;
  limit: number;
  leaseMs: number;
  /** Only steps of this run (`run exec`). */
  runId?: string;
  now?: Date;
}

export interface RunListOptions {
  status?: RunStatus;
  limit: number;
  /** run_id of the last row of the previous page. */
  before?: string;
}
