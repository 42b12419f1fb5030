import { describe, expect, it } from "vitest";
import { CommandExecutor } from "../../src/executors/command.js";
import { HttpExecutor } from "../../src/executors/http.js";
import { OpenAIExecutor } from "../../src/executors/openai.js";
import { createExecutor, validateExecutorConfig } from "../../src/executors/registry.js";
import { SimExecutor } from "../../src/executors/sim.js";

describe("createExecutor", () => {
  it("builds http and sim executors under their registered names", () => {
    const rt = createExecutor({ name: "rt", kind: "http", config: { url: "http://127.0.0.1:8787" } });
    expect(rt).toBeInstanceOf(HttpExecutor);
    expect([rt.name, rt.kind]).toEqual(["rt", "http"]);
    const sim = createExecutor({ name: "sim", kind: "sim", config: { accuracy: 0.9 } });
    expect(sim).toBeInstanceOf(SimExecutor);
  });

  it("builds command and openai executors", () => {
    const cmd = createExecutor({ name: "c", kind: "command", config: { argv: ["node", "agent.mjs"] } });
    expect(cmd).toBeInstanceOf(CommandExecutor);
    const llm = createExecutor({ name: "o", kind: "openai", config: { model: "gpt-4o-mini" } });
    expect(llm).toBeInstanceOf(OpenAIExecutor);
    expect((llm as OpenAIExecutor).baseUrl).toBe("https://api.openai.com/v1");
  });

  it("refuses invalid configs", () => {
    expect(() => createExecutor({ name: "c", kind: "command", config: {} })).toThrow(/argv: required/);
    expect(() => createExecutor({ name: "o", kind: "openai", config: {} })).toThrow(/model: required/);
    expect(() => createExecutor({ name: "rt", kind: "http", config: { url: "ftp://x" } })).toThrow(
      /must use http/,
    );
  });
});

describe("validateExecutorConfig", () => {
  it("accepts valid configs", () => {
    expect(validateExecutorConfig("http", { url: "https://rt.example/api" })).toEqual([]);
    expect(
      validateExecutorConfig("http", {
        url: "http://127.0.0.1:8787",
        headers: { "x-team": "blue" },
        bearer_env: "RT_TOKEN",
        verify: true,
        timeout_ms: 30_000,
      }),
    ).toEqual([]);
    expect(validateExecutorConfig("sim", {})).toEqual([]);
    expect(
      validateExecutorConfig("sim", { accuracy: 0.7, options: ["YES", "NO"], truth: "YES", seed: "s" }),
    ).toEqual([]);
  });

  it("lists every problem", () => {
    const problems = validateExecutorConfig("http", {
      url: "file:///tmp/x",
      headers: { Authorization: "Bearer x", "bad name": "v" },
      bearer_env: "not-a-name",
      verify: "yes",
      timeout_ms: 0,
      extra: 1,
    });
    expect(problems).toEqual([
      "extra: unknown key (expected one of url, headers, bearer_env, verify, timeout_ms)",
      "timeout_ms: 0 must be an integer from 1 to 3600000",
      'url: "file:///tmp/x" must use http or https',
      "headers.Authorization: reserved (secrets are not stored in config; use bearer_env)",
      "headers.bad name: not a valid header name",
      'bearer_env: "not-a-name" must be an env var name like RUNTIME_TOKEN',
      'verify: "yes" must be true or false',
    ]);
    expect(validateExecutorConfig("http", {})).toEqual(["url: required, an http:// or https:// URL"]);
    expect(validateExecutorConfig("http", { url: "http://u:p@host" })[0]).toMatch(/credentials/);
    expect(validateExecutorConfig("sim", { fail_rate: 2 })).toEqual([
      "invalid option fail_rate=2: must be a number from 0 to 1",
    ]);
    expect(validateExecutorConfig("command", { argv: [], env: ["A B", "OK", "K=V"], cwd: "/" })).toEqual([
      "cwd: unknown key (expected one of argv, env, timeout_ms)",
      "argv: required, a non-empty array of strings (the program and its arguments)",
      'env: "A B" must be NAME or NAME=value (NAME like MY_VAR)',
    ]);
    expect(
      validateExecutorConfig("openai", {
        model: "",
        base_url: "ftp://x",
        api_key_env: "sk-123",
        temperature: 3,
      }),
    ).toEqual([
      "model: required, the model name the server expects (e.g. gpt-4o-mini, llama3.1)",
      'base_url: "ftp://x" must be an http:// or https:// URL',
      'api_key_env: "sk-123" must be an env var NAME like OPENAI_API_KEY',
      "temperature: 3 must be a number from 0 to 2",
    ]);
    expect(validateExecutorConfig("grpc", {})[0]).toMatch(/unknown executor kind "grpc"/);
  });
});

describe("http headers: no credentials in config", () => {
  const problems = (headers: Record<string, string>) =>
    validateExecutorConfig("http", { url: "http://127.0.0.1:8787", headers });
  const refused = (name: string) =>
    `headers.${name}: reserved (secrets are not stored in config; use bearer_env)`;

  it("refuses credential headers by name, whatever the case", () => {
    for (const name of [
      "Authorization",
      "proxy-authorization",
      "Cookie",
      "set-cookie",
      "X-API-Key",
      "api-key",
    ]) {
      expect(problems({ [name]: "v" })).toEqual([refused(name)]);
    }
  });

  it("refuses names that look like credentials", () => {
    for (const name of [
      "x-auth-token",
      "X-Access-Token",
      "private-token",
      "x-client-secret",
      "x-password",
      "x-apikey",
      "x-goog-api-key",
      "auth",
      "x-amz-security-token",
      "x-authorization",
    ]) {
      expect(problems({ [name]: "v" })).toEqual([refused(name)]);
    }
  });

  it("keeps ordinary headers, including words that only contain a credential word", () => {
    expect(
      problems({
        "x-team": "blue",
        "x-author": "me",
        "x-tokenizer": "bpe",
        "user-agent": "ws",
        accept: "*/*",
      }),
    ).toEqual([]);
  });

  it("still names headers the executor sets itself", () => {
    expect(problems({ "Content-Type": "text/plain" })).toEqual([
      "headers.Content-Type: reserved (set by the executor)",
    ]);
  });
});
