// Timers and small AbortSignal helpers. Importable from every layer: it depends on nothing. Written by hand rather than with AbortSignal.any so every listener and timer is
// removed when an attempt ends: a worker runs thousands of attempts and must not accumulate listeners on a
// long-lived cancel signal.

export interface CombinedSignal {
  signal: AbortSignal;
  /** Removes the listeners and the timer; call it once the guarded work is over. */
  dispose(): void;
}

/** A signal aborted when any input aborts, or after `timeoutMs` (when given) with a TimeoutError reason. */
export function combineSignals(
  inputs: readonly (AbortSignal | undefined)[],
  timeoutMs?: number,
): CombinedSignal {
  const controller = new AbortController();
  const cleanups: (() => void)[] = [];
  const dispose = (): void => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  const abort = (reason: unknown): void => {
    if (!controller.signal.aborted) controller.abort(reason);
    dispose();
  };
  for (const input of inputs) {
    if (!input) continue;
    if (input.aborted) {
      abort(input.reason);
      return { signal: controller.signal, dispose };
    }
    const onAbort = (): void => abort(input.reason);
    input.addEventListener("abort", onAbort, { once: true });
    cleanups.push(() => input.removeEventListener("abort", onAbort));
  }
  if (timeoutMs !== undefined) {
    const timer = setTimeout(
      () => abort(new DOMException(`no result within ${timeoutMs} ms`, "TimeoutError")),
      timeoutMs,
    );
    cleanups.push(() => clearTimeout(timer));
  }
  return { signal: controller.signal, dispose };
}

/** Resolves after `ms` (always through a timer, so even `sleep(0)` lets other work run). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves after `ms`, or early (to `false`) when the signal aborts; `true` when the full time passed. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Waits for `promise`, or resolves to `aborted` as soon as the signal aborts (the promise keeps running). */
export function raceAbort<T, A>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  aborted: A,
): Promise<T | A> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.resolve(aborted);
  }
  return new Promise<T | A>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => {});
      resolve(aborted);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}
