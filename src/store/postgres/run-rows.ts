// Row ↔ record mapping for the run tables on PostgreSQL (timestamptz arrives as Date, json parsed). The field
// lists are shared with SQLite (../run-rows.ts); this module supplies the PostgreSQL codec and SET lists.
import type { AttemptRecord, EventRecord, RunRecord, StepRecord } from "../run-port.js";
import * as rows from "../run-rows.js";
import { type PatchColumn, patchEntries, type Row, type RowCodec } from "../run-rows.js";

export { ATTEMPT_PATCH_COLUMNS, RUN_PATCH_COLUMNS, STEP_PATCH_COLUMNS } from "../run-rows.js";

export function iso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return new Date(value as string).toISOString();
}

export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

const PG_CODEC: RowCodec = {
  json: (value) => value,
  time: iso,
  bool: (value) => value === true,
};

export const toRunRecord = (r: Row): RunRecord => rows.toRunRecord(r, PG_CODEC);
export const toStepRecord = (r: Row): StepRecord => rows.toStepRecord(r, PG_CODEC);
export const toAttemptRecord = (r: Row): AttemptRecord => rows.toAttemptRecord(r, PG_CODEC);
export const toEventRecord = (r: Row): EventRecord => rows.toEventRecord(r, PG_CODEC);

/** Builds `col = $n, …` for the patch's keys (whitelisted) and appends their values to `values`. */
export function setList(
  patch: Record<string, unknown>,
  columns: Record<string, PatchColumn>,
  values: unknown[],
): string[] {
  return patchEntries(patch, columns).map(({ spec, value }) => {
    const json = spec.kind === "json";
    values.push(json && value !== null ? JSON.stringify(value) : value);
    return `${spec.column} = $${values.length}${json ? "::json" : ""}`;
  });
}
