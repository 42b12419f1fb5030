// The `openai` executor (SPEC §8.1): one attempt = one POST {base}/chat/completions to any OpenAI-compatible
// server (OpenAI, vLLM, Ollama, llama.cpp…). Status handling is the http executor's rule (http-response.ts);
// the API key is read from the named env var at call time and never leaves the request header.
import type { JsonObject, JsonValue } from "../spec/types.js";
import { isPlainObject } from "../util/json.js";
import { combineSignals } from "../util/signals.js";
import type { ExecutionOutcome } from "../vocab.js";
import { commonConfigProblems, ENV_VAR_NAME } from "./config-checks.js";
import { failure } from "./failures.js";
import { classifyFetchError, httpStatusFailure, readBodyCapped, readBodyPrefix } from "./http-response.js";
import { buildChatMessages, decisionOptions, parseModelOutput } from "./llm-prompt.js";
import { parseJsonObject } from "./output.js";
import { redactOutcome, redactSecret } from "./redact.js";
import type { AttemptContext, ExecuteRequest, Executor, ExecutorCheck } from "./types.js";

export interface OpenAIExecutorConfig {
  model: string;
  /** Default https://api.openai.com/v1; the endpoint is `{base_url}/chat/completions`. */
  base_url?: string;
  /** Name of the env var holding the API key (default OPENAI_API_KEY). */
  api_key_env?: string;
  timeout_ms?: number;
  temperature?: number;
}

export const DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1";
export const DEFAULT_API_KEY_ENV = "OPENAI_API_KEY";
const OPENAI_KEYS = ["model", "base_url", "api_key_env", "timeout_ms", "temperature"] as const;

/** Servers that refused `response_format` once: asked without it from then on (tolerant parsing covers them). */
const noJsonMode = new Set<string>();

export function validateOpenAIConfig(config: JsonObject): string[] {
  const problems = commonConfigProblems(config, OPENAI_KEYS);
  if (typeof config.model !== "string" || config.model.trim() === "") {
    problems.push("model: required, the model name the server expects (e.g. gpt-4o-mini, llama3.1)");
  }
  if (config.base_url !== undefined) {
    const url = typeof config.base_url === "string" ? parseUrl(config.base_url) : null;
    if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
      problems.push(`base_url: ${JSON.stringify(config.base_url)} must be an http:// or https:// URL`);
    } else if (url.username || url.password || url.search || url.hash) {
      problems.push(
        "base_url: must not hold credentials, a query or a fragment (the key goes in api_key_env)",
      );
    }
  }
  if (
    config.api_key_env !== undefined &&
    (typeof config.api_key_env !== "string" || !ENV_VAR_NAME.test(config.api_key_env))
  ) {
    problems.push(
      `api_key_env: ${JSON.stringify(config.api_key_env)} must be an env var NAME like OPENAI_API_KEY`,
    );
  }
  const temp = config.temperature;
  if (temp !== undefined && (typeof temp !== "number" || !Number.isFinite(temp) || temp < 0 || temp > 2)) {
    problems.push(`temperature: ${JSON.stringify(temp)} must be a number from 0 to 2`);
  }
  return problems;
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

function messageContent(completion: JsonObject): string | null {
  const choices = completion.choices;
  const first = Array.isArray(choices) ? choices[0] : undefined;
  const message = isPlainObject(first) ? first.message : undefined;
  const content = isPlainObject(message) ? message.content : undefined;
  if (typeof content === "string") return content;
  // Some servers send content parts: [{type: "text", text: "…"}].
  if (Array.isArray(content)) {
    return content.map((p) => (isPlainObject(p) && typeof p.text === "string" ? p.text : "")).join("");
  }
  return null;
}

export class OpenAIExecutor implements Executor {
  readonly kind = "openai" as const;
  readonly baseUrl: string;
  private readonly keyEnv: string;

  constructor(
    readonly name: string,
    private readonly config: OpenAIExecutorConfig,
  ) {
    this.baseUrl = (config.base_url ?? DEFAULT_OPENAI_BASE_URL).replace(/\/+$/, "");
    this.keyEnv = config.api_key_env ?? DEFAULT_API_KEY_ENV;
  }

  async execute(
    request: ExecuteRequest,
    _ctx: AttemptContext,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    const key = process.env[this.keyEnv];
    if ((key === undefined || key === "") && this.config.api_key_env !== undefined) {
      const message = `env var ${this.keyEnv} (api_key_env of executor ${this.name}) is not set on this worker`;
      return failure("EXECUTOR_INCOMPATIBLE", false, message);
    }
    const call = combineSignals([signal], this.config.timeout_ms);
    try {
      return redactOutcome(await this.complete(request, key || undefined, call.signal), key);
    } catch (err) {
      if (signal.aborted) return failure("TIMEOUT", true, "aborted");
      if (call.signal.aborted) {
        const message = `TIMEOUT: model gave no answer within ${this.config.timeout_ms} ms (executor timeout_ms, ${this.where()})`;
        return failure("TIMEOUT", true, message);
      }
      return redactOutcome(classifyFetchError(err, this.where()), key);
    } finally {
      call.dispose();
    }
  }

  async check(signal?: AbortSignal): Promise<ExecutorCheck> {
    const problems = validateOpenAIConfig(this.config as unknown as JsonObject);
    const capabilities = {
      task_types: ["*"],
      profiles: ["*"],
      provider_family: "openai",
      model_id: this.config.model,
    };
    let health = "ok";
    const key = process.env[this.keyEnv];
    if ((key === undefined || key === "") && this.config.api_key_env !== undefined) {
      problems.push(`env var ${this.keyEnv} is not set`);
    }
    try {
      const res = await fetch(`${this.baseUrl}/models`, {
        headers: this.headers(key || undefined),
        signal: signal ?? null,
      });
      await res.body?.cancel().catch(() => {});
      if (!res.ok) {
        health = `status ${res.status}`;
        problems.push(`GET ${this.baseUrl}/models status: ${res.status}`);
      }
    } catch (err) {
      health = "unreachable";
      problems.push(classifyFetchError(err, this.where()).error);
    }
    const result: ExecutorCheck = { ok: problems.length === 0, health, capabilities };
    if (problems.length > 0) result.error = redactSecret(problems.join("; "), key);
    return result;
  }

  private where(): string {
    return `model ${this.config.model}, ${this.baseUrl}`;
  }

  private headers(key: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
    };
    if (key) headers.authorization = `Bearer ${key}`;
    return headers;
  }

  private body(inputs: JsonObject, jsonMode: boolean): JsonObject {
    const body: JsonObject = {
      model: this.config.model,
      messages: buildChatMessages(inputs) as unknown as JsonValue,
    };
    if (this.config.temperature !== undefined) body.temperature = this.config.temperature;
    if (jsonMode) body.response_format = { type: "json_object" };
    return body;
  }

  private async post(inputs: JsonObject, key: string | undefined, signal: AbortSignal): Promise<Response> {
    const jsonMode = !noJsonMode.has(this.baseUrl);
    const send = (json: boolean): Promise<Response> =>
      fetch(`${this.baseUrl}/chat/completions`, {
        method: "POST",
        headers: this.headers(key),
        body: JSON.stringify(this.body(inputs, json)),
        signal,
      });
    const res = await send(jsonMode);
    if (!jsonMode || res.status !== 400) return res;
    // JSON mode is optional: a server that rejects the parameter is asked again without it.
    const text = await readBodyPrefix(res.clone(), 2048);
    if (!/response_format|json_object|json mode/i.test(text)) return res;
    await res.body?.cancel().catch(() => {});
    noJsonMode.add(this.baseUrl);
    return send(false);
  }

  private async complete(
    request: ExecuteRequest,
    key: string | undefined,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    const res = await this.post(request.inputs, key, signal);
    const source = this.where();
    if (!res.ok) return httpStatusFailure(res, "chat/completions", source);
    const body = await readBodyCapped(res, source);
    if (!body.ok) return body.failure;
    const parsed = parseJsonObject(body.text, source);
    if (!parsed.ok) return parsed.failure;
    const completion = parsed.value;
    const usage = isPlainObject(completion.usage) ? completion.usage : null;
    const content = messageContent(completion);
    if (content === null) {
      return failure("BAD_OUTPUT", true, `no choices[0].message.content in the completion (${source})`, {
        details: { usage },
      });
    }
    const output = parseModelOutput(content, decisionOptions(request.inputs));
    if (!output.ok) {
      const quoted = content.length > 300 ? `${content.slice(0, 300)}…` : content;
      return failure("BAD_OUTPUT", true, `${output.reason} (${source}): ${quoted}`, { details: { usage } });
    }
    return {
      ok: true,
      response: {
        candidate_output: output.output,
        usage,
        model: typeof completion.model === "string" ? completion.model : this.config.model,
      },
    };
  }
}
