// The one executor-admin module (kernel/executor-admin.ts), called directly under each policy: the operator's
// (the CLI) and a server's (serve, with and without its opt-ins). The front ends' own tests
// (test/executors/cli-add.test.ts, test/server/security.test.ts) cover their outputs and statuses.
import { describe, expect, it } from "vitest";
import { WattswarmError } from "../../src/errors.js";
import {
  admitExecutor,
  checkExecutor,
  ExecutorPolicyError,
  type ExecutorRegistry,
  listExecutors,
  OPERATOR_EXECUTOR_POLICY,
  registerExecutor,
  removeExecutor,
  serverExecutorPolicy,
} from "../../src/kernel/executor-admin.js";
import type { ExecutorRecord } from "../../src/store/types.js";

/** The registry part of the store port, in memory. */
function memoryRegistry(): ExecutorRegistry & { rows: Map<string, ExecutorRecord> } {
  const rows = new Map<string, ExecutorRecord>();
  return {
    rows,
    listExecutors: async () => [...rows.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
    getExecutor: async (name) => rows.get(name) ?? null,
    upsertExecutor: async ({ name, kind, config }) => {
      const now = new Date().toISOString();
      const record = { name, kind, config, created_at: rows.get(name)?.created_at ?? now, updated_at: now };
      rows.set(name, record);
      return record;
    },
    removeExecutor: async (name) => rows.delete(name),
  };
}

/** A store that must not be touched. */
const noStore = new Proxy({} as ExecutorRegistry, {
  get: () => () => {
    throw new Error("the store was used");
  },
});

async function refusal(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error("expected a refusal");
    },
    (err: unknown) => err,
  );
}

const cmd = (argv: string[], env?: string[]) => ({
  name: "judge",
  kind: "command",
  config: env ? { argv, env } : { argv },
});
const http = (url: string, extra: Record<string, string> = {}) => ({
  name: "rt",
  kind: "http",
  config: { url, ...extra },
});

describe("executor-admin: register", () => {
  it("registers, then replaces (created false), and lists by name", async () => {
    const store = memoryRegistry();
    const first = await registerExecutor(store, http("http://127.0.0.1:8787"), OPERATOR_EXECUTOR_POLICY);
    expect(first.created).toBe(true);
    expect(first.record).toMatchObject({
      name: "rt",
      kind: "http",
      config: { url: "http://127.0.0.1:8787" },
    });
    const again = await registerExecutor(store, http("http://127.0.0.1:9999"), OPERATOR_EXECUTOR_POLICY);
    expect(again.created).toBe(false);
    await registerExecutor(store, { name: "a", kind: "sim", config: {} }, OPERATOR_EXECUTOR_POLICY);
    expect((await listExecutors(store)).map((e) => e.name)).toEqual(["a", "rt"]);
  });

  it("refuses a name outside the id pattern (USAGE) before anything else, under every policy", async () => {
    for (const policy of [OPERATOR_EXECUTOR_POLICY, serverExecutorPolicy({})]) {
      for (const name of ["", "a b", "x/y", "n".repeat(129)]) {
        const err = await refusal(registerExecutor(noStore, { name, kind: "nope", config: 1 }, policy));
        expect(err).toBeInstanceOf(WattswarmError);
        expect(err).toMatchObject({
          code: "USAGE",
          message: `executor name "${name}": 1–128 chars of [A-Za-z0-9._:-]`,
        });
      }
    }
    expect(() =>
      admitExecutor({ name: "n".repeat(128), kind: "sim", config: {} }, OPERATOR_EXECUTOR_POLICY),
    ).not.toThrow();
  });

  it("refuses an invalid config with one USAGE error, its details under config.*, without the store", async () => {
    const err = await refusal(
      registerExecutor(noStore, http("ftp://h", { bearer_env: "1X" }), OPERATOR_EXECUTOR_POLICY),
    );
    expect(err).toMatchObject({
      code: "USAGE",
      message:
        'executor "rt": url: "ftp://h" must use http or https; bearer_env: "1X" must be an env var name like RUNTIME_TOKEN',
      details: [
        { path: "config.url", message: '"ftp://h" must use http or https' },
        { path: "config.bearer_env", message: '"1X" must be an env var name like RUNTIME_TOKEN' },
      ],
    });
    expect(
      await refusal(
        registerExecutor(noStore, { name: "x", kind: "gpu", config: {} }, OPERATOR_EXECUTOR_POLICY),
      ),
    ).toMatchObject({
      code: "USAGE",
      details: [{ path: "kind" }],
    });
  });

  describe("command executors", () => {
    it("the operator's policy registers any program", async () => {
      const store = memoryRegistry();
      const { record } = await registerExecutor(
        store,
        cmd(["python3", "judge.py"]),
        OPERATOR_EXECUTOR_POLICY,
      );
      expect(record.config).toEqual({ argv: ["python3", "judge.py"] });
    });

    it("a server's default refuses every one (FORBIDDEN) and stores nothing", async () => {
      const store = memoryRegistry();
      const err = await refusal(
        registerExecutor(store, cmd(["node", "agent.mjs"]), serverExecutorPolicy({})),
      );
      expect(err).toBeInstanceOf(ExecutorPolicyError);
      expect(err).toMatchObject({ code: "FORBIDDEN" });
      expect((err as Error).message).toMatch(
        /^executor "judge": command executors run programs on every worker/,
      );
      expect((err as Error).message).toMatch(/--allow-command-executors or --allow-command <program>/);
      expect(store.rows.size).toBe(0);
    });

    it("a server's allowlist admits only its programs as argv[0]; allowCommand true admits any", async () => {
      const policy = serverExecutorPolicy({ allowCommand: ["node"] });
      expect(admitExecutor(cmd(["node", "agent.mjs"]), policy).config).toEqual({
        argv: ["node", "agent.mjs"],
      });
      expect(() => admitExecutor(cmd(["python3", "node"]), policy)).toThrow(
        'executor "judge": program "python3" is not one this server allows (--allow-command: "node")',
      );
      expect(() =>
        admitExecutor(cmd(["python3"]), serverExecutorPolicy({ allowCommand: true })),
      ).not.toThrow();
    });

    it("an invalid command config is USAGE before the policy's FORBIDDEN", async () => {
      const err = await refusal(registerExecutor(noStore, cmd([]), serverExecutorPolicy({})));
      expect(err).toMatchObject({ code: "USAGE" });
    });
  });

  describe("secret env names", () => {
    it("the operator's policy allows any name but WattSwarm's own secrets", () => {
      expect(() =>
        admitExecutor(http("http://h", { bearer_env: "TEAM_TOKEN" }), OPERATOR_EXECUTOR_POLICY),
      ).not.toThrow();
      expect(() => admitExecutor(cmd(["node"], ["HOME_TOKEN"]), OPERATOR_EXECUTOR_POLICY)).not.toThrow();
      expect(() =>
        admitExecutor(http("http://h", { bearer_env: "WATTSWARM_API_TOKEN" }), OPERATOR_EXECUTOR_POLICY),
      ).toThrow(
        "bearer_env: WATTSWARM_API_TOKEN is WattSwarm's own secret and cannot be sent to an executor",
      );
    });

    it("a server's allows WATTSWARM_SECRET_* and the listed names only (USAGE, details per key)", async () => {
      const policy = serverExecutorPolicy({ secretEnv: ["TEAM_TOKEN"] });
      expect(() =>
        admitExecutor(http("http://h", { bearer_env: "WATTSWARM_SECRET_RT" }), policy),
      ).not.toThrow();
      expect(() => admitExecutor(http("http://h", { bearer_env: "TEAM_TOKEN" }), policy)).not.toThrow();
      const err = await refusal(
        registerExecutor(noStore, http("http://h", { bearer_env: "AWS_SECRET" }), policy),
      );
      expect(err).toMatchObject({ code: "USAGE", details: [{ path: "config.bearer_env" }] });
      expect((err as Error).message).toMatch(
        /^executor "rt": bearer_env: "AWS_SECRET" is not an allowed secret name/,
      );
      // An openai executor's default key counts, and a command executor's bare env names do.
      expect(() => admitExecutor({ name: "gpt", kind: "openai", config: { model: "m" } }, policy)).toThrow(
        /api_key_env: "OPENAI_API_KEY" \(the default when api_key_env is absent\) is not an allowed secret name/,
      );
      expect(() =>
        admitExecutor(cmd(["node"], ["MODE=x", "HOME_TOKEN"]), serverExecutorPolicy({ allowCommand: true })),
      ).toThrow(/env\[1\]: "HOME_TOKEN" is not an allowed secret name/);
    });
  });

  describe("link-local and metadata targets", () => {
    it("a server's refuses them at registration (USAGE); the operator's does not", async () => {
      for (const url of [
        "http://169.254.169.254/latest",
        "http://metadata.google.internal/",
        "http://[fe80::1]/",
      ]) {
        const err = await refusal(registerExecutor(noStore, http(url), serverExecutorPolicy({})));
        expect(err).toMatchObject({ code: "USAGE", details: [{ path: "config.url" }] });
        expect((err as Error).message).toMatch(/is a link-local or cloud metadata address/);
        expect(() => admitExecutor(http(url), OPERATOR_EXECUTOR_POLICY)).not.toThrow();
      }
      const openai = {
        name: "gpt",
        kind: "openai",
        config: { model: "m", base_url: "http://169.254.169.254/v1" },
      };
      expect(() => admitExecutor(openai, serverExecutorPolicy({ secretEnv: ["OPENAI_API_KEY"] }))).toThrow(
        /base_url: 169\.254\.169\.254 is a link-local/,
      );
    });
  });
});

describe("executor-admin: check and remove", () => {
  it("checks a registered executor: {name, kind, ok, …}", async () => {
    const store = memoryRegistry();
    await registerExecutor(store, { name: "sim", kind: "sim", config: {} }, OPERATOR_EXECUTOR_POLICY);
    for (const policy of [OPERATOR_EXECUTOR_POLICY, serverExecutorPolicy({})]) {
      expect(await checkExecutor(store, "sim", policy)).toMatchObject({ name: "sim", kind: "sim", ok: true });
    }
  });

  it("a server's refuses to probe a metadata target (BAD_REQUEST) that the operator registered", async () => {
    const store = memoryRegistry();
    await registerExecutor(store, http("http://169.254.169.254/"), OPERATOR_EXECUTOR_POLICY);
    const err = await refusal(checkExecutor(store, "rt", serverExecutorPolicy({ allowCommand: true })));
    expect(err).toBeInstanceOf(ExecutorPolicyError);
    expect(err).toMatchObject({
      code: "BAD_REQUEST",
      message:
        'executor "rt": url: 169.254.169.254 is a link-local or cloud metadata address; executors cannot target it through the API',
    });
  });

  it("an unknown executor is EXECUTOR_NOT_FOUND for check and remove, under every policy", async () => {
    const store = memoryRegistry();
    for (const policy of [OPERATOR_EXECUTOR_POLICY, serverExecutorPolicy({})]) {
      expect(await refusal(checkExecutor(store, "ghost", policy))).toMatchObject({
        code: "EXECUTOR_NOT_FOUND",
        message: 'executor "ghost" is not registered',
      });
    }
    expect(await refusal(removeExecutor(store, "ghost"))).toMatchObject({
      code: "EXECUTOR_NOT_FOUND",
      message: 'executor "ghost" is not registered',
    });
  });

  it("removes a registered executor once", async () => {
    const store = memoryRegistry();
    await registerExecutor(store, { name: "sim", kind: "sim", config: {} }, OPERATOR_EXECUTOR_POLICY);
    expect(await removeExecutor(store, "sim")).toEqual({ ok: true, name: "sim", removed: true });
    expect(await refusal(removeExecutor(store, "sim"))).toMatchObject({ code: "EXECUTOR_NOT_FOUND" });
  });
});
