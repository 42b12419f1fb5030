// `wattswarm executors add|list|check|remove` (SPEC §7, §8). The registry stores env-var names, never secrets.
import { type Command, Option } from "commander";
import { WattswarmError } from "../../errors.js";
import { createExecutor, validateExecutorConfig } from "../../executors/registry.js";
import type { JsonObject } from "../../spec/types.js";
import type { ExecutorKind } from "../../store/types.js";
import { withStore } from "../context.js";
import { intOption, numberOption } from "../options.js";
import { globalOptions, printJson } from "../output.js";

const NAME = /^[A-Za-z0-9._:-]{1,128}$/;

interface AddOptions {
  url?: string;
  sim?: boolean;
  openai?: boolean;
  command?: string[];
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

function kindAndConfig(
  positionalUrl: string | undefined,
  o: AddOptions,
): { kind: ExecutorKind; config: JsonObject } {
  if (o.openai || o.command) {
    throw new WattswarmError(
      "USAGE",
      `${o.openai ? "--openai" : "--command"} executors are not available in this version yet; use --url or --sim`,
    );
  }
  const url = o.url ?? positionalUrl;
  if (o.url !== undefined && positionalUrl !== undefined && o.url !== positionalUrl) {
    throw new WattswarmError("USAGE", "give the URL once: either as the second argument or with --url");
  }
  if (o.sim && url !== undefined) throw new WattswarmError("USAGE", "use either --url or --sim, not both");
  if (o.sim) return { kind: "sim", config: simConfig(o) };
  if (url === undefined) throw new WattswarmError("USAGE", "say what the executor is: --url <url> or --sim");
  return { kind: "http", config: httpConfig(url, o) };
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
    .addOption(new Option("--openai", "an OpenAI-compatible model (not available yet)").hideHelp())
    .addOption(new Option("--command <argv...>", "a local program (not available yet)").hideHelp())
    .option("--verify", "call /verify after /execute")
    .option("--timeout-ms <ms>", "cap on any attempt's timeout for this executor", intOption(1000, 3_600_000))
    .option("--header <K=V>", "extra request header (repeatable)", collect, [])
    .option("--bearer-env <VAR>", "send Authorization: Bearer $VAR")
    .option("--accuracy <p>", "sim: probability of answering the truth", numberOption(0, 1))
    .option("--truth <value>", "sim: the correct option")
    .option("--options <a,b,…>", "sim: the options it chooses from")
    .option("--latency-ms <ms>", "sim: simulated latency", intOption(0, 3_600_000))
    .option("--fail-rate <p>", "sim: probability of a simulated (retryable) failure", numberOption(0, 1))
    .option("--confidence <c>", "sim: reported confidence (default: accuracy)", numberOption(0, 1))
    .option("--evidence", "sim: return one evidence digest per attempt")
    .option("--seed <s>", "sim: salt for its draws")
    .action(async (name: string, url: string | undefined, o: AddOptions, cmd: Command) => {
      if (!NAME.test(name))
        throw new WattswarmError("USAGE", `executor name "${name}": 1–128 chars of [A-Za-z0-9._:-]`);
      const { kind, config } = kindAndConfig(url, o);
      const problems = validateExecutorConfig(kind, config);
      if (problems.length > 0)
        throw new WattswarmError("USAGE", `executor "${name}": ${problems.join("; ")}`);
      printJson(await withStore((store) => store.upsertExecutor({ name, kind, config })), globalOptions(cmd));
    });

  executors
    .command("list")
    .description("registered executors")
    .action(async (_o: unknown, cmd: Command) => {
      printJson(await withStore((store) => store.listExecutors()), globalOptions(cmd));
    });

  executors
    .command("check")
    .description("probe an executor's health and capabilities (exit 1 when unhealthy)")
    .argument("<name>")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const out = await withStore(async (store) => {
        const record = await store.getExecutor(name);
        if (!record) throw new WattswarmError("EXECUTOR_NOT_FOUND", `executor "${name}" is not registered`);
        const check = await createExecutor(record).check(AbortSignal.timeout(10_000));
        return { name, kind: record.kind, ...check };
      });
      printJson(out, globalOptions(cmd));
      if (!out.ok) process.exitCode = 1;
    });

  executors
    .command("remove")
    .description("remove an executor (a removed default stays removed)")
    .argument("<name>")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const removed = await withStore((store) => store.removeExecutor(name));
      if (!removed) throw new WattswarmError("EXECUTOR_NOT_FOUND", `executor "${name}" is not registered`);
      printJson({ ok: true, name, removed: true }, globalOptions(cmd));
    });
}
