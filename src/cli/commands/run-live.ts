// The long-running `run` commands: worker, watch, exec, and the follower behind `events --follow`.
// Followers (src/kernel/follow.ts, shared with the HTTP API's SSE stream) read by seq/state on every NOTIFY
// nudge and at least every 250 ms (polling is the guarantee).
import { type Command, Option } from "commander";
import { type FollowRunOptions, followEvents, followRun } from "../../kernel/follow.js";
import { getRunResult, getRunView, submitRun } from "../../kernel/index.js";
import type { RunView } from "../../kernel/result.js";
import type { Store } from "../../store/port.js";
import { resolveWorkerOptions } from "../../worker/options.js";
import { withStore } from "../context.js";
import { intOption } from "../options.js";
import { globalOptions, printJson } from "../output.js";
import { countsLine, ProgressDisplay, renderProgress } from "../progress.js";
import { loadSubmittableSpec } from "../submit-spec.js";

// The worker, its executors and the logger (pino) are loaded only by the commands that run steps.
async function workerLib() {
  const [{ Worker }, { createLogger }] = await Promise.all([
    import("../../worker/worker.js"),
    import("../../util/log.js"),
  ]);
  return { Worker, createLogger };
}
const NO_WORKER_HINT_MS = 10_000;
export const EXIT_RUN_NOT_FINALIZED = 5;
export const EXIT_TIMEOUT = 124;

interface WatchReporter {
  onView: (view: RunView) => void;
  /** Resolves once the newest view is drawn. */
  flush: () => Promise<void>;
}

/**
 * Stderr progress on a terminal (the run's counts, each step's state and vote, the tally so far), and a hint
 * when nothing seems to claim the run's steps. Views arriving while one is drawn collapse into the newest.
 */
function watchReporter(store: Store): WatchReporter {
  const display = process.stderr.isTTY === true ? new ProgressDisplay(process.stderr) : null;
  const started = Date.now();
  let hinted = false;
  let latest: RunView | null = null;
  let drawing: Promise<void> = Promise.resolve();
  let busy = false;
  const drawLatest = async (): Promise<void> => {
    busy = true;
    try {
      while (latest !== null && display !== null) {
        const view: RunView = latest;
        latest = null;
        try {
          const [run, steps] = await Promise.all([store.getRun(view.run_id), store.getSteps(view.run_id)]);
          display.draw(renderProgress(view, steps, run?.spec.aggregation.vote_on ?? "decision"));
        } catch {
          display.draw([countsLine(view)]);
        }
      }
    } finally {
      busy = false;
    }
  };
  return {
    onView: (view) => {
      latest = view;
      if (display && !busy) drawing = drawLatest();
      const c = view.counts;
      const untouched = view.started_at === null && c.leased + c.succeeded + c.failed + c.retry_wait === 0;
      if (!hinted && view.status === "QUEUED" && untouched && Date.now() - started > NO_WORKER_HINT_MS) {
        hinted = true;
        process.stderr.write(
          `hint: no step has been claimed for ${NO_WORKER_HINT_MS / 1000} s; no worker seems to serve ${store.describe()}. Start one with: wattswarm run worker\n`,
        );
      }
    },
    flush: () => drawing,
  };
}

/** Prints NDJSON events from `after` on until the run is terminal and every event is printed. */
export async function printFollowedEvents(store: Store, runId: string, after: number): Promise<void> {
  for await (const e of followEvents(store, runId, { after })) process.stdout.write(`${JSON.stringify(e)}\n`);
}

function exitCodeFor(view: RunView): number {
  return view.status === "FINALIZED" ? 0 : EXIT_RUN_NOT_FINALIZED;
}

interface WorkerCliOptions {
  concurrency: number;
  startupWaitMs: number;
  workerId?: string;
  pollMs: number;
  leaseMs: number;
  heartbeatMs?: number;
  once?: boolean;
  exitWhenIdle?: boolean;
  shutdownGraceMs?: number;
}

/** SIGINT/SIGTERM stop the worker gracefully; a second signal exits at once. */
function stopOnSignals(stop: () => void): () => void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(signal === "SIGINT" ? 130 : 143);
    signalled = true;
    process.stderr.write(`${signal}: finishing in-flight steps (again to exit at once)\n`);
    stop();
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

export function registerLive(run: Command): void {
  run
    .command("worker")
    .description("claim and execute steps until SIGINT/SIGTERM")
    .option("--concurrency <n>", "steps executed at once", intOption(1, 10_000), 16)
    .option("--worker-id <id>", "name shown in attempts and events")
    .option("--poll-ms <ms>", "poll interval without NOTIFY", intOption(10), 250)
    .option("--lease-ms <ms>", "lease length L", intOption(100), 20_000)
    .option("--heartbeat-ms <ms>", "heartbeat interval H (default L/2; must be < L)", intOption(10))
    .option("--once", "claim one batch, finish it, exit")
    .option("--exit-when-idle", "exit when nothing is queued, waiting or leased")
    .option(
      "--startup-wait-ms <ms>",
      "wait this long for an unavailable store at start-up, retrying, before exiting 1",
      intOption(0, 3_600_000),
      30_000,
    )
    .addOption(
      new Option("--shutdown-grace-ms <ms>", "on SIGINT/SIGTERM, wait this long for in-flight steps (10000)")
        .argParser(intOption(0, 600_000))
        .hideHelp(),
    )
    .action(async (o: WorkerCliOptions) => {
      const options = resolveWorkerOptions({
        concurrency: o.concurrency,
        pollMs: o.pollMs,
        leaseMs: o.leaseMs,
        once: o.once === true,
        exitWhenIdle: o.exitWhenIdle === true,
        ...(o.workerId !== undefined ? { workerId: o.workerId } : {}),
        ...(o.heartbeatMs !== undefined ? { heartbeatMs: o.heartbeatMs } : {}),
        ...(o.shutdownGraceMs !== undefined ? { shutdownGraceMs: o.shutdownGraceMs } : {}),
      });
      const { Worker, createLogger } = await workerLib();
      await withStore(
        async (store) => {
          const worker = new Worker(store, options, { logger: createLogger() });
          const release = stopOnSignals(() => worker.stop());
          try {
            await worker.run();
          } finally {
            release();
          }
        },
        { waitForStoreMs: o.startupWaitMs },
      );
    });

  run
    .command("watch")
    .description(
      "follow a run until it is terminal and print its RunView (exit 0 FINALIZED, 5 FAILED/CANCELLED)",
    )
    .argument("<run_id>")
    .option("--once", "print the current view at once")
    .option("--timeout <ms>", "give up after this long (exit 124)", intOption(1))
    .action(async (runId: string, o: { once?: boolean; timeout?: number }, cmd: Command) => {
      const g = globalOptions(cmd);
      await withStore(async (store) => {
        if (o.once) {
          printJson(await getRunView(store, runId), g);
          return;
        }
        const reporter = watchReporter(store);
        const follow: FollowRunOptions = { onView: reporter.onView };
        if (o.timeout !== undefined) follow.timeoutMs = o.timeout;
        const { view, timedOut } = await followRun(store, runId, follow);
        await reporter.flush();
        printJson(view, g);
        process.exitCode = timedOut ? EXIT_TIMEOUT : exitCodeFor(view);
      });
    });

  run
    .command("exec")
    .description(
      "submit + kickoff + an in-process worker for this run until it is terminal; prints the result",
    )
    .argument("<file>", "a run-spec.json file, or - for stdin")
    .option("--concurrency <n>", "steps executed at once", intOption(1, 10_000), 16)
    .action(async (file: string, o: { concurrency: number }, cmd: Command) => {
      const g = globalOptions(cmd);
      const { Worker, createLogger } = await workerLib();
      await withStore(async (store) => {
        const spec = await loadSubmittableSpec(store, file);
        const submitted = await submitRun(store, spec, true);
        if (!submitted.created)
          process.stderr.write(`run ${spec.run_id} already exists with this spec; following it\n`);
        const worker = new Worker(
          store,
          resolveWorkerOptions({ concurrency: o.concurrency, runId: spec.run_id, pollMs: 50 }),
          { logger: createLogger({ level: process.env.WATTSWARM_LOG_LEVEL ?? "warn" }) },
        );
        const working = worker.run();
        const release = stopOnSignals(() => worker.stop());
        try {
          const reporter = watchReporter(store);
          const { view } = await followRun(store, spec.run_id, { onView: reporter.onView });
          worker.stop();
          await working;
          await reporter.flush();
          printJson(await getRunResult(store, spec.run_id), g);
          process.exitCode = exitCodeFor(view);
        } finally {
          worker.stop();
          release();
        }
      });
    });
}
