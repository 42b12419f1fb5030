// From a stored registry entry to a live Executor, and the checks `executors add` runs before storing one.
import type { JsonObject, JsonValue } from "../spec/types.js";
import { isPlainObject } from "../util/json.js";
import { EXECUTOR_KINDS, type ExecutorKind } from "../vocab.js";
import { CommandExecutor, type CommandExecutorConfig, validateCommandConfig } from "./command.js";
import { commonConfigProblems, ENV_VAR_NAME, MAX_EXECUTOR_TIMEOUT_MS } from "./config-checks.js";
import { HttpExecutor, type HttpExecutorConfig } from "./http.js";
import { OpenAIExecutor, type OpenAIExecutorConfig, validateOpenAIConfig } from "./openai.js";
import { kernelSecretProblem, secretEnvRefs } from "./secrets.js";
import { SimExecutor, validateSimOptions } from "./sim.js";
import type { Executor, ExecutorConfigRecord } from "./types.js";

export interface CreateExecutorOptions {
  warn?: (message: string) => void;
}

const HTTP_KEYS = ["url", "headers", "bearer_env", "verify", "timeout_ms"] as const;
/** Headers the protocol sets itself. */
const PROTOCOL_HEADERS = new Set([
  "content-type",
  "idempotency-key",
  "x-wattswarm-deadline-ms",
  "content-length",
  "host",
]);
/**
 * Credentials: a config is stored in the database and shown by GET /api/executors, so a secret belongs in an
 * env var (bearer_env), never in a header value.
 */
const CREDENTIAL_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "api-key",
]);
const CREDENTIAL_HEADER_WORD = /(^|-)(token|secret|password|api-?key|auth|authorization)($|-)/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const MAX_HTTP_TIMEOUT_MS = MAX_EXECUTOR_TIMEOUT_MS;

function show(value: JsonValue | undefined): string {
  return value === undefined ? "undefined" : JSON.stringify(value);
}

function validateHttpConfig(config: JsonObject): string[] {
  const problems = commonConfigProblems(config, HTTP_KEYS);
  const url = config.url;
  if (typeof url !== "string" || url === "") {
    problems.push("url: required, an http:// or https:// URL");
  } else {
    let parsed: URL | null = null;
    try {
      parsed = new URL(url);
    } catch {
      problems.push(`url: ${show(url)} is not a valid URL`);
    }
    if (parsed) {
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
        problems.push(`url: ${show(url)} must use http or https`);
      }
      if (parsed.username || parsed.password) {
        problems.push("url: must not hold credentials; put the token in an env var and use bearer_env");
      }
      if (parsed.search || parsed.hash) problems.push(`url: ${show(url)} must not have a query or fragment`);
    }
  }
  if (config.headers !== undefined) {
    if (!isPlainObject(config.headers)) {
      problems.push("headers: must be an object of header name → string value");
    } else {
      for (const [name, value] of Object.entries(config.headers)) {
        if (!HEADER_NAME.test(name)) problems.push(`headers.${name}: not a valid header name`);
        else if (PROTOCOL_HEADERS.has(name.toLowerCase()))
          problems.push(`headers.${name}: reserved (set by the executor)`);
        else if (CREDENTIAL_HEADERS.has(name.toLowerCase()) || CREDENTIAL_HEADER_WORD.test(name))
          problems.push(`headers.${name}: reserved (secrets are not stored in config; use bearer_env)`);
        if (typeof value !== "string") problems.push(`headers.${name}: value must be a string`);
        else if (/[\r\n\0]/.test(value))
          problems.push(`headers.${name}: value must not contain CR, LF or NUL`);
      }
    }
  }
  if (config.bearer_env !== undefined) {
    if (typeof config.bearer_env !== "string" || !ENV_VAR_NAME.test(config.bearer_env)) {
      problems.push(`bearer_env: ${show(config.bearer_env)} must be an env var name like RUNTIME_TOKEN`);
    }
  }
  if (config.verify !== undefined && typeof config.verify !== "boolean") {
    problems.push(`verify: ${show(config.verify)} must be true or false`);
  }
  return problems;
}

function kindProblems(kind: ExecutorKind, config: JsonObject): string[] {
  switch (kind) {
    case "http":
      return validateHttpConfig(config);
    case "command":
      return validateCommandConfig(config);
    case "openai":
      return validateOpenAIConfig(config);
    case "sim":
      return validateSimOptions(config);
  }
}

/**
 * Every problem with a config for `kind`, one line each (`key: rule`); empty when it can be registered.
 * WattSwarm's own secrets (KERNEL_SECRET_ENV) are refused as env-var names here, for every caller.
 */
export function validateExecutorConfig(kind: string, config: JsonValue): string[] {
  const known: readonly string[] = EXECUTOR_KINDS;
  if (!known.includes(kind))
    return [`kind: unknown executor kind "${kind}" (expected one of ${EXECUTOR_KINDS.join(", ")})`];
  if (!isPlainObject(config)) return ["config: must be an object"];
  const problems = kindProblems(kind as ExecutorKind, config);
  for (const ref of secretEnvRefs(kind, config)) {
    const kernel = kernelSecretProblem(ref);
    if (kernel) problems.push(kernel);
  }
  return problems;
}

/** Throws when the stored config is invalid: an operator error. */
export function createExecutor(record: ExecutorConfigRecord, opts: CreateExecutorOptions = {}): Executor {
  const problems = validateExecutorConfig(record.kind, record.config);
  if (problems.length > 0) {
    throw new Error(`executor ${record.name} (${record.kind}) has an invalid config: ${problems.join("; ")}`);
  }
  switch (record.kind) {
    case "http":
      return new HttpExecutor(
        record.name,
        record.config as unknown as HttpExecutorConfig,
        opts.warn ? { warn: opts.warn } : {},
      );
    case "command":
      return new CommandExecutor(record.name, record.config as unknown as CommandExecutorConfig);
    case "openai":
      return new OpenAIExecutor(record.name, record.config as unknown as OpenAIExecutorConfig);
    case "sim":
      return new SimExecutor(record.name, record.config);
  }
}
