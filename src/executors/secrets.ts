// Which environment variables an executor config may make a worker read and send away. A config stores only
// env-var names; the worker reads the value at call time and hands it to the executor's target (an http
// runtime, a model server, a child process). Whoever registers an executor therefore chooses which of the
// worker's secrets leave it, so WattSwarm's own secrets are refused everywhere, and executors registered
// through the HTTP API are held to a policy the operator sets (`serve --secret-env`).
import type { JsonObject } from "../spec/types.js";
import { DEFAULT_API_KEY_ENV } from "./openai.js";

/** WattSwarm's own secrets: never an executor's, whoever registers it (CLI or API). */
export const KERNEL_SECRET_ENV: ReadonlySet<string> = new Set([
  "WATTSWARM_API_TOKEN",
  "WATTSWARM_PG_URL",
  "WATTSWARM_TEST_PG_URL",
  "DATABASE_URL",
  "PGPASSWORD",
]);

/** Names an API-registered executor may read without the operator listing them. */
export const DEFAULT_SECRET_ENV_PREFIX = "WATTSWARM_SECRET_";

export interface SecretEnvRef {
  /** Where the name sits in the config, in validateExecutorConfig's `key` style: `bearer_env`, `env[2]`. */
  key: string;
  name: string;
  /** True when the config leaves the key out and the executor reads its default (openai's OPENAI_API_KEY). */
  default?: true;
}

export interface SecretEnvPolicy {
  prefix: string;
  names: ReadonlySet<string>;
}

/**
 * Whether `name` is one of WattSwarm's own secrets. Case-insensitive: Windows reads the environment that
 * way, so `wattswarm_api_token` would read the same variable there.
 */
export function isKernelSecretEnv(name: string): boolean {
  return KERNEL_SECRET_ENV.has(name.toUpperCase());
}

/**
 * Every env var a config of `kind` makes a worker read and pass on: http `bearer_env`, openai `api_key_env`
 * (its default when absent) and command `env` entries of the bare `NAME` form (`K=V` entries are values the
 * config stores, not reads). Values of the wrong type are skipped: validateExecutorConfig reports them.
 */
export function secretEnvRefs(kind: string, config: JsonObject): SecretEnvRef[] {
  switch (kind) {
    case "http":
      return typeof config.bearer_env === "string" ? [{ key: "bearer_env", name: config.bearer_env }] : [];
    case "openai":
      if (config.api_key_env === undefined) {
        return [{ key: "api_key_env", name: DEFAULT_API_KEY_ENV, default: true }];
      }
      return typeof config.api_key_env === "string" ? [{ key: "api_key_env", name: config.api_key_env }] : [];
    case "command": {
      if (!Array.isArray(config.env)) return [];
      const refs: SecretEnvRef[] = [];
      config.env.forEach((entry, i) => {
        if (typeof entry === "string" && !entry.includes("=")) refs.push({ key: `env[${i}]`, name: entry });
      });
      return refs;
    }
    default:
      return [];
  }
}

function describeRef(ref: SecretEnvRef): string {
  return ref.default
    ? `${JSON.stringify(ref.name)} (the default when api_key_env is absent)`
    : JSON.stringify(ref.name);
}

/** The refusal of a kernel secret, or null: the same line for the CLI, the API and the worker. */
export function kernelSecretProblem(ref: SecretEnvRef): string | null {
  if (!isKernelSecretEnv(ref.name)) return null;
  return `${ref.key}: ${ref.name} is WattSwarm's own secret and cannot be sent to an executor`;
}

/** The policy for API-registered executors: the prefix, plus the names the operator lists. */
export function secretEnvPolicy(names: readonly string[] = []): SecretEnvPolicy {
  return { prefix: DEFAULT_SECRET_ENV_PREFIX, names: new Set(names) };
}

/**
 * Every env var of the config that `policy` does not allow, one `key: rule` line each (empty when all pass).
 * A name passes when it starts with the prefix or is listed, and is never a kernel secret, even when listed.
 * Meant for executors registered through the HTTP API, after validateExecutorConfig found nothing: on its
 * own it repeats the kernel-secret line validateExecutorConfig also gives.
 */
export function secretEnvProblems(kind: string, config: JsonObject, policy: SecretEnvPolicy): string[] {
  const problems: string[] = [];
  for (const ref of secretEnvRefs(kind, config)) {
    const kernel = kernelSecretProblem(ref);
    if (kernel) problems.push(kernel);
    else if (!ref.name.startsWith(policy.prefix) && !policy.names.has(ref.name)) {
      problems.push(
        `${ref.key}: ${describeRef(ref)} is not an allowed secret name (allowed: ${policy.prefix}*, or a name the operator lists with serve --secret-env)`,
      );
    }
  }
  return problems;
}
