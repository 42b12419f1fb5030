// Event payloads (SPEC §4). Step events carry who and which attempt; every payload carries run_id and is kept
// under 256 KiB (the full data stays in the result and in run_step_attempts).
import type { JsonObject, JsonValue } from "../spec/types.js";
import type { NewEvent, StepRecord } from "../store/run-port.js";
import type { EventType } from "./states.js";

export const EVENT_PAYLOAD_LIMIT_BYTES = 256 * 1024;

function byteLength(value: JsonValue): number {
  return Buffer.byteLength(JSON.stringify(value), "utf8");
}

/** Replaces the largest value (searched depth-first) with `{truncated: <bytes>}` until the payload fits. */
export function boundPayload(payload: JsonObject, limit = EVENT_PAYLOAD_LIMIT_BYTES): JsonObject {
  if (byteLength(payload) <= limit) return payload;
  const copy = structuredClone(payload);
  for (let guard = 0; guard < 10_000 && byteLength(copy) > limit; guard++) {
    let best: { parent: JsonObject | JsonValue[]; key: string | number; size: number } | null = null;
    // Depth-first, each value before its children, with an explicit stack: no nesting overflows it.
    const stack: { parent: JsonObject | JsonValue[]; key: string | number; value: JsonValue }[] = [];
    const pushChildren = (node: JsonValue): void => {
      if (node === null || typeof node !== "object") return;
      const entries: [string | number, JsonValue][] = Array.isArray(node)
        ? node.map((v, i) => [i, v])
        : Object.entries(node);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, value] = entries[i] as [string | number, JsonValue];
        if (node !== copy || key !== "run_id") stack.push({ parent: node, key, value });
      }
    };
    pushChildren(copy);
    for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
      const size = byteLength(entry.value);
      if (!best || size > best.size) best = { parent: entry.parent, key: entry.key, size };
      pushChildren(entry.value);
    }
    if (!best) break;
    const target = best as { parent: JsonObject | JsonValue[]; key: string | number; size: number };
    // Replace the largest value found; when it is already a marker, nothing more can shrink.
    const replacement = { truncated: target.size };
    if (byteLength(replacement) >= target.size) break;
    (target.parent as Record<string | number, JsonValue>)[target.key] = replacement;
  }
  return copy;
}

export function runEvent(type: EventType, runId: string, fields: JsonObject = {}): NewEvent {
  return { event_type: type, payload: boundPayload({ run_id: runId, ...fields }) };
}

export interface StepEventFields {
  error?: string | null;
  error_code?: string | null;
  [key: string]: JsonValue | undefined;
}

export function stepEvent(
  type: EventType,
  step: Pick<StepRecord, "run_id" | "step_id" | "agent_id" | "round" | "attempt" | "attempt_seq">,
  fields: StepEventFields = {},
  createdAt?: string,
): NewEvent {
  const payload: JsonObject = {
    run_id: step.run_id,
    step_id: step.step_id,
    agent_id: step.agent_id,
    round: step.round,
    attempt: step.attempt,
    attempt_seq: step.attempt_seq,
  };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null) payload[key] = value;
  }
  const event: NewEvent = { event_type: type, payload: boundPayload(payload) };
  if (createdAt !== undefined) event.created_at = createdAt;
  return event;
}
