// `wattswarm executors add|list|check|remove` (SPEC §7, §8). The registry stores env-var names, never secrets.
// main.ts calls extractCommandArgv before parsing, so a command executor's own argv never reaches commander.
import type { Command } from "commander";
import { isWattswarmError, WattswarmError } from "../../errors.js";
import {
  admitExecutor,
  assertExecutorName,
  checkExecutor,
  listExecutors,
  OPERATOR_EXECUTOR_POLICY,
  registerExecutor,
  removeExecutor,
} from "../../kernel/executor-admin.js";
import type { JsonObject } from "../../spec/types.js";
import type { ExecutorInput } from "../../store/types.js";
import type { ExecutorKind } from "../../vocab.js";
import { withStore } from "../context.js";
import { intOption, numberOption } from "../options.js";
import { globalOptions, printJson } from "../output.js";

interface AddOptions {
  url?: string;
  sim?: boolean;
  openai?: boolean;
  command?: boolean;
  env: string[];
  model?: string;
  baseUrl?: string;
  apiKeyEnv?: string;
  temperature?: number;
  verify?: boolean;
  timeoutMs?: number;
  header: string[];
  bearerEnv?: string;
  accuracy?: number;
  truth?: string;
  options?: string;
  latencyMs?: number;
  failRate?: number;
  confidence?: number;
  evidence?: boolean;
  seed?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

let commandArgv: string[] | null = null;

/**
 * Takes the program's argv after `--command` out of the command line before commander parses it (SPEC §7:
 * options come before `--command`, everything after it is argv), so `--command node agent.mjs --json` passes
 * `--json` to the agent instead of reading it as ours. `--command` itself stays, as a flag.
 */
export function extractCommandArgv(argv: readonly string[]): string[] {
  const at = argv.findIndex((token) => token === "--" || token === "--command");
  commandArgv = at >= 0 && argv[at] === "--command" ? argv.slice(at + 1) : null;
  return commandArgv === null ? [...argv] : argv.slice(0, at + 1);
}

/** Flags that only mean something for one kind, to refuse them elsewhere rather than ignore them. */
const KIND_FLAGS: Record<ExecutorKind, (keyof AddOptions)[]> = {
  http: ["verify", "bearerEnv"],
  command: ["env"],
  openai: ["model", "baseUrl", "apiKeyEnv", "temperature"],
  sim: ["accuracy", "truth", "options", "latencyMs", "failRate", "confidence", "evidence", "seed"],
};

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function refuseForeignFlags(kind: ExecutorKind, o: AddOptions): void {
  for (const [owner, keys] of Object.entries(KIND_FLAGS)) {
    if (owner === kind) continue;
    for (const key of keys) {
      const value = o[key];
      if (value === undefined || (Array.isArray(value) && value.length === 0)) continue;
      throw new WattswarmError("USAGE", `${flagName(key)} applies only to ${owner} executors, not ${kind}`);
    }
  }
  if (kind !== "http" && o.header.length > 0) {
    throw new WattswarmError("USAGE", `--header applies only to http executors, not ${kind}`);
  }
}

function commandConfig(o: AddOptions): JsonObject {
  if (!commandArgv || commandArgv.length === 0) {
    throw new WattswarmError("USAGE", "--command needs the program to run, e.g. --command node agent.mjs");
  }
  const config: JsonObject = { argv: commandArgv };
  if (o.env.length > 0) config.env = o.env;
  if (o.timeoutMs !== undefined) config.timeout_ms = o.timeoutMs;
  return config;
}

function openaiConfig(o: AddOptions): JsonObject {
  if (o.model === undefined) throw new WattswarmError("USAGE", "--openai needs --model <name>");
  const config: JsonObject = { model: o.model };
  if (o.baseUrl !== undefined) config.base_url = o.baseUrl;
  if (o.apiKeyEnv !== undefined) config.api_key_env = o.apiKeyEnv;
  if (o.temperature !== undefined) config.temperature = o.temperature;
  if (o.timeoutMs !== undefined) config.timeout_ms = o.timeoutMs;
  return config;
}

function httpConfig(url: string, o: AddOptions): JsonObject {
  const config: JsonObject = { url };
  if (o.verify) config.verify = true;
  if (o.timeoutMs !== undefined) config.timeout_ms = o.timeoutMs;
  if (o.bearerEnv !== undefined) config.bearer_env = o.bearerEnv;
  if (o.header.length > 0) {
    const headers: JsonObject = {};
    for (const h of o.header) {
      const eq = h.indexOf("=");
      if (eq <= 0) throw new WattswarmError("USAGE", `--header expects K=V, got "${h}"`);
      headers[h.slice(0, eq)] = h.slice(eq + 1);
    }
    config.headers = headers;
  }
  return config;
}

function simConfig(o: AddOptions): JsonObject {
  const config: JsonObject = {};
  if (o.accuracy !== undefined) config.accuracy = o.accuracy;
  if (o.truth !== undefined) config.truth = o.truth;
  if (o.options !== undefined)
    config.options = o.options
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
  if (o.latencyMs !== undefined) config.latency_ms = o.latencyMs;
  if (o.failRate !== undefined) config.fail_rate = o.failRate;
  if (o.confidence !== undefined) config.confidence = o.confidence;
  if (o.evidence) config.evidence = true;
  if (o.seed !== undefined) config.seed = o.seed;
  return config;
}

function kindOf(url: string | undefined, o: AddOptions): ExecutorKind {
  const chosen: [ExecutorKind, string][] = [];
  if (url !== undefined) chosen.push(["http", "--url"]);
  if (o.sim) chosen.push(["sim", "--sim"]);
  if (o.openai) chosen.push(["openai", "--openai"]);
  if (o.command) chosen.push(["command", "--command"]);
  const [first, second] = chosen;
  if (second) throw new WattswarmError("USAGE", `use one of ${first?.[1]} or ${second[1]}, not both`);
  if (!first) {
    throw new WattswarmError(
      "USAGE",
      "say what the executor is: --url <url>, --sim, --openai --model <m> or --command <program> [args…]",
    );
  }
  return first[0];
}

function kindAndConfig(
  positionalUrl: string | undefined,
  o: AddOptions,
): { kind: ExecutorKind; config: JsonObject } {
  const url = o.url ?? positionalUrl;
  if (o.url !== undefined && positionalUrl !== undefined && o.url !== positionalUrl) {
    throw new WattswarmError("USAGE", "give the URL once: either as the second argument or with --url");
  }
  const kind = kindOf(url, o);
  refuseForeignFlags(kind, o);
  if (kind === "sim") {
    if (o.timeoutMs !== undefined) throw new WattswarmError("USAGE", "--timeout-ms does not apply to sim");
    return { kind, config: simConfig(o) };
  }
  if (kind === "command") return { kind, config: commandConfig(o) };
  if (kind === "openai") return { kind, config: openaiConfig(o) };
  return { kind, config: httpConfig(url as string, o) };
}

/** The message of a refused config already names every problem: `executors add` prints it alone, on one line. */
function oneLine(err: unknown): unknown {
  return isWattswarmError(err) && err.details !== undefined ? new WattswarmError(err.code, err.message) : err;
}

export function register(program: Command): void {
  const executors = program.command("executors").description("the registry of executors that steps run on");

  executors
    .command("add")
    .description("register or replace an executor")
    .argument("<name>", "the name agents use in their `executor` field")
    .argument("[url]", "the runtime URL (same as --url)")
    .option("--url <url>", "an HTTP executor runtime (SPEC §8.2)")
    .option("--sim", "the built-in simulated agent")
    .option("--openai", "an OpenAI-compatible /chat/completions model (needs --model)")
    .option(
      "--command",
      "a local program, no shell: everything after --command is its argv, so put options before it",
    )
    .option("--verify", "http: call /verify after /execute")
    .option("--timeout-ms <ms>", "cap on any attempt's timeout for this executor", intOption(1000, 3_600_000))
    .option("--header <K=V>", "http: extra request header (repeatable)", collect, [])
    .option("--bearer-env <VAR>", "http: send Authorization: Bearer $VAR")
    .option("--env <NAME|K=V>", "command: pass NAME from the worker, or set K=V (repeatable)", collect, [])
    .option("--model <name>", "openai: the model")
    .option("--base-url <url>", "openai: server base URL (default https://api.openai.com/v1)")
    .option("--api-key-env <VAR>", "openai: env var holding the API key (default OPENAI_API_KEY)")
    .option("--temperature <t>", "openai: sampling temperature", numberOption(0, 2))
    .option("--accuracy <p>", "sim: probability of answering the truth", numberOption(0, 1))
    .option("--truth <value>", "sim: the correct option")
    .option("--options <a,b,…>", "sim: the options it chooses from")
    .option("--latency-ms <ms>", "sim: simulated latency", intOption(0, 3_600_000))
    .option("--fail-rate <p>", "sim: probability of a simulated (retryable) failure", numberOption(0, 1))
    .option("--confidence <c>", "sim: reported confidence (default: accuracy)", numberOption(0, 1))
    .option("--evidence", "sim: return one evidence digest per attempt")
    .option("--seed <s>", "sim: salt for its draws")
    .action(async (name: string, url: string | undefined, o: AddOptions, cmd: Command) => {
      assertExecutorName(name); // before the flags, as always
      const { kind, config } = kindAndConfig(url, o);
      let entry: ExecutorInput;
      try {
        entry = admitExecutor({ name, kind, config }, OPERATOR_EXECUTOR_POLICY); // before the store opens
      } catch (err) {
        throw oneLine(err);
      }
      const { record } = await withStore((store) => registerExecutor(store, entry, OPERATOR_EXECUTOR_POLICY));
      printJson(record, globalOptions(cmd));
    });

  executors
    .command("list")
    .description("registered executors")
    .action(async (_o: unknown, cmd: Command) => {
      printJson(await withStore(listExecutors), globalOptions(cmd));
    });

  executors
    .command("check")
    .description("probe an executor's health and capabilities (exit 1 when unhealthy)")
    .argument("<name>")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const out = await withStore((store) => checkExecutor(store, name, OPERATOR_EXECUTOR_POLICY));
      printJson(out, globalOptions(cmd));
      if (!out.ok) process.exitCode = 1;
    });

  executors
    .command("remove")
    .description("remove an executor (a removed default stays removed)")
    .argument("<name>")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      printJson(await withStore((store) => removeExecutor(store, name)), globalOptions(cmd));
    });
}
