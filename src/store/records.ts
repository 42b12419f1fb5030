// Checks and conversions both adapters apply at the port boundary, so the two stores accept and return
// exactly the same shapes.

import { WattswarmError } from "../errors.js";
import type { JsonObject } from "../spec/types.js";
import { EXECUTOR_KINDS, type ExecutorKind, isExecutorKind } from "../vocab.js";
import type { ExecutorInput } from "./types.js";

export function assertExecutorInput(input: ExecutorInput): void {
  if (typeof input.name !== "string" || input.name.trim() === "" || input.name.length > 128) {
    throw new WattswarmError("USAGE", "executor name must be 1–128 characters");
  }
  if (!isExecutorKind(input.kind)) {
    throw new WattswarmError(
      "USAGE",
      `executor kind must be one of ${EXECUTOR_KINDS.join(", ")}, got "${String(input.kind)}"`,
    );
  }
  if (typeof input.config !== "object" || input.config === null || Array.isArray(input.config)) {
    throw new WattswarmError("USAGE", "executor config must be a JSON object");
  }
}

/** The one time format the port returns: ISO-8601 UTC with milliseconds. */
export function isoTime(value: Date | number): string {
  return (typeof value === "number" ? new Date(value) : value).toISOString();
}

/** Rows were written through the port, so a bad kind or config here means the table was edited by hand. */
export function executorKindOf(value: string, name: string): ExecutorKind {
  if (!isExecutorKind(value))
    throw new WattswarmError("INTERNAL", `executor "${name}" has unknown kind "${value}"`);
  return value;
}

export function jsonObjectOf(value: unknown, what: string): JsonObject {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WattswarmError("INTERNAL", `${what} is not a JSON object`);
  }
  return value as JsonObject;
}
