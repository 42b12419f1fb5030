// `wattswarm spec validate <file|->` and `wattswarm spec schema`: work on specs without touching a store.

import { readFile, stat } from "node:fs/promises";
import type { Command } from "commander";
import { errorMessage, WattswarmError } from "../../errors.js";
import { invalidSpecError } from "../../kernel/admit.js";
import type { ValidationResult } from "../../spec/index.js";
import { globalOptions, printJson, printWarning } from "../output.js";

const STDIN = "-";

// The validator (zod) is loaded only by the commands that read a spec: it is the largest part of startup.
const specLib = () => import("../../spec/index.js");

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
};

function cannotRead(file: string, err: unknown): WattswarmError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code !== undefined ? REASONS[code] : undefined) ?? errorMessage(err);
  return new WattswarmError("USAGE", `cannot read ${file}: ${reason}`);
}

/** Reads stdin to the end, keeping at most limit + 1 bytes but counting all of them for the message. */
async function readStdin(): Promise<{ text: string; bytes: number }> {
  const { LIMITS } = await specLib();
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of process.stdin) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    if (bytes <= LIMITS.maxSpecBytes) chunks.push(buf);
    bytes += buf.length;
  }
  return { text: Buffer.concat(chunks).toString("utf8"), bytes };
}

/** Reads and validates a spec from a file or stdin; shared by every command that takes `<file|->`. */
export async function loadRunSpec(file: string): Promise<{ source: string; result: ValidationResult }> {
  const { LIMITS, parseRunSpecText, specTooLargeIssue } = await specLib();
  if (file === STDIN) {
    const source = "stdin";
    const { text, bytes } = await readStdin().catch((err: unknown) => {
      throw cannotRead(source, err);
    });
    if (bytes > LIMITS.maxSpecBytes)
      return { source, result: { ok: false, issues: [specTooLargeIssue(source, bytes)] } };
    return { source, result: parseRunSpecText(text, source) };
  }
  try {
    const info = await stat(file);
    if (info.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    // Checked before reading so a huge file is refused without loading it.
    if (info.size > LIMITS.maxSpecBytes) {
      return { source: file, result: { ok: false, issues: [specTooLargeIssue(file, info.size)] } };
    }
    return { source: file, result: parseRunSpecText(await readFile(file, "utf8"), file) };
  } catch (err) {
    throw cannotRead(file, err);
  }
}

export function register(program: Command): void {
  const spec = program.command("spec").description("check run specs and print their JSON Schema");

  spec
    .command("validate")
    .description("validate a run spec and print it with every default applied (exit 0 valid, 2 invalid)")
    .argument("<file>", `a run-spec.json file, or ${STDIN} to read stdin`)
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const opts = globalOptions(cmd);
      const { source, result } = await loadRunSpec(file);
      if (!result.ok) {
        // Scripts read the issues from stdout; people read them from stderr.
        printJson({ ok: false, issues: result.issues }, opts);
        throw invalidSpecError(source, result);
      }
      for (const warning of result.warnings) printWarning(warning);
      const { spec: value, warnings } = result;
      printJson({ ok: true, run_id: value.run_id, agents: value.agents.length, warnings, spec: value }, opts);
    });

  spec
    .command("schema")
    .description("print the JSON Schema (draft 2020-12) of the run spec")
    .action(async (_opts: unknown, cmd: Command) => {
      const { runSpecJsonSchema } = await specLib();
      printJson(runSpecJsonSchema(), globalOptions(cmd));
    });
}
