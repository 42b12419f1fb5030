// `wattswarm runtime [--port 8787] [--host 127.0.0.1] [--handler <module>] [--token T] [--allowed-host H]…`
// (SPEC §7, §8.2): the reference executor runtime. The agent is the handler module, else an OpenAI-compatible
// model named by the environment, else the simulated agent, labelled as such in /capabilities.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Command, InvalidArgumentError } from "commander";
import { WattswarmError } from "../../errors.js";
import { OpenAIExecutor, type OpenAIExecutorConfig } from "../../executors/openai.js";
import { SIM_CAPABILITIES, SimExecutor } from "../../executors/sim.js";
import type { ExecuteRequest, Executor } from "../../executors/types.js";
import { createRuntime, DEFAULT_RUNTIME_PORT } from "../../runtime/server.js";
import {
  type Capabilities,
  type RuntimeContext,
  RuntimeError,
  type RuntimeHandler,
} from "../../runtime/types.js";
import { hostHeaderName, isLoopbackHost } from "../../util/http-guard.js";
import type { ExecutionOutcome } from "../../vocab.js";
import { intOption } from "../options.js";

interface RuntimeOptions {
  port: number;
  host: string;
  handler?: string;
  token?: string;
  allowedHost: string[];
}

/** How long in-flight requests may finish after SIGINT/SIGTERM. */
const SHUTDOWN_GRACE_MS = 10_000;

async function loadHandler(spec: string): Promise<RuntimeHandler> {
  const url = pathToFileURL(resolve(spec)).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new WattswarmError("USAGE", `--handler ${spec}: cannot load the module: ${(err as Error).message}`);
  }
  // `export function execute`, `export default {execute}` or `export default async function`.
  const fallback = mod.default;
  const source = (typeof mod.execute === "function" ? mod : fallback) as Partial<RuntimeHandler> | undefined;
  if (typeof fallback === "function" && typeof mod.execute !== "function") {
    return { execute: fallback as RuntimeHandler["execute"] };
  }
  if (!source || typeof source.execute !== "function") {
    throw new WattswarmError("USAGE", `--handler ${spec}: the module exports no execute(request) function`);
  }
  const handler: RuntimeHandler = { execute: source.execute.bind(source) };
  if (typeof source.verify === "function") handler.verify = source.verify.bind(source);
  if (source.capabilities && typeof source.capabilities === "object")
    handler.capabilities = source.capabilities;
  return handler;
}

/** An OpenAI-compatible model when both a base URL and a model are set (WATTSWARM_LLM_* first), else null. */
export function llmConfigFromEnv(env: NodeJS.ProcessEnv): OpenAIExecutorConfig | null {
  for (const [baseVar, modelVar, keyVar] of [
    ["WATTSWARM_LLM_BASE_URL", "WATTSWARM_LLM_MODEL", "WATTSWARM_LLM_API_KEY"],
    ["OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_API_KEY"],
  ] as const) {
    const base = env[baseVar]?.trim();
    const model = env[modelVar]?.trim();
    if (!base || !model) continue;
    const config: OpenAIExecutorConfig = { model, base_url: base };
    // Named only when set: a local server (Ollama, llama.cpp) needs no key.
    if (env[keyVar]) config.api_key_env = keyVar;
    return config;
  }
  return null;
}

function statusFor(outcome: Extract<ExecutionOutcome, { ok: false }>): number {
  if (outcome.code === "TIMEOUT") return 504;
  if (outcome.code === "HTTP_4XX" && outcome.retryable) return 429;
  return outcome.retryable ? 503 : 422;
}

/** Serves a built-in executor through the runtime: its failures become statuses the http executor classifies alike. */
export function executorHandler(executor: Executor, capabilities: Partial<Capabilities>): RuntimeHandler {
  return {
    capabilities,
    async execute(request: ExecuteRequest, ctx: RuntimeContext) {
      const agentId = typeof request.inputs.agent_id === "string" ? request.inputs.agent_id : "";
      const timeout = request.task_contract?.budget?.time_ms ?? 120_000;
      // task_id names run, agent, round and attempt, so it keys the simulated draws of one attempt.
      const outcome = await executor.execute(
        request,
        {
          run_id: request.task_id,
          step_id: request.task_id,
          agent_id: agentId,
          round: 0,
          attempt: 1,
          attempt_seq: 0,
          timeout_ms: timeout,
          deadline_ms: ctx.deadline_ms ?? Date.now() + timeout,
        },
        ctx.signal,
      );
      if (outcome.ok) return outcome.response;
      const options: { status: number; retryAfterMs?: number } = { status: statusFor(outcome) };
      if (outcome.retry_after_ms !== undefined) options.retryAfterMs = outcome.retry_after_ms;
      throw new RuntimeError(outcome.error, options);
    },
  };
}

export async function runtimeHandler(
  handlerPath: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ handler: RuntimeHandler; label: string }> {
  if (handlerPath !== undefined)
    return { handler: await loadHandler(handlerPath), label: `handler ${handlerPath}` };
  const llm = llmConfigFromEnv(env);
  if (llm) {
    const capabilities = { provider_family: "openai-compatible", model_id: llm.model, simulated: false };
    return {
      handler: executorHandler(new OpenAIExecutor("runtime", llm), capabilities),
      label: `model ${llm.model} at ${llm.base_url}`,
    };
  }
  return {
    handler: executorHandler(new SimExecutor("runtime"), { ...SIM_CAPABILITIES, simulated: true }),
    label:
      "SIMULATED agent (no --handler and no WATTSWARM_LLM_BASE_URL+WATTSWARM_LLM_MODEL or OPENAI_BASE_URL+OPENAI_MODEL)",
  };
}

/** `--allowed-host`: a bare name or IP (IPv6 with or without brackets), no port; repeatable. */
function collectHost(value: string, previous: string[]): string[] {
  const name = value
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  if (hostHeaderName(name.includes(":") ? `[${name}]` : name) !== name) {
    throw new InvalidArgumentError("expected a host name or IP address without a port");
  }
  return [...previous, name];
}

export function register(program: Command): void {
  program
    .command("runtime")
    .description(
      "serve the executor runtime protocol (/health, /capabilities, /execute, /verify) until SIGINT",
    )
    .option(
      "--port <port>",
      "port to listen on (0 = any free port)",
      intOption(0, 65_535),
      DEFAULT_RUNTIME_PORT,
    )
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--handler <module>", "a JS module exporting execute(request) (and optionally verify)")
    .option(
      "--token <token>",
      "require Authorization: Bearer <token> except on GET /health (default: $WATTSWARM_RUNTIME_TOKEN, preferred: argv shows in ps)",
    )
    .option(
      "--allowed-host <name>",
      "a Host name served besides loopback names (repeatable; DNS rebinding guard)",
      collectHost,
      [],
    )
    .action(async (o: RuntimeOptions) => {
      const { handler, label } = await runtimeHandler(o.handler, process.env);
      const token = o.token ?? process.env.WATTSWARM_RUNTIME_TOKEN ?? "";
      const runtime = createRuntime(handler, { token, allowedHosts: o.allowedHost });
      let url: string;
      try {
        url = await runtime.listen(o.port, o.host);
      } catch (err) {
        throw new WattswarmError(
          "INTERNAL",
          `cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`,
        );
      }
      const auth = token === "" ? "no token" : "bearer token required";
      process.stderr.write(`runtime: listening on ${url} (${label}; ${auth})\n`);
      if (token === "" && !isLoopbackHost(o.host)) {
        process.stderr.write(
          `runtime: warning: ${o.host} is not loopback and no token is set: anyone who can reach it can use the agent (set WATTSWARM_RUNTIME_TOKEN)\n`,
        );
      }
      await new Promise<void>((done) => {
        const stop = (signal: string): void => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          process.stderr.write(
            `runtime: ${signal}, finishing requests in flight (up to ${SHUTDOWN_GRACE_MS / 1000} s)\n`,
          );
          runtime.close(SHUTDOWN_GRACE_MS).then(done, done);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      process.stderr.write("runtime: stopped\n");
    });
}
