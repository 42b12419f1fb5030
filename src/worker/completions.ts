// Group commit of a worker's completions. Results that arrive while a commit is in flight wait for it and then
// go together in the next one: one transaction for many completions when the worker is busy, and no added
// delay when it is not (a lone completion commits at once).
import { isDbUnavailable } from "../errors.js";
import type { Completion, FinishOutcome } from "../kernel/attempts.js";

/** Commits completions in one transaction; results in the order given. */
export type CommitCompletions = (completions: readonly Completion[]) => Promise<FinishOutcome[]>;

interface Pending {
  completion: Completion;
  resolve: (outcome: FinishOutcome) => void;
  reject: (err: unknown) => void;
}

export class CompletionBatcher {
  private queue: Pending[] = [];
  private committing = false;

  constructor(
    private readonly commit: CommitCompletions,
    /** At most this many completions per transaction (at least 1). */
    private readonly maxBatch = 256,
  ) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1)
      throw new RangeError(`maxBatch must be ≥ 1, got ${maxBatch}`);
  }

  /** Resolves when the completion's transaction committed (or rejects with its error). */
  submit(completion: Completion): Promise<FinishOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ completion, resolve, reject });
      if (!this.committing) void this.pump();
    });
  }

  private async pump(): Promise<void> {
    this.committing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        try {
          const outcomes = await this.commit(batch.map((p) => p.completion));
          batch.forEach((p, i) => {
            p.resolve(outcomes[i] as FinishOutcome);
          });
        } catch (err) {
          if (batch.length === 1 || isDbUnavailable(err)) {
            for (const p of batch) p.reject(err);
            continue;
          }
          // One completion that cannot be written must not hold back the others: commit them one by one.
          for (const p of batch) {
            try {
              p.resolve((await this.commit([p.completion]))[0] as FinishOutcome);
            } catch (single) {
              p.reject(single);
            }
          }
        }
      }
    } finally {
      this.committing = false;
    }
  }
}
