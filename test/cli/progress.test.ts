// The live progress block of `run watch` / `run exec` on a terminal: counts, one line per step with its
// state and vote, and the tally so far.
import { describe, expect, it } from "vitest";
import { ProgressDisplay, renderProgress, voteOf } from "../../src/cli/progress.js";
import type { RunView } from "../../src/kernel/result.js";

const view: RunView = {
  run_id: "r1",
  status: "RUNNING",
  task_type: "swarm",
  round: 1,
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:01.000Z",
  started_at: "2026-01-01T00:00:00.500Z",
  finished_at: null,
  counts: { created: 0, queued: 1, leased: 1, succeeded: 3, failed: 0, retry_wait: 1, cancelled: 0 },
};
const step = (
  agent_id: string,
  status: string,
  result: unknown = null,
  attempt = 1,
  error_text: string | null = null,
) => ({ agent_id, status, attempt, result, error_text }) as Parameters<typeof voteOf>[0];

describe("renderProgress", () => {
  it("shows counts, each step's state and normalized vote, and the tally", () => {
    const lines = renderProgress(
      view,
      [
        step("analyst-a", "SUCCEEDED", { candidate_output: { decision: " approve " } }),
        step("b", "SUCCEEDED", { decision: "REJECT" }),
        step("analyst-c", "SUCCEEDED", { decision: "Approve", answer: "x" }),
        step("d", "LEASED"),
        step("e", "RETRY_WAIT", null, 1, "HTTP_5XX: /execute status 500"),
        step("f", "QUEUED", null, 0),
      ],
      "decision",
    );
    expect(lines).toEqual([
      "r1 RUNNING round 1: 3 succeeded, 0 failed, 1 running, 1 queued, 1 retry_wait, 0 cancelled",
      "  analyst-a  SUCCEEDED  → APPROVE",
      "  b          SUCCEEDED  → REJECT",
      "  analyst-c  SUCCEEDED  → APPROVE",
      "  d          LEASED     (attempt 1)",
      "  e          RETRY_WAIT (attempt 1: HTTP_5XX: /execute status 500)",
      "  f          QUEUED",
      "  votes on decision: APPROVE 2 · REJECT 1",
    ]);
  });

  it("reads the answer field with vote_on answer, and says when nothing voted yet", () => {
    expect(voteOf(step("a", "SUCCEEDED", { answer: "Bridge" }), "answer")).toBe("BRIDGE");
    expect(voteOf(step("a", "FAILED", { answer: "Bridge" }), "answer")).toBeNull();
    expect(renderProgress(view, [step("a", "LEASED")], "answer").at(-1)).toBe("  votes on answer: none yet");
  });
});

describe("ProgressDisplay", () => {
  it("redraws the block in place, clearing lines a taller block left behind", () => {
    let out = "";
    const write = (s: string): boolean => {
      out += s;
      return true;
    };
    const stream = { columns: 80, write } as unknown as NodeJS.WriteStream;
    const display = new ProgressDisplay(stream);
    display.draw(["one", "two", "three"]);
    expect(out).toBe("\x1b[2Kone\n\x1b[2Ktwo\n\x1b[2Kthree\n");
    out = "";
    display.draw(["four"]);
    expect(out).toBe("\x1b[3F\x1b[2Kfour\n\x1b[2K\n\x1b[2K\n\x1b[2F");
  });
});
