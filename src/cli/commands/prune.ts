// `run prune` (SPEC §7), registered into the `run` command group by run.ts.
import { type Command, InvalidArgumentError } from "commander";
import { DEFAULT_PRUNE_BATCH, parseAge, pruneRuns, pruneStatuses } from "../../kernel/prune.js";
import { withStore } from "../context.js";
import { intOption } from "../options.js";
import { globalOptions, printJson } from "../output.js";

function ageOption(value: string): number {
  try {
    return parseAge(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

interface PruneFlags {
  olderThan: number;
  status?: string[];
  dryRun?: boolean;
  batch: number;
}

export function registerRunPrune(run: Command): void {
  run
    .command("prune")
    .description(
      "delete terminal runs finished longer ago than --older-than, with their steps, attempts, events and feedback (one transaction per batch; reputation is kept)",
    )
    .requiredOption("--older-than <age>", "minimum age since finished_at: 30d, 12h or 90m", ageOption)
    .option(
      "--status <status...>",
      "only runs of these terminal statuses (default: CANCELLED FINALIZED FAILED)",
    )
    .option("--dry-run", "count what would be deleted; delete nothing")
    .option("--batch <n>", "runs per transaction", intOption(1, 100_000), DEFAULT_PRUNE_BATCH)
    .action(async (o: PruneFlags, cmd: Command) => {
      // Checked before the store is opened: a bad status must not depend on the database being up.
      const statuses = pruneStatuses(o.status);
      const out = await withStore((store) =>
        pruneRuns(store, { olderThanMs: o.olderThan, statuses, dryRun: o.dryRun === true, batch: o.batch }),
      );
      printJson(out, globalOptions(cmd));
    });
}
