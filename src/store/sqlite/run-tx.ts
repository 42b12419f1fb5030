// RunTx on SQLite: statements on the store's one connection between BEGIN IMMEDIATE and COMMIT (run-store.ts).
// BEGIN IMMEDIATE is the database-wide write lock, so it stands for every row lock of SPEC §4. better-sqlite3
// is synchronous: each method runs its statements at once and returns a settled promise.

import type { RunStatus, StepStatus } from "../../vocab.js";
import { isoTime } from "../records.js";
import { orderedDeltas } from "../reputation-rows.js";
import type {
  AttemptClaimInfo,
  AttemptClose,
  AttemptPatch,
  AttemptRecord,
  EventBatch,
  EventRecord,
  Isolated,
  LeaseClose,
  NewEvent,
  NudgeKind,
  ReputationDelta,
  RunPatch,
  RunRecord,
  RunTx,
  StepInputs,
  StepPatch,
  StepRecord,
} from "../run-port.js";
import {
  ATTEMPT_PATCH_COLUMNS,
  type PatchColumn,
  RUN_PATCH_COLUMNS,
  STEP_PATCH_COLUMNS,
} from "../run-rows.js";
import { LEASE_HELD } from "../transitions.js";
import { cached, type SqliteDb } from "./connection.js";
import { APPLY_REPUTATION, GET_FEEDBACK, PUT_FEEDBACK } from "./knowledge-queries.js";
import {
  ADD_ACTIVE_STEPS,
  BUMP_EVENT_SEQ,
  CLOSE_ATTEMPT,
  CLOSE_LEASE,
  EVENTS_OF_TYPES,
  FIND_ATTEMPT_BY_TOKEN,
  GET_ATTEMPT,
  IN_JSON,
  INSERT_EVENT,
  INSERT_EVENT_ONLY,
  INSERT_RUN,
  INSERT_STEP,
  LOCK_RUN,
  LOCK_RUNS,
  LOCK_STEPS,
  LOCK_STEPS_BY_ID,
  LOCK_STEPS_PROJECTED,
  REPUTATION_UNITS,
  STEP_INPUT_PAIRS,
  SUCCEEDED_ATTEMPTS_BEFORE,
  SUCCEEDED_ATTEMPTS_BEFORE_PROJECTED,
} from "./run-queries.js";
import {
  ActiveCounts,
  jsonOrNull,
  ms,
  msOrNull,
  type Row,
  runParams,
  type SqlValue,
  setList,
  stepParams,
  toAttemptRecord,
  toEventRecord,
  toRunRecord,
  toStepRecord,
} from "./run-rows.js";

// Result codes of the database's own state (locks, I/O, resources, a damaged or unwritable file), as opposed
// to constraint, type or size errors that blame the statement's data.
const DATABASE_FAILURE =
  /^SQLITE_(BUSY|LOCKED|IOERR|FULL|NOMEM|INTERRUPT|CANTOPEN|PROTOCOL|READONLY|CORRUPT|NOTADB|PERM|AUTH)/;

function isDatabaseFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "DB_UNAVAILABLE" || (typeof code === "string" && DATABASE_FAILURE.test(code));
}

export class SqliteRunTx implements RunTx {
  private savepoints = 0;

  constructor(
    private readonly db: SqliteDb,
    readonly now: Date,
  ) {}

  private get nowMs(): number {
    return this.now.getTime();
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    return cached(this.db, sql).all(...params) as Row[];
  }

  private get(sql: string, ...params: unknown[]): Row | undefined {
    return cached(this.db, sql).get(...params) as Row | undefined;
  }

  async lockRun(runId: string): Promise<RunRecord | null> {
    const row = this.get(LOCK_RUN, runId);
    return row ? toRunRecord(row) : null;
  }

  async lockSteps(runId: string, resultKeys?: readonly string[]): Promise<StepRecord[]> {
    const rows = resultKeys
      ? this.all(LOCK_STEPS_PROJECTED, { run_id: runId, keys: JSON.stringify(resultKeys) })
      : this.all(LOCK_STEPS, runId);
    return rows.map(toStepRecord);
  }

  async lockRuns(runIds: readonly string[]): Promise<RunRecord[]> {
    if (runIds.length === 0) return [];
    return this.all(LOCK_RUNS, JSON.stringify(runIds)).map(toRunRecord);
  }

  async lockStepsById(stepIds: readonly string[]): Promise<StepRecord[]> {
    if (stepIds.length === 0) return [];
    return this.all(LOCK_STEPS_BY_ID, JSON.stringify(stepIds)).map(toStepRecord);
  }

  async insertRun(run: RunRecord): Promise<void> {
    cached(this.db, INSERT_RUN).run(runParams(run));
  }

  async insertSteps(steps: StepRecord[]): Promise<void> {
    const insert = cached(this.db, INSERT_STEP);
    const counts = new ActiveCounts();
    for (const step of steps) {
      insert.run(stepParams(step));
      counts.add(step.run_id, null, step.status);
    }
    this.addActive(counts);
  }

  /** Writes what `counts` gathered into runs.active_steps (SQLite: one small statement per run changed). */
  private addActive(counts: ActiveCounts): void {
    const add = cached(this.db, ADD_ACTIVE_STEPS);
    for (const [runId, delta] of counts.deltas()) add.run(delta, runId);
  }

  async updateRun(runId: string, from: readonly RunStatus[], patch: RunPatch): Promise<boolean> {
    return this.guardedUpdate("runs", "run_id = ?", runId, from, patch, RUN_PATCH_COLUMNS) > 0;
  }

  async updateSteps(
    stepIds: readonly string[],
    from: readonly StepStatus[],
    patch: StepPatch,
  ): Promise<number> {
    if (stepIds.length === 0) return 0;
    const ids = JSON.stringify(stepIds);
    return this.guardedUpdate(
      "run_steps",
      `step_id IN ${IN_JSON("?")}`,
      ids,
      from,
      patch,
      STEP_PATCH_COLUMNS,
    );
  }

  async updateStepsWithInputs(
    steps: readonly StepInputs[],
    from: readonly StepStatus[],
    patch: Omit<StepPatch, "inputs">,
  ): Promise<number> {
    if (steps.length === 0) return 0;
    const values: SqlValue[] = [];
    const sets = setList(patch, STEP_PATCH_COLUMNS, values);
    sets.push("inputs_json = u.inputs", "updated_at = ?");
    values.push(
      this.nowMs,
      JSON.stringify(steps.map((s) => [s.step_id, JSON.stringify(s.inputs)])),
      JSON.stringify(from),
    );
    const sql = `UPDATE run_steps SET ${sets.join(", ")} FROM (${STEP_INPUT_PAIRS}) AS u
      WHERE run_steps.step_id = u.step_id AND run_steps.status IN ${IN_JSON("?")}`;
    return this.writingStatus(
      `WHERE step_id IN ${IN_JSON("?")} AND status IN ${IN_JSON("?")}`,
      [JSON.stringify(steps.map((s) => s.step_id)), JSON.stringify(from)],
      patch.status,
      () => cached(this.db, sql).run(...values).changes,
    );
  }

  /**
   * Runs `write`, a statement that sets the status of the steps `where` selects to `status` (undefined: it
   * writes no status), and keeps runs.active_steps: the statuses it replaces are read first, in the same
   * transaction (nothing else writes here).
   */
  private writingStatus(
    where: string,
    params: SqlValue[],
    status: StepStatus | undefined,
    write: () => number,
  ): number {
    if (status === undefined) return write();
    const counts = new ActiveCounts();
    const before = cached(this.db, `SELECT run_id, status FROM run_steps ${where}`).all(...params);
    for (const row of before as { run_id: string; status: string }[])
      counts.add(row.run_id, row.status, status);
    const changed = write();
    this.addActive(counts);
    return changed;
  }

  async updateRunSteps(runId: string, from: readonly StepStatus[], patch: StepPatch): Promise<number> {
    return this.guardedUpdate("run_steps", "run_id = ?", runId, from, patch, STEP_PATCH_COLUMNS);
  }

  /** `UPDATE table SET <patch>, updated_at WHERE <key: ?> AND status IN from`; returns the rows changed. */
  private guardedUpdate(
    table: "runs" | "run_steps",
    keyCondition: string,
    key: SqlValue,
    from: readonly string[],
    patch: RunPatch | StepPatch,
    columns: Record<string, PatchColumn>,
  ): number {
    const values: SqlValue[] = [];
    const sets = setList(patch, columns, values);
    sets.push("updated_at = ?");
    values.push(this.nowMs, key, JSON.stringify(from));
    const where = `WHERE ${keyCondition} AND status IN ${IN_JSON("?")}`;
    const update = () =>
      cached(this.db, `UPDATE ${table} SET ${sets.join(", ")} ${where}`).run(...values).changes;
    if (table === "runs") return update();
    return this.writingStatus(where, [key, JSON.stringify(from)], (patch as StepPatch).status, update);
  }

  async getAttempt(stepId: string, attemptSeq: number): Promise<AttemptRecord | null> {
    const row = this.get(GET_ATTEMPT, stepId, attemptSeq);
    return row ? toAttemptRecord(row) : null;
  }

  async findAttemptByToken(stepId: string, leaseToken: string): Promise<AttemptRecord | null> {
    const row = this.get(FIND_ATTEMPT_BY_TOKEN, stepId, leaseToken);
    return row ? toAttemptRecord(row) : null;
  }

  async updateAttempt(stepId: string, attemptSeq: number, patch: AttemptPatch): Promise<void> {
    const values: SqlValue[] = [];
    const sets = setList(patch, ATTEMPT_PATCH_COLUMNS, values);
    if (sets.length === 0) return;
    values.push(stepId, attemptSeq);
    cached(
      this.db,
      `UPDATE run_step_attempts SET ${sets.join(", ")} WHERE step_id = ? AND attempt_seq = ?`,
    ).run(...values);
  }

  async trySweepLock(): Promise<boolean> {
    // BEGIN IMMEDIATE: no other transaction writes while this one runs, sweeping or not.
    return true;
  }

  async closeAttempts(closes: readonly AttemptClose[]): Promise<AttemptClaimInfo[]> {
    const close = cached(this.db, CLOSE_ATTEMPT);
    const out: AttemptClaimInfo[] = [];
    for (const c of closes) {
      const row = close.get({
        step_id: c.step_id,
        attempt_seq: c.attempt_seq,
        status: c.status,
        error_code: c.error_code,
        result_json: jsonOrNull(c.result),
        error_text: c.error_text,
        finished_at: ms(c.finished_at),
      }) as Row | undefined;
      if (!row) continue;
      out.push({
        step_id: row.step_id as string,
        attempt_seq: row.attempt_seq as number,
        worker_id: row.worker_id as string,
        due_at: isoTime(row.due_at as number),
        started_at: isoTime(row.started_at as number),
      });
    }
    return out;
  }

  async closeLeases(closes: readonly LeaseClose[]): Promise<number> {
    const close = cached(this.db, CLOSE_LEASE);
    const counts = new ActiveCounts();
    let changed = 0;
    for (const c of closes) {
      const row = close.get({
        step_id: c.step_id,
        lease_token: c.lease_token,
        status: c.status,
        result_json: jsonOrNull(c.result),
        error_text: c.error_text,
        next_run_at: ms(c.next_run_at),
        finished_at: msOrNull(c.finished_at),
        now: this.nowMs,
      }) as { run_id: string } | undefined;
      if (row === undefined) continue;
      // CLOSE_LEASE writes a step only from the lease-held status (its guard: the lease-closing transitions).
      counts.add(row.run_id, LEASE_HELD, c.status);
      changed += 1;
    }
    this.addActive(counts);
    return changed;
  }

  async listSucceededAttemptsBefore(
    runId: string,
    round: number,
    resultKeys?: readonly string[],
  ): Promise<AttemptRecord[]> {
    const rows = resultKeys
      ? this.all(SUCCEEDED_ATTEMPTS_BEFORE_PROJECTED, {
          run_id: runId,
          round,
          keys: JSON.stringify(resultKeys),
        })
      : this.all(SUCCEEDED_ATTEMPTS_BEFORE, { run_id: runId, round });
    return rows.map(toAttemptRecord);
  }

  async listEventsOfTypes(runId: string, types: readonly string[]): Promise<EventRecord[]> {
    return this.all(EVENTS_OF_TYPES, runId, JSON.stringify(types)).map(toEventRecord);
  }

  async getReputationUnits(agentIds: readonly string[], taskType: string): Promise<Record<string, number>> {
    // Null prototype: "__proto__" is a valid agent_id, and assigning it on a plain object would be lost.
    const units: Record<string, number> = Object.create(null);
    for (const r of this.all(REPUTATION_UNITS, JSON.stringify(agentIds), taskType)) {
      const agent = r.agent_id as string;
      // Rows come task_type first, then '*': keep the first per agent (PostgreSQL's DISTINCT ON).
      if (!Object.hasOwn(units, agent)) units[agent] = Number(r.units);
    }
    return units;
  }

  async getFeedback(runId: string): Promise<string | null> {
    const row = this.get(GET_FEEDBACK, runId);
    return row ? (row.correct as string) : null;
  }

  async putFeedback(runId: string, correct: string): Promise<void> {
    cached(this.db, PUT_FEEDBACK).run({ run_id: runId, correct, now: this.nowMs });
  }

  async applyReputation(deltas: readonly ReputationDelta[]): Promise<void> {
    const rows = orderedDeltas(deltas);
    if (rows.length === 0) return;
    cached(this.db, APPLY_REPUTATION).run({ rows: JSON.stringify(rows), now: this.nowMs });
  }

  async appendEvents(runId: string, events: readonly NewEvent[]): Promise<EventRecord[]> {
    if (events.length === 0) return [];
    const first = this.bumpEventSeq(runId, events.length);
    const insert = cached(this.db, INSERT_EVENT);
    return events.map((e, i) => {
      const createdAt = e.created_at === undefined ? this.nowMs : ms(e.created_at);
      const row = insert.get(runId, first + i, e.event_type, JSON.stringify(e.payload), createdAt) as Row;
      return toEventRecord(row);
    });
  }

  async appendEventBatches(batches: readonly EventBatch[]): Promise<void> {
    const insert = cached(this.db, INSERT_EVENT_ONLY);
    for (const { run_id: runId, events } of batches) {
      if (events.length === 0) continue;
      const first = this.bumpEventSeq(runId, events.length);
      events.forEach((e, i) => {
        const createdAt = e.created_at === undefined ? this.nowMs : ms(e.created_at);
        insert.run(runId, first + i, e.event_type, JSON.stringify(e.payload), createdAt);
      });
    }
  }

  /** Reserves `count` seq values of the run; returns the first. */
  private bumpEventSeq(runId: string, count: number): number {
    const bumped = this.get(BUMP_EVENT_SEQ, count, runId);
    const last = bumped?.event_seq as number | undefined;
    if (last === undefined) throw new Error(`appendEvents: run ${runId} not found`);
    return last - count + 1;
  }

  notify(_runId: string, _kind: NudgeKind): void {
    // No NOTIFY on SQLite: workers and followers poll (SPEC §4: polling is the guarantee).
  }

  async isolate<T>(fn: () => Promise<T>): Promise<Isolated<T>> {
    const savepoint = `ws_isolate_${++this.savepoints}`;
    this.db.exec(`SAVEPOINT ${savepoint}`);
    try {
      const value = await fn();
      this.db.exec(`RELEASE ${savepoint}`);
      return { ok: true, value };
    } catch (err) {
      if (isDatabaseFailure(err)) throw err;
      this.db.exec(`ROLLBACK TO ${savepoint}`);
      this.db.exec(`RELEASE ${savepoint}`);
      return { ok: false, error: err };
    }
  }
}
