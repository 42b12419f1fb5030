// `wattswarm run …`: the run lifecycle commands (SPEC §7). Long-running ones (worker, watch, exec, events
// --follow) are in run-live.ts.
import type { Command } from "commander";
import {
  cancelRun,
  getRunResult,
  kickoffRun,
  listRunEvents,
  listRunViews,
  retryRun,
  submitRun,
} from "../../kernel/index.js";
import { withStore } from "../context.js";
import { intOption, runStatusOption } from "../options.js";
import { globalOptions, printJson } from "../output.js";
import { loadSubmittableSpec } from "../submit-spec.js";
import { registerRunKnowledge } from "./knowledge.js";
import { registerRunPrune } from "./prune.js";
import { registerLive } from "./run-live.js";

export function register(program: Command): void {
  const run = program.command("run").description("submit, run, watch and inspect runs");

  run
    .command("init")
    .description("create or upgrade the schema (idempotent); registers the default executors on creation")
    .action(async (_o: unknown, cmd: Command) => {
      const out = await withStore(
        async (store) => {
          const migrated = await store.migrate();
          return { ok: true, store: store.describe(), ...migrated };
        },
        { migrate: false },
      );
      printJson(out, globalOptions(cmd));
    });

  run
    .command("submit")
    .description("validate and store a run spec; --kickoff also queues its steps")
    .argument("<file>", "a run-spec.json file, or - for stdin")
    .option("--kickoff", "queue the steps at once")
    .action(async (file: string, o: { kickoff?: boolean }, cmd: Command) => {
      const out = await withStore(async (store) => {
        const spec = await loadSubmittableSpec(store, file);
        return submitRun(store, spec, o.kickoff === true);
      });
      printJson(out, globalOptions(cmd));
    });

  run
    .command("kickoff")
    .description("move a CREATED run and its steps to QUEUED")
    .argument("<run_id>")
    .action(async (runId: string, _o: unknown, cmd: Command) => {
      printJson(await withStore((store) => kickoffRun(store, runId)), globalOptions(cmd));
    });

  run
    .command("cancel")
    .description("cancel a run: every active step is cancelled at once, in-flight calls are aborted")
    .argument("<run_id>")
    .action(async (runId: string, _o: unknown, cmd: Command) => {
      printJson(await withStore((store) => cancelRun(store, runId)), globalOptions(cmd));
    });

  run
    .command("retry")
    .description("re-queue the FAILED and RETRY_WAIT steps of a run (a FAILED run goes back to QUEUED)")
    .argument("<run_id>")
    .action(async (runId: string, _o: unknown, cmd: Command) => {
      printJson(await withStore((store) => retryRun(store, runId)), globalOptions(cmd));
    });

  run
    .command("result")
    .description("the run's result: final_decision, conclusions and aggregation metadata")
    .argument("<run_id>")
    .action(async (runId: string, _o: unknown, cmd: Command) => {
      printJson(await withStore((store) => getRunResult(store, runId)), globalOptions(cmd));
    });

  run
    .command("list")
    .description("runs, newest first")
    .option("--status <status>", "only runs in this status", runStatusOption)
    .option("--limit <n>", "page size (default 50)", intOption(1, 1000), 50)
    .option("--before <run_id>", "the last run_id of the previous page")
    .action(async (o: { status?: RunStatusOpt; limit: number; before?: string }, cmd: Command) => {
      printJson(await withStore((store) => listRunViews(store, o)), globalOptions(cmd));
    });

  run
    .command("events")
    .description("the run's events by seq, ascending")
    .argument("<run_id>")
    .option("--limit <n>", "page size (default 50)", intOption(1, 10_000), 50)
    .option("--after <seq>", "only events after this seq", intOption(0))
    .option("--tail <n>", "the newest n events", intOption(1, 10_000))
    .option("--follow", "print events as NDJSON as they come; exit when the run is terminal")
    .action(async (runId: string, o: EventsOpts, cmd: Command) => {
      if (o.follow) {
        const { printFollowedEvents } = await import("./run-live.js");
        await withStore((store) => printFollowedEvents(store, runId, o.after ?? 0));
        return;
      }
      const query: { after?: number; limit: number; tail?: number } = { limit: o.limit };
      if (o.after !== undefined) query.after = o.after;
      if (o.tail !== undefined) query.tail = o.tail;
      printJson(await withStore((store) => listRunEvents(store, runId, query)), globalOptions(cmd));
    });

  registerLive(run);
  registerRunKnowledge(run);
  registerRunPrune(run);
}

type RunStatusOpt = ReturnType<typeof runStatusOption>;

interface EventsOpts {
  limit: number;
  after?: number;
  tail?: number;
  follow?: boolean;
}
