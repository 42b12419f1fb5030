import { describe, expect, it } from "vitest";
import { redactOutcome, redactSecret } from "../../src/executors/redact.js";
import { validateExecutorConfig } from "../../src/executors/registry.js";
import {
  DEFAULT_SECRET_ENV_PREFIX,
  isKernelSecretEnv,
  KERNEL_SECRET_ENV,
  secretEnvPolicy,
  secretEnvProblems,
  secretEnvRefs,
} from "../../src/executors/secrets.js";
import type { JsonObject, JsonValue } from "../../src/spec/types.js";

const URL = "http://127.0.0.1:8787";
const NOT_ALLOWED =
  "is not an allowed secret name (allowed: WATTSWARM_SECRET_*, or a name the operator lists with serve --secret-env)";

describe("secretEnvRefs", () => {
  it("finds every env var a config makes a worker read", () => {
    expect(secretEnvRefs("http", { url: URL, bearer_env: "RT_TOKEN" })).toEqual([
      { key: "bearer_env", name: "RT_TOKEN" },
    ]);
    expect(secretEnvRefs("http", { url: URL })).toEqual([]);
    expect(secretEnvRefs("openai", { model: "m", api_key_env: "TEAM_KEY" })).toEqual([
      { key: "api_key_env", name: "TEAM_KEY" },
    ]);
    expect(secretEnvRefs("command", { argv: ["a"], env: ["A", "MODE=strict", "B", "C=x=y"] })).toEqual([
      { key: "env[0]", name: "A" },
      { key: "env[2]", name: "B" },
    ]);
    expect(secretEnvRefs("command", { argv: ["a"] })).toEqual([]);
    expect(secretEnvRefs("sim", { accuracy: 0.5 })).toEqual([]);
    expect(secretEnvRefs("grpc", { bearer_env: "X" })).toEqual([]);
  });

  it("reports openai's default key variable when api_key_env is absent", () => {
    expect(secretEnvRefs("openai", { model: "m" })).toEqual([
      { key: "api_key_env", name: "OPENAI_API_KEY", default: true },
    ]);
  });

  it("skips values of the wrong type, which validateExecutorConfig reports", () => {
    expect(secretEnvRefs("http", { url: URL, bearer_env: 1 })).toEqual([]);
    expect(secretEnvRefs("openai", { model: "m", api_key_env: null })).toEqual([]);
    expect(secretEnvRefs("command", { argv: ["a"], env: [1, "OK"] })).toEqual([
      { key: "env[1]", name: "OK" },
    ]);
  });
});

describe("secretEnvProblems (executors registered through the API)", () => {
  const policy = secretEnvPolicy();

  it("allows the prefix and refuses any other name", () => {
    expect(policy).toEqual({ prefix: DEFAULT_SECRET_ENV_PREFIX, names: new Set() });
    expect(secretEnvProblems("http", { url: URL, bearer_env: "WATTSWARM_SECRET_RT" }, policy)).toEqual([]);
    expect(secretEnvProblems("http", { url: URL }, policy)).toEqual([]);
    expect(secretEnvProblems("http", { url: URL, bearer_env: "HOME" }, policy)).toEqual([
      `bearer_env: "HOME" ${NOT_ALLOWED}`,
    ]);
    expect(
      secretEnvProblems(
        "command",
        { argv: ["a"], env: ["WATTSWARM_SECRET_A", "AWS_SECRET_ACCESS_KEY", "K=V"] },
        policy,
      ),
    ).toEqual([`env[1]: "AWS_SECRET_ACCESS_KEY" ${NOT_ALLOWED}`]);
    expect(secretEnvProblems("sim", {}, policy)).toEqual([]);
  });

  it("holds openai's default key variable to the policy, saying it is the default", () => {
    expect(secretEnvProblems("openai", { model: "m" }, policy)).toEqual([
      `api_key_env: "OPENAI_API_KEY" (the default when api_key_env is absent) ${NOT_ALLOWED}`,
    ]);
    expect(secretEnvProblems("openai", { model: "m" }, secretEnvPolicy(["OPENAI_API_KEY"]))).toEqual([]);
    expect(secretEnvProblems("openai", { model: "m", api_key_env: "WATTSWARM_SECRET_LLM" }, policy)).toEqual(
      [],
    );
  });

  it("allows names the operator lists, exactly", () => {
    const listed = secretEnvPolicy(["TEAM_KEY"]);
    expect(secretEnvProblems("openai", { model: "m", api_key_env: "TEAM_KEY" }, listed)).toEqual([]);
    expect(secretEnvProblems("openai", { model: "m", api_key_env: "TEAM_KEY_2" }, listed)).toEqual([
      `api_key_env: "TEAM_KEY_2" ${NOT_ALLOWED}`,
    ]);
    expect(secretEnvProblems("openai", { model: "m", api_key_env: "team_key" }, listed)).toHaveLength(1);
  });

  it("never allows WattSwarm's own secrets, even when listed", () => {
    const listed = secretEnvPolicy([...KERNEL_SECRET_ENV]);
    for (const name of KERNEL_SECRET_ENV) {
      expect(secretEnvProblems("http", { url: URL, bearer_env: name }, listed)).toEqual([
        `bearer_env: ${name} is WattSwarm's own secret and cannot be sent to an executor`,
      ]);
    }
  });
});

describe("kernel secrets in validateExecutorConfig (every path, CLI too)", () => {
  it("lists exactly WattSwarm's own secrets", () => {
    expect([...KERNEL_SECRET_ENV].sort()).toEqual([
      "DATABASE_URL",
      "PGPASSWORD",
      "WATTSWARM_API_TOKEN",
      "WATTSWARM_PG_URL",
      "WATTSWARM_TEST_PG_URL",
    ]);
  });

  it("refuses them as bearer_env, api_key_env and command env NAME entries", () => {
    expect(validateExecutorConfig("http", { url: URL, bearer_env: "WATTSWARM_API_TOKEN" })).toEqual([
      "bearer_env: WATTSWARM_API_TOKEN is WattSwarm's own secret and cannot be sent to an executor",
    ]);
    expect(validateExecutorConfig("openai", { model: "m", api_key_env: "PGPASSWORD" })).toEqual([
      "api_key_env: PGPASSWORD is WattSwarm's own secret and cannot be sent to an executor",
    ]);
    expect(
      validateExecutorConfig("command", { argv: ["a"], env: ["HOME", "DATABASE_URL", "WATTSWARM_PG_URL=x"] }),
    ).toEqual(["env[1]: DATABASE_URL is WattSwarm's own secret and cannot be sent to an executor"]);
  });

  it("compares names ignoring case, as Windows reads the environment", () => {
    expect(isKernelSecretEnv("wattswarm_api_token")).toBe(true);
    expect(isKernelSecretEnv("WATTSWARM_SECRET_X")).toBe(false);
    expect(validateExecutorConfig("http", { url: URL, bearer_env: "Wattswarm_Api_Token" })).toHaveLength(1);
  });

  it("leaves other names to the operator on the CLI", () => {
    expect(validateExecutorConfig("http", { url: URL, bearer_env: "RT_TOKEN" })).toEqual([]);
    expect(validateExecutorConfig("openai", { model: "m" })).toEqual([]);
    expect(validateExecutorConfig("command", { argv: ["a"], env: ["OPENAI_API_KEY", "K=V"] })).toEqual([]);
  });
});

describe("redactSecret / redactOutcome", () => {
  it("replaces every occurrence of the secret", () => {
    expect(redactSecret("a s3cret b s3cret", "s3cret")).toBe("a *** b ***");
    expect(redactSecret("nothing here", "s3cret")).toBe("nothing here");
    expect(redactSecret("abc", undefined)).toBe("abc");
    // Too short to search for: "***" for every "ab" would hide more than it protects.
    expect(redactSecret("abc", "ab")).toBe("abc");
  });

  it("redacts a failure's error and details", () => {
    const failure = {
      ok: false as const,
      code: "VERIFY_FAILED" as const,
      retryable: true,
      error: "verify failed: tok-123",
      details: { reason_codes: ["tok-123", "other"], n: 1 },
    };
    expect(redactOutcome(failure, "tok-123")).toEqual({
      ...failure,
      error: "verify failed: ***",
      details: { reason_codes: ["***", "other"], n: 1 },
    });
  });

  it("redacts every string of a success, keys too, and keeps the order of members and items", () => {
    const success = {
      ok: true as const,
      response: {
        candidate_output: { z: "a tok-123 b", a: ["x", { "tok-123": "tok-123tok-123" }], n: 1, f: null },
      },
    };
    const redacted = redactOutcome(success, "tok-123");
    expect(redacted).toEqual({
      ok: true,
      response: { candidate_output: { z: "a *** b", a: ["x", { "***": "******" }], n: 1, f: null } },
    });
    expect(Object.keys((redacted.response.candidate_output ?? {}) as object)).toEqual(["z", "a", "n", "f"]);
    // Nothing to redact: the very same object, no copy.
    const clean = { ok: true as const, response: { answer: "nothing secret" } };
    expect(redactOutcome(clean, "tok-123")).toBe(clean);
  });

  it("walks a success iteratively: 100 000 levels of nesting do not overflow the stack", () => {
    let deep: JsonValue = "tok-123 at the bottom";
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? [deep] : { d: deep };
    const redacted = redactOutcome({ ok: true, response: { deep } }, "tok-123");
    let node: JsonValue = (redacted.ok ? redacted.response.deep : null) ?? null;
    while (typeof node === "object" && node !== null)
      node = Array.isArray(node) ? (node[0] ?? null) : (node.d ?? null);
    expect(node).toBe("*** at the bottom");
  });

  it("a __proto__ member stays an own member, never the prototype", () => {
    const response = JSON.parse('{"__proto__": {"polluted": "tok-123"}}') as JsonObject;
    const redacted = redactOutcome({ ok: true, response }, "tok-123");
    const out = redacted.ok ? redacted.response : {};
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, "__proto__")).toBe(true);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":"***"}}');
  });
});
