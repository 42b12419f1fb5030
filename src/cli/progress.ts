// The live progress block `run watch` and `run exec` draw on a terminal's stderr: the run's counts, one line
// per step (state, and its vote once it has one) and the tally so far. Rendering is pure; `ProgressDisplay`
// redraws the block in place.
import { extractOutput, normalizeBallot } from "../aggregation/normalize.js";
import type { RunView } from "../kernel/result.js";
import type { StepRecord } from "../store/run-port.js";

export function countsLine(v: RunView): string {
  const c = v.counts;
  return `${v.run_id} ${v.status} round ${v.round}: ${c.succeeded} succeeded, ${c.failed} failed, ${c.leased} running, ${c.queued + c.created} queued, ${c.retry_wait} retry_wait, ${c.cancelled} cancelled`;
}

type StepLine = Pick<StepRecord, "agent_id" | "status" | "attempt" | "result" | "error_text">;

/** The vote a SUCCEEDED step cast on `voteOn`, normalized like a ballot; null when it has none. */
export function voteOf(step: StepLine, voteOn: "decision" | "answer"): string | null {
  if (step.status !== "SUCCEEDED") return null;
  return normalizeBallot(extractOutput(step.result)?.[voteOn]);
}

export function renderProgress(
  view: RunView,
  steps: readonly StepLine[],
  voteOn: "decision" | "answer",
): string[] {
  const width = Math.max(0, ...steps.map((s) => s.agent_id.length));
  const tally = new Map<string, number>();
  const lines = [countsLine(view)];
  for (const step of steps) {
    const vote = voteOf(step, voteOn);
    if (vote !== null) tally.set(vote, (tally.get(vote) ?? 0) + 1);
    const detail =
      vote !== null
        ? `→ ${vote}`
        : step.error_text
          ? `(attempt ${step.attempt}: ${step.error_text.slice(0, 60)})`
          : step.attempt > 0
            ? `(attempt ${step.attempt})`
            : "";
    lines.push(`  ${step.agent_id.padEnd(width)}  ${step.status.padEnd(10)} ${detail}`.trimEnd());
  }
  const votes = [...tally.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([value, n]) => `${value} ${n}`);
  lines.push(`  votes on ${voteOn}: ${votes.length > 0 ? votes.join(" · ") : "none yet"}`);
  return lines;
}

/** Redraws a block of lines in place on a terminal stream. */
export class ProgressDisplay {
  private drawn = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  draw(lines: readonly string[]): void {
    // A pseudo-terminal may report no width (0): draw full lines then.
    const cols = (this.out.columns ?? 0) >= 20 ? this.out.columns : Number.POSITIVE_INFINITY;
    const up = this.drawn > 0 ? `\x1b[${this.drawn}F` : "";
    const body = lines.map((l) => `\x1b[2K${l.length > cols ? `${l.slice(0, cols - 1)}…` : l}`).join("\n");
    // Lines left over from a taller previous block are cleared.
    const extra = Math.max(0, this.drawn - lines.length);
    this.out.write(`${up}${body}\n${"\x1b[2K\n".repeat(extra)}${extra > 0 ? `\x1b[${extra}F` : ""}`);
    this.drawn = lines.length;
  }
}
