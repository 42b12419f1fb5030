// The worker's view of the executor registry: each name read at most once per EXECUTOR_CACHE_MS, as a live
// Executor or as the outcome of a step that cannot have one. Reading the registry can fail (the database);
// that is thrown, for the worker to handle as its own problem rather than the agent's.
import { createExecutor } from "../executors/registry.js";
import type { Executor } from "../executors/types.js";
import type { Store } from "../store/port.js";
import type { Logger } from "../util/log.js";
import type { ExecutionOutcome } from "../vocab.js";

const EXECUTOR_CACHE_MS = 5_000;

/** A step's executor, or the outcome of a step that cannot have one. */
export type Loaded = { ok: true; executor: Executor } | { ok: false; outcome: ExecutionOutcome };

function incompatible(error: string): Loaded {
  return { ok: false, outcome: { ok: false, code: "EXECUTOR_INCOMPATIBLE", retryable: false, error } };
}

export class ExecutorCache {
  private readonly entries = new Map<string, { loaded: Loaded; at: number }>();

  constructor(
    private readonly store: Pick<Store, "getExecutor">,
    private readonly log: Logger,
  ) {}

  /** Not registered or an invalid stored config: EXECUTOR_INCOMPATIBLE. Throws when the registry cannot be read. */
  async get(name: string): Promise<Loaded> {
    const cached = this.entries.get(name);
    if (cached && Date.now() - cached.at < EXECUTOR_CACHE_MS) return cached.loaded;
    const record = await this.store.getExecutor(name);
    let loaded: Loaded;
    if (!record) {
      loaded = incompatible(
        `executor "${name}" is not registered (removed after submit?); run: wattswarm executors add ${name} --url <url>`,
      );
    } else {
      try {
        const warn = (msg: string) => this.log.warn({ executor: name }, msg);
        loaded = { ok: true, executor: createExecutor(record, { warn }) };
      } catch (err) {
        loaded = incompatible(`executor "${name}": ${err}`);
      }
    }
    this.entries.set(name, { loaded, at: Date.now() });
    return loaded;
  }
}
