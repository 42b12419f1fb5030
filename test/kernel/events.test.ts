// Event payload bound (SPEC §4): a payload over 256 KiB has its largest value replaced by {"truncated": <bytes>}
// until it fits; run_step_attempts (and the step's result) keep the full data.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { boundPayload, EVENT_PAYLOAD_LIMIT_BYTES } from "../../src/kernel/events.js";
import { finishAttempt, submitRun } from "../../src/kernel/index.js";
import type { JsonObject } from "../../src/spec/types.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import {
  attemptsOf,
  claimRun,
  eventsOf,
  leaseFor,
  makeSpec,
  stepOf,
  vote,
} from "../store-conformance/harness.js";
import { useTempSqlite } from "../support/sqlite.js";

const tempPath = useTempSqlite();
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), "utf8");
const LIMIT = EVENT_PAYLOAD_LIMIT_BYTES;

/** Every `{truncated: n}` marker in a value. */
function markers(v: unknown, out: number[] = []): number[] {
  if (v === null || typeof v !== "object") return out;
  const o = v as Record<string, unknown>;
  if (!Array.isArray(v) && Object.keys(o).length === 1 && typeof o.truncated === "number") {
    out.push(o.truncated);
    return out;
  }
  for (const child of Object.values(o)) markers(child, out);
  return out;
}

describe("event payload bound", () => {
  // Step events carry no result (SPEC §4 lists their fields); a huge answer reaches an event through the
  // decision it wins: RUN_FINALIZED's final_decision with vote_on "answer".
  it("a result over 256 KiB: every payload stays within 256 KiB, the attempt and step keep the full result", async () => {
    const store = new SqliteStore({ path: tempPath(), env: {} });
    await store.migrate();
    try {
      await submitRun(store, makeSpec("big-1", { agents: ["a"], aggregation: { vote_on: "answer" } }), true);
      const leases = await claimRun(store, "big-1");
      const answer = "x".repeat(300 * 1024);
      const outcome = vote("approve", { answer, evidence: ["d1"] });
      await finishAttempt(store, leaseFor(leases, "a"), outcome);

      const events = await eventsOf(store, "big-1");
      for (const e of events) expect(bytes(e.payload)).toBeLessThanOrEqual(LIMIT);
      const completed = events.find((e) => e.event_type === "STEP_COMPLETED");
      expect(completed?.payload).toMatchObject({ run_id: "big-1", agent_id: "a", status: "SUCCEEDED" });
      const finalized = events.find((e) => e.event_type === "RUN_FINALIZED");
      expect(finalized?.payload).toMatchObject({ run_id: "big-1", status: "FINALIZED" });
      const found = markers(finalized!.payload);
      expect(found.length).toBeGreaterThan(0);
      expect(Math.max(...found)).toBeGreaterThan(300 * 1024);

      const full = { candidate_output: { decision: "approve", confidence: 0.8, answer, evidence: ["d1"] } };
      const [attempt] = await attemptsOf(store, "big-1", "a");
      expect(attempt?.result).toEqual(full);
      expect((await stepOf(store, "big-1", "a")).result).toEqual(full);
    } finally {
      await store.close();
    }
  });

  it("boundPayload: within the limit, run_id kept, untouched when small; markers only where values were", () => {
    const value = fc.oneof(
      fc.string({ maxLength: 4 }),
      fc.integer({ min: 1024, max: 200 * 1024 }).map((n) => "y".repeat(n)),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const payload = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== "run_id"),
      fc.oneof(value, fc.array(value, { maxLength: 4 }), fc.dictionary(fc.string({ maxLength: 3 }), value)),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(payload, (fields) => {
        const input: JsonObject = { run_id: "r-1", ...fields };
        const before = JSON.stringify(input);
        const out = boundPayload(input);
        expect(JSON.stringify(input)).toBe(before); // the caller's object is never changed
        expect(out.run_id).toBe("r-1");
        if (bytes(input) <= LIMIT) expect(out).toBe(input);
        else {
          expect(bytes(out)).toBeLessThanOrEqual(LIMIT);
          expect(markers(out).length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 100 },
    );
  });
});
