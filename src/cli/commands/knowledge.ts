// The knowledge store's commands (SPEC §7, §9): `run reaggregate`, `run feedback` (registered into the `run`
// group by run.ts) and `reputation list|show`.
import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { WattswarmError } from "../../errors.js";
import { listReputation, recordFeedback, showReputation } from "../../kernel/knowledge.js";
import { reaggregateRun } from "../../kernel/reaggregate.js";
import type { JsonValue } from "../../spec/types.js";
import { withStore } from "../context.js";
import { globalOptions, printJson } from "../output.js";

const MAX_POLICY_BYTES = 1024 * 1024;

/** Reads the `--policy` file: one JSON `aggregation` object (validated later, against the run's spec). */
async function readPolicy(file: string): Promise<unknown> {
  let text: string;
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw new Error("is a directory");
    if (info.size > MAX_POLICY_BYTES) throw new Error(`larger than 1 MiB (${info.size} bytes)`);
    text = await readFile(file, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
    throw new WattswarmError("USAGE", `cannot read ${file}: ${reason}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new WattswarmError("SPEC_INVALID", `${file} is not JSON: ${(err as Error).message}`);
  }
}

/** `--correct` text: a JSON object or array is taken as that value (its ballot is canonical JSON), else text. */
function correctValue(text: string): JsonValue {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed) as JsonValue;
    } catch {
      // Not JSON after all: a text ballot.
    }
  }
  return text;
}

/** Adds `reaggregate` and `feedback` to the `run` command group. */
export function registerRunKnowledge(run: Command): void {
  run
    .command("reaggregate")
    .description(
      "recompute a finished run's result from its stored attempts, under its own or another aggregation policy (writes nothing, calls no agent)",
    )
    .argument("<run_id>")
    .option("--policy <file>", "a JSON file holding an `aggregation` object (validated like a run spec's)")
    .option(
      "--live-reputation",
      "use the knowledge store's current reputation, not the units stored in the result",
    )
    .action(async (runId: string, o: { policy?: string; liveReputation?: boolean }, cmd: Command) => {
      const policy = o.policy === undefined ? undefined : await readPolicy(o.policy);
      const out = await withStore((store) =>
        reaggregateRun(store, runId, {
          ...(policy === undefined ? {} : { policy }),
          liveReputation: o.liveReputation === true,
        }),
      );
      printJson(out, globalOptions(cmd));
    });

  run
    .command("feedback")
    .description(
      "record the true outcome of a FINALIZED run; updates its voters' reputation (replaces earlier feedback)",
    )
    .argument("<run_id>")
    .requiredOption("--correct <value>", "the correct decision (normalized like a ballot)")
    .action(async (runId: string, o: { correct: string }, cmd: Command) => {
      const out = await withStore((store) => recordFeedback(store, runId, correctValue(o.correct)));
      printJson(out, globalOptions(cmd));
    });
}

export function register(program: Command): void {
  const reputation = program.command("reputation").description("the knowledge store's agent reputation");

  reputation
    .command("list")
    .description("every agent's reputation rows (per task type and overall '*'), by agent_id")
    .action(async (_o: unknown, cmd: Command) => {
      printJson(await withStore((store) => listReputation(store)), globalOptions(cmd));
    });

  reputation
    .command("show")
    .description("one agent's reputation; exit 3 when the agent has no row yet")
    .argument("<agent_id>")
    .action(async (agentId: string, _o: unknown, cmd: Command) => {
      printJson(await withStore((store) => showReputation(store, agentId)), globalOptions(cmd));
    });
}
