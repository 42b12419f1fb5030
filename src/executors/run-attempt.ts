// Runs one attempt under its deadline and the caller's cancel signal. This is the only place that tells a
// timeout from a cancel: executors just see one aborted signal (SPEC §8.4, DESIGN §2).
import { cutText } from "../util/text.js";
import type { ExecutionOutcome } from "../vocab.js";
import { failure } from "./failures.js";
import { checkOutputLimits } from "./output.js";
import type { AttemptContext, ExecuteRequest, Executor } from "./types.js";

export type AttemptResult = ExecutionOutcome | { cancelled: true };

type Settled = { kind: "outcome"; outcome: ExecutionOutcome } | { kind: "timeout" } | { kind: "cancel" };

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

/**
 * Resolves as soon as the executor answers, the deadline passes or the caller cancels, whichever comes
 * first; an executor that ignores its signal is left behind rather than waited for.
 */
export async function runAttempt(
  executor: Executor,
  request: ExecuteRequest,
  ctx: AttemptContext,
  cancelSignal?: AbortSignal,
): Promise<AttemptResult> {
  if (cancelSignal?.aborted) return { cancelled: true };
  const controller = new AbortController();
  let settle: (settled: Settled) => void = () => {};
  const stopped = new Promise<Settled>((resolve) => {
    settle = resolve;
  });

  const timer = setTimeout(() => {
    settle({ kind: "timeout" });
    controller.abort(new DOMException(`no result within ${ctx.timeout_ms} ms`, "TimeoutError"));
  }, ctx.timeout_ms);
  const onCancel = (): void => {
    settle({ kind: "cancel" });
    controller.abort(cancelSignal?.reason);
  };
  cancelSignal?.addEventListener("abort", onCancel, { once: true });

  let running: Promise<Settled>;
  try {
    running = executor.execute(request, ctx, controller.signal).then(
      (outcome): Settled => ({ kind: "outcome", outcome }),
      (err: unknown): Settled => ({
        kind: "outcome",
        outcome: failure("BAD_OUTPUT", true, `executor error: ${describe(err)}`),
      }),
    );
  } catch (err) {
    // A synchronous throw from a non-async execute().
    running = Promise.resolve({
      kind: "outcome",
      outcome: failure("BAD_OUTPUT", true, `executor error: ${describe(err)}`),
    });
  }

  try {
    const settled = await Promise.race([running, stopped]);
    if (settled.kind === "cancel") return { cancelled: true };
    if (settled.kind === "timeout") {
      return failure("TIMEOUT", true, `TIMEOUT: no result within ${ctx.timeout_ms} ms`);
    }
    const outcome = settled.outcome;
    // Every kind's output meets SPEC §8.4 here, whatever the executor checked itself.
    if (outcome.ok) return checkOutputLimits(outcome.response, `executor ${executor.name}`) ?? outcome;
    return { ...outcome, error: cutText(outcome.error) };
  } finally {
    clearTimeout(timer);
    cancelSignal?.removeEventListener("abort", onCancel);
  }
}
