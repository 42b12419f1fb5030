// Opaque ids. Step ids sort by creation time, then by step order, so the claim order's last tie-breaker
// (step_id) follows the spec's agent order within a run.
import { randomBytes, randomUUID } from "node:crypto";

export function newStepId(createdAtMs: number, ordinal: number): string {
  const time = createdAtMs.toString(16).padStart(12, "0");
  const order = ordinal.toString(16).padStart(4, "0");
  return `st_${time}${order}${randomBytes(5).toString("hex")}`;
}

export function newLeaseToken(): string {
  return randomUUID();
}

export function newAttemptId(stepId: string, attemptSeq: number): string {
  return `${stepId}.${attemptSeq}`;
}
