// How every command talks to the terminal (SPEC §7): stdout carries JSON only, stderr carries messages, and
// an error becomes `error: <message>` plus an exit code, never a stack trace unless --debug is given.

import type { Command } from "commander";
import { EXIT_CODES, errorMessage, isWattswarmError } from "../errors.js";

/** Options every command accepts, declared on the program. Groups may add their own next to these. */
export interface GlobalOptions {
  json?: boolean;
  debug?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** Pretty on a terminal, one line when piped (so `jq` and line-based tools get one document per line). */
export function printJson(value: unknown, opts: GlobalOptions = {}): void {
  const pretty = process.stdout.isTTY === true && opts.json !== true;
  process.stdout.write(`${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`);
}

export function printWarning(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** Writes the error to stderr and returns the exit code it maps to. */
export function reportError(err: unknown, opts: GlobalOptions = {}): number {
  const lines: string[] = [];
  let code = EXIT_CODES.INTERNAL;
  if (isWattswarmError(err)) {
    code = EXIT_CODES[err.code];
    lines.push(`error: ${err.message}`);
    // Same format as the spec module's formatIssue, without loading the validator for an error message.
    for (const issue of err.details ?? [])
      lines.push(`  - ${issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`}`);
  } else {
    const message = errorMessage(err);
    lines.push(`error: ${message.split("\n")[0] ?? message}`);
  }
  if (opts.debug === true && err instanceof Error && err.stack) lines.push(err.stack);
  process.stderr.write(`${lines.join("\n")}\n`);
  return code;
}

// A reader that stops early (`wattswarm spec schema | head -1`) closes the pipe; that is not an error.
// Any other write failure still gets one line instead of an uncaught-exception stack trace.
export function ignoreClosedStdout(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    process.stderr.write(`error: cannot write to stdout: ${err.message}\n`);
    process.exit(EXIT_CODES.INTERNAL);
  });
}
