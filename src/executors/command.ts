// The `command` executor (SPEC §8.1): one attempt = one local process, started without a shell in its own
// process group. The ExecuteRequest goes to stdin, the answer comes from stdout, and the whole group is killed
// at the deadline or on cancel, so an agent's own children cannot outlive the attempt.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { JsonObject, JsonValue } from "../spec/types.js";
import { combineSignals } from "../util/signals.js";
import { ERROR_TEXT_LIMIT_BYTES } from "../util/text.js";
import type { ExecutionOutcome } from "../vocab.js";
import { commonConfigProblems, ENV_VAR_NAME } from "./config-checks.js";
import { failure } from "./failures.js";
import { checkOutputLimits, OUTPUT_LIMIT_BYTES, outputTooLarge, parseJsonObject } from "./output.js";
import type { AttemptContext, ExecuteRequest, Executor, ExecutorCheck } from "./types.js";

export interface CommandExecutorConfig {
  /** The program and its arguments; argv[0] is looked up on PATH, never run through a shell. */
  argv: string[];
  /** `NAME` (copied from the worker's environment at call time) or `K=V` (stored as given). */
  env?: string[];
  /** Optional cap on each attempt, on top of the agent's own timeout_ms. */
  timeout_ms?: number;
}

/** The only worker variables a child sees without `--env`. */
export const BASE_ENV = ["PATH", "HOME", "LANG", "TZ"] as const;
/** A failure the program reports as "do not retry" (BSD sysexits EX_DATAERR). */
export const EXIT_NO_RETRY = 65;
/** Half the stored-error budget: the message around the tail stays within 8 KiB. */
export const STDERR_TAIL_BYTES = ERROR_TEXT_LIMIT_BYTES / 2;

const COMMAND_KEYS = ["argv", "env", "timeout_ms"] as const;

export function validateCommandConfig(config: JsonObject): string[] {
  const problems = commonConfigProblems(config, COMMAND_KEYS);
  const argv = config.argv;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) {
    problems.push("argv: required, a non-empty array of strings (the program and its arguments)");
  } else if (argv[0] === "") {
    problems.push("argv[0]: the program must not be empty");
  } else if (argv.some((a) => (a as string).includes("\0"))) {
    problems.push("argv: arguments must not contain NUL");
  }
  if (config.env !== undefined) {
    if (!Array.isArray(config.env)) problems.push("env: must be an array of NAME or K=V strings");
    else
      for (const entry of config.env) {
        const name = typeof entry === "string" ? entry.split("=", 1)[0] : undefined;
        if (name === undefined || !ENV_VAR_NAME.test(name) || (entry as string).includes("\0")) {
          problems.push(`env: ${JSON.stringify(entry)} must be NAME or NAME=value (NAME like MY_VAR)`);
        }
      }
  }
  return problems;
}

/** The child's whole environment: the base variables, then `--env` entries in order (later ones win). */
export function commandEnv(
  entries: readonly string[] = [],
  worker: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of BASE_ENV) {
    const value = worker[name];
    if (value !== undefined) env[name] = value;
  }
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    else if (worker[entry] !== undefined) env[entry] = worker[entry] as string;
  }
  return env;
}

/** Keeps the last `limit` bytes of a stream. */
class Tail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit)
      this.size -= this.chunks.shift()?.length ?? 0;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    const cut = all.length > this.limit;
    let start = cut ? all.length - this.limit : 0;
    // Do not start inside a UTF-8 character.
    while (start < all.length && ((all[start] ?? 0) & 0xc0) === 0x80) start++;
    return (cut ? "…" : "") + all.subarray(start).toString("utf8").trim();
  }
}

/** Whether `program` resolves the way spawn will resolve it: a path as is, a bare name through PATH. */
export function findProgram(program: string, path: string | undefined): boolean {
  const candidates = program.includes("/")
    ? [program]
    : (path ?? "")
        .split(delimiter)
        .filter((dir) => dir !== "")
        .map((dir) => join(dir, program));
  return candidates.some((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone (ESRCH), which is what we wanted.
  }
}

type Ended =
  | { kind: "exit"; code: number | null; signal: NodeJS.Signals | null }
  | { kind: "spawn-error"; error: Error }
  | { kind: "too-large" }
  | { kind: "aborted" };

export class CommandExecutor implements Executor {
  readonly kind = "command" as const;
  private readonly label: string;

  constructor(
    readonly name: string,
    private readonly config: CommandExecutorConfig,
  ) {
    this.label = config.argv.join(" ");
  }

  async execute(
    request: ExecuteRequest,
    _ctx: AttemptContext,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    const call = combineSignals([signal], this.config.timeout_ms);
    try {
      return await this.run(request, call.signal, signal);
    } finally {
      call.dispose();
    }
  }

  private run(
    request: ExecuteRequest,
    signal: AbortSignal,
    callerSignal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    if (signal.aborted) return Promise.resolve(failure("TIMEOUT", true, "aborted"));
    const [program, ...args] = this.config.argv as [string, ...string[]];
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    const stderr = new Tail(STDERR_TAIL_BYTES);

    return new Promise<ExecutionOutcome>((resolve) => {
      const child = spawn(program, args, {
        detached: true,
        shell: false,
        stdio: ["pipe", "pipe", "pipe"],
        env: commandEnv(this.config.env),
        windowsHide: true,
      });
      let ended: Ended | null = null;
      const end = (why: Ended): void => {
        if (ended) return;
        ended = why;
        // Whatever ended the attempt, nothing the program started may keep running.
        if (why.kind !== "spawn-error") killGroup(child.pid);
      };
      const onAbort = (): void => end({ kind: "aborted" });
      signal.addEventListener("abort", onAbort, { once: true });

      child.stdout.on("data", (chunk: Buffer) => {
        // Output still in the pipe after the exit is part of the answer; after a kill it is not.
        if (ended && ended.kind !== "exit") return;
        stdoutBytes += chunk.length;
        if (stdoutBytes > OUTPUT_LIMIT_BYTES) end({ kind: "too-large" });
        else stdout.push(chunk);
      });
      child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      child.on("error", (error) => end({ kind: "spawn-error", error }));
      child.on("exit", (code, sig) => end({ kind: "exit", code, signal: sig }));
      child.on("close", () => {
        signal.removeEventListener("abort", onAbort);
        resolve(
          this.outcome(ended ?? { kind: "aborted" }, Buffer.concat(stdout), stderr.text(), callerSignal),
        );
      });
      // A program that exits without reading its stdin makes this write fail with EPIPE: not our error.
      child.stdin.on("error", () => {});
      child.stdin.end(JSON.stringify(request));
    });
  }

  private outcome(
    ended: Ended,
    stdout: Buffer,
    stderrTail: string,
    callerSignal: AbortSignal,
  ): ExecutionOutcome {
    const source = `command ${this.label}`;
    const withStderr = (message: string): string =>
      stderrTail === "" ? message : `${message}; stderr: ${stderrTail}`;
    switch (ended.kind) {
      case "aborted":
        return callerSignal.aborted
          ? failure("TIMEOUT", true, "aborted")
          : failure(
              "TIMEOUT",
              true,
              withStderr(
                `TIMEOUT: no result within ${this.config.timeout_ms} ms (executor timeout_ms, ${source})`,
              ),
            );
      case "too-large":
        return outputTooLarge(null, `stdout of ${source}`);
      case "spawn-error":
        return failure(
          "EXECUTOR_INCOMPATIBLE",
          false,
          `cannot start ${source}: ${ended.error.message} (is ${this.config.argv[0]} on the worker's PATH?)`,
        );
      case "exit":
        return this.exitOutcome(ended, stdout, source, withStderr);
    }
  }

  private exitOutcome(
    ended: Extract<Ended, { kind: "exit" }>,
    stdout: Buffer,
    source: string,
    withStderr: (message: string) => string,
  ): ExecutionOutcome {
    if (ended.code !== 0) {
      const how = ended.code === null ? `was killed by ${ended.signal}` : `exited with code ${ended.code}`;
      const retryable = ended.code !== EXIT_NO_RETRY;
      const details: JsonValue = { exit_code: ended.code, signal: ended.signal };
      return failure("EXIT_CODE", retryable, withStderr(`EXIT_CODE: ${source} ${how}`), { details });
    }
    const text = stdout.toString("utf8").trim();
    if (text === "") return failure("BAD_OUTPUT", true, withStderr(`no output on stdout (${source})`));
    const parsed = parseJsonObject(text, `stdout of ${source}`);
    if (!parsed.ok) return failure("BAD_OUTPUT", true, withStderr(parsed.failure.error));
    return checkOutputLimits(parsed.value, source) ?? { ok: true, response: parsed.value };
  }

  async check(): Promise<ExecutorCheck> {
    const problems = validateCommandConfig(this.config as unknown as JsonObject);
    const program = this.config.argv[0];
    const path = commandEnv(this.config.env).PATH;
    if (problems.length === 0 && program !== undefined && !findProgram(program, path)) {
      problems.push(`program ${program} not found or not executable (PATH of the child: ${path ?? "unset"})`);
    }
    const capabilities = {
      task_types: ["*"],
      profiles: ["*"],
      provider_family: "command",
      model_id: this.label,
    };
    if (problems.length > 0) {
      return { ok: false, health: "invalid config", capabilities, error: problems.join("; ") };
    }
    return { ok: true, health: "ok", capabilities };
  }
}
