#!/usr/bin/env node
// The `wattswarm` command. Each command group lives in ./commands/<group>.ts and exports
// `register(program)`; this file only wires them up and turns outcomes into exit codes.

import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { EXIT_CODES } from "../errors.js";
import { extractStoreFlags } from "../store/config.js";
import * as executorCommands from "./commands/executors.js";
import * as knowledgeCommands from "./commands/knowledge.js";
import * as runCommands from "./commands/run.js";
import * as runtimeCommands from "./commands/runtime.js";
import * as serveCommands from "./commands/serve.js";
import * as specCommands from "./commands/spec.js";
import { setStoreFlags } from "./context.js";
import { ignoreClosedStdout, reportError } from "./output.js";

const COMMAND_GROUPS: readonly ((program: Command) => void)[] = [
  runCommands.register,
  executorCommands.register,
  specCommands.register,
  runtimeCommands.register,
  knowledgeCommands.register,
  serveCommands.register,
];

function packageVersion(): string {
  try {
    // Same relative path from src/cli (tests) and dist/cli (the installed bin).
    const pkg = createRequire(import.meta.url)("../../package.json") as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}

export function createProgram(): Command {
  const program = new Command("wattswarm")
    .description(
      "A run kernel for multi-agent work: fan one task out to many agents, aggregate, finalize once.",
    )
    .version(packageVersion(), "-V, --version", "print the version")
    .option("--json", "print JSON on one line (default: pretty on a terminal)")
    .option("--debug", "print stack traces with errors")
    .showSuggestionAfterError(true)
    // Commander must not exit or print on its own: usage errors get our format and exit code 2.
    // Both settings are inherited by the subcommands the groups create below.
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  for (const register of COMMAND_GROUPS) register(program);
  return program;
}

// Commander's messages start with "error: " and put suggestions on a second line; ours are one line.
function oneLine(message: string): string {
  return message
    .replace(/^error: /, "")
    .replace(/\s*\n\s*\(Did you mean (.*)\?\)/, " (did you mean $1?)")
    .replace(/\s*\n\s*/g, " ");
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = createProgram();
  try {
    // Store flags are accepted anywhere on the line (SPEC §7), so they are taken out before commander parses.
    const { argv: rest, flags } = extractStoreFlags(argv.slice(2));
    setStoreFlags(flags);
    await program.parseAsync([...argv.slice(0, 2), ...executorCommands.extractCommandArgv(rest)]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; help shown because a subcommand is missing is a usage error.
      if (err.exitCode === 0) return 0;
      if (err.code !== "commander.help") process.stderr.write(`error: ${oneLine(err.message)}\n`);
      return EXIT_CODES.USAGE;
    }
    const debug = program.opts<{ debug?: boolean }>().debug === true || argv.includes("--debug");
    return reportError(err, { debug });
  }
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // npm installs the bin as a symlink; compare real paths.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  ignoreClosedStdout();
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err, { debug: process.argv.includes("--debug") });
    },
  );
}
