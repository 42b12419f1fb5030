// End to end through the built CLI: `wattswarm runtime` spawned on a free port, an http executor pointing at
// it, and `run exec` driving a real run on a temporary SQLite store. Also the openai executor against a fake
// server, checking that the API key never reaches a stored row.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cliIsBuilt } from "../support/cli.js";
import { completion, type FakeOpenAI, startFakeOpenAI } from "../support/fake-openai.js";
import { makeTempDir, useTempSqlite } from "../support/sqlite.js";
import { allRows, json, send, startCliRuntime, stopAllRuntimes, writeFile, ws } from "./helpers.js";

const tempDb = useTempSqlite();
const dir = makeTempDir();
const fakes: FakeOpenAI[] = [];
beforeAll(() => {
  if (!cliIsBuilt()) throw new Error("run `npm run build` first");
});
afterEach(async () => {
  await stopAllRuntimes();
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Result = {
  status: string;
  final_decision: string | null;
  final_answer: unknown;
  conclusions: { agent_id: string; attempt: number; output: Record<string, unknown> | null }[];
};

function spec(runId: string, executor: string, extra: Record<string, unknown> = {}) {
  return {
    run_id: runId,
    shared_inputs: { question: "Which bridge design?", decision_options: ["ARCH", "BEAM"] },
    agents: ["a", "b", "c"].map((id) => ({ agent_id: id, prompt: `agent ${id}`, executor })),
    retry: { max_attempts: 2, backoff_ms: 0 },
    ...extra,
  };
}

async function register(db: string, name: string, args: string[]): Promise<void> {
  const res = await ws(db, ["executors", "add", name, ...args]);
  if (res.code !== 0) throw new Error(res.stderr);
}

describe("wattswarm runtime + http executor", () => {
  it("serves a --handler module; run exec with --verify reaches FINALIZED", async () => {
    const verifyLog = join(dir, "verify.log");
    const handler = writeFile(
      dir,
      "bridge-agent.mjs",
      `import { appendFileSync } from "node:fs";
export const capabilities = { model_id: "bridge-rules" };
export async function execute(request) {
  const pick = request.inputs.agent_id === "c" ? "BEAM" : "ARCH";
  return { decision: pick, answer: pick + " for " + request.inputs.question, confidence: 0.75 };
}
export function verify(request) {
  appendFileSync(${JSON.stringify(verifyLog)}, request.attempt_id + "\\n");
  return { passed: true };
}`,
    );
    const rt = await startCliRuntime(["--handler", handler]);
    expect(rt.stderr()).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+ \(handler /);
    const caps = await (await fetch(`${rt.url}/capabilities`)).json();
    expect(caps).toMatchObject({ model_id: "bridge-rules", profiles: ["*"] });

    const db = tempDb();
    await register(db, "bridge", ["--verify", "--url", rt.url]);
    const res = await ws(db, ["run", "exec", writeFile(dir, "bridge.json", spec("bridge-1", "bridge"))]);
    const result = json<Result>(res);
    expect(res.code).toBe(0);
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "ARCH" });
    expect(result.conclusions.map((c) => c.output?.decision).sort()).toEqual(["ARCH", "ARCH", "BEAM"]);
    expect(readFileSync(verifyLog, "utf8").trim().split("\n")).toHaveLength(3);
    expect(await rt.stop()).toBe(0);
    expect(rt.stderr()).toMatch(/runtime: stopped/);
  });

  it("compatibility: an original-style runtime ({answer, confidence, check_summary}) decides with vote_on answer", async () => {
    const handler = writeFile(
      dir,
      "original.mjs",
      `export async function execute(request) {
  const answer = request.inputs.agent_id === "c" ? "Use a beam bridge" : "use an ARCH bridge ";
  return { answer, confidence: 0.8, check_summary: { checks: 3, passed: 3 } };
}`,
    );
    const rt = await startCliRuntime(["--handler", handler]);
    const db = tempDb();
    await register(db, "orig", ["--url", rt.url]);

    const byAnswer = spec("compat-answer", "orig", { aggregation: { vote_on: "answer" } });
    const res = await ws(db, ["run", "exec", writeFile(dir, "compat-answer.json", byAnswer)]);
    expect(res.code).toBe(0);
    const result = json<Result>(res);
    // Answers are compared case- and space-insensitively, so two agents agree.
    expect(result.status).toBe("FINALIZED");
    expect(result.final_decision).toBe("USE AN ARCH BRIDGE");
    expect(result.conclusions[0]?.output).toMatchObject({ check_summary: { checks: 3 } });

    // The same runtime under the default vote_on decision has no ballot at all: nothing meaningful comes out.
    const byDecision = spec("compat-decision", "orig", {
      aggregation: { null_policy: { chain: ["FINALIZE_NULL"] } },
    });
    const nullRun = json<Result>(
      await ws(db, ["run", "exec", writeFile(dir, "compat-dec.json", byDecision)]),
    );
    expect(nullRun.final_decision).toBeNull();
  });

  it("without a handler or model: the simulated agent, labelled in /capabilities", async () => {
    const rt = await startCliRuntime([], {
      WATTSWARM_LLM_BASE_URL: "",
      WATTSWARM_LLM_MODEL: "",
      OPENAI_BASE_URL: "",
      OPENAI_MODEL: "",
    });
    expect(rt.stderr()).toMatch(/SIMULATED agent/);
    expect(await (await fetch(`${rt.url}/capabilities`)).json()).toMatchObject({
      provider_family: "sim",
      simulated: true,
    });
    const db = tempDb();
    await register(db, "simrt", ["--url", rt.url]);
    const simSpec = spec("sim-rt", "simrt", {
      shared_inputs: { _sim: { accuracy: 1, truth: "YES", options: ["YES", "NO"] } },
    });
    const result = json<Result>(await ws(db, ["run", "exec", writeFile(dir, "sim-rt.json", simSpec)]));
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "YES" });
  });

  it("with WATTSWARM_LLM_BASE_URL + WATTSWARM_LLM_MODEL: answers from the model", async () => {
    const fake = await startFakeOpenAI([
      completion({ decision: "beam", answer: "Beam is cheaper", confidence: 0.6 }),
    ]);
    fakes.push(fake);
    const rt = await startCliRuntime([], {
      WATTSWARM_LLM_BASE_URL: fake.baseUrl,
      WATTSWARM_LLM_MODEL: "fake-llm",
      WATTSWARM_LLM_API_KEY: "sk-runtime-key",
    });
    expect(rt.stderr()).toMatch(/model fake-llm at http/);
    expect(await (await fetch(`${rt.url}/capabilities`)).json()).toMatchObject({
      provider_family: "openai-compatible",
      model_id: "fake-llm",
      simulated: false,
    });
    const db = tempDb();
    await register(db, "llmrt", ["--url", rt.url]);
    const result = json<Result>(
      await ws(db, ["run", "exec", writeFile(dir, "llm-rt.json", spec("llm-rt", "llmrt"))]),
    );
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "BEAM" });
    expect(fake.calls()[0]?.headers.authorization).toBe("Bearer sk-runtime-key");
  });

  it("WATTSWARM_RUNTIME_TOKEN: a bearer token is required, an executor with --bearer-env sends it; --allowed-host passes", async () => {
    const handler = writeFile(dir, "token-agent.mjs", `export const execute = () => ({ decision: "ARCH" });`);
    const rt = await startCliRuntime(["--handler", handler, "--allowed-host", "Agents.Internal"], {
      WATTSWARM_RUNTIME_TOKEN: "cli-rt-token",
    });
    expect(rt.stderr()).toMatch(/; bearer token required\)\n/);
    expect(rt.stderr()).not.toMatch(/warning/);
    const port = Number(new URL(rt.url).port);
    expect((await send(port, "/health")).status).toBe(200);
    expect((await send(port, "/capabilities")).status).toBe(401);
    const auth = { authorization: "Bearer cli-rt-token" };
    expect((await send(port, "/capabilities", { headers: auth })).status).toBe(200);
    expect(
      (await send(port, "/capabilities", { headers: { ...auth, host: "agents.internal:8787" } })).status,
    ).toBe(200);
    expect((await send(port, "/capabilities", { headers: { ...auth, host: "evil.example" } })).status).toBe(
      403,
    );

    const db = tempDb();
    await register(db, "locked", ["--url", rt.url, "--bearer-env", "WS_CLI_RT_TOKEN"]);
    const file = writeFile(dir, "locked.json", spec("locked-1", "locked"));
    const res = await ws(db, ["run", "exec", file], { env: { WS_CLI_RT_TOKEN: "cli-rt-token" } });
    expect(json<Result>(res)).toMatchObject({ status: "FINALIZED", final_decision: "ARCH" });
  });

  it("a non-loopback --host without a token: one warning line on stderr", async () => {
    const rt = await startCliRuntime(["--host", "0.0.0.0"], { WATTSWARM_RUNTIME_TOKEN: "" });
    // The warning follows the listening line; a SIGTERM sent in between would end the process first.
    await expect.poll(() => rt.stderr(), { timeout: 10_000 }).toContain("runtime: warning:");
    await rt.stop();
    const warnings = rt
      .stderr()
      .split("\n")
      .filter((line) => line.includes("warning"));
    expect(warnings).toEqual([
      "runtime: warning: 0.0.0.0 is not loopback and no token is set: anyone who can reach it can use the agent (set WATTSWARM_RUNTIME_TOKEN)",
    ]);
  });

  it("a malformed --allowed-host is a usage error (exit 2)", async () => {
    const res = await ws(tempDb(), ["runtime", "--port", "0", "--allowed-host", "example.com:8080"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/without a port/);
  });

  it("a bad --handler is a usage error (exit 2)", async () => {
    const bad = writeFile(dir, "no-execute.mjs", "export const x = 1;");
    const res = await ws(tempDb(), ["runtime", "--port", "0", "--handler", bad]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/exports no execute\(request\) function/);
  });
});

/** One agent on a fresh store, on an openai executor at `fake` whose key is in WS_E2E_KEY, through run exec. */
async function execSolo(fake: FakeOpenAI, runId: string, key: string) {
  const db = tempDb();
  await register(db, "gpt", [
    "--openai",
    "--model",
    "fake-llm",
    "--base-url",
    fake.baseUrl,
    "--api-key-env",
    "WS_E2E_KEY",
  ]);
  const panel = {
    ...spec(runId, "gpt"),
    agents: [{ agent_id: "solo", prompt: "Pick one.", executor: "gpt" }],
  };
  const res = await ws(db, ["run", "exec", writeFile(dir, `${runId}.json`, panel)], {
    env: { WS_E2E_KEY: key },
  });
  return { db, res };
}

describe("openai executor through run exec", () => {
  it("500 then success is retried; usage is stored; the key comes from the named env var and is in no row", async () => {
    const key = "sk-e2e-secret-do-not-store-7f3a";
    const fake = await startFakeOpenAI([
      { status: 500, body: "overloaded" },
      completion({ decision: "ARCH", answer: "Arches carry load well", confidence: 0.9 }),
    ]);
    fakes.push(fake);
    const { db, res } = await execSolo(fake, "llm-run", key);
    const result = json<Result>(res);
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "ARCH" });
    expect(result.conclusions[0]?.attempt).toBe(2);
    expect(fake.calls().map((c) => c.headers.authorization)).toEqual([`Bearer ${key}`, `Bearer ${key}`]);

    const rows = allRows(db);
    expect(rows.filter((r) => r.includes(key))).toEqual([]);
    expect(res.stderr).not.toContain(key);
    const attempts = rows.filter((r) => r.startsWith("run_step_attempts:"));
    expect(attempts.some((r) => r.includes("HTTP_5XX") && r.includes("overloaded"))).toBe(true);
    expect(attempts.some((r) => r.includes('\\"total_tokens\\":49'))).toBe(true);
    expect(rows.some((r) => r.startsWith("executors:") && r.includes("WS_E2E_KEY"))).toBe(true);
  });

  it("a successful reply that quotes the key is stored with *** in its place", async () => {
    const key = "sk-e2e-quoted-in-answer-91c2";
    const fake = await startFakeOpenAI([
      completion({ decision: "BEAM", answer: `My key is ${key}, so BEAM`, confidence: 0.6, notes: [key] }),
    ]);
    fakes.push(fake);
    const { db, res } = await execSolo(fake, "llm-quote", key);
    const result = json<Result>(res);
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "BEAM" });
    expect(result.conclusions[0]?.output).toMatchObject({ answer: "My key is ***, so BEAM", notes: ["***"] });
    expect(res.stdout).not.toContain(key);
    const rows = allRows(db);
    expect(rows.filter((r) => r.includes(key))).toEqual([]);
    expect(rows.some((r) => r.startsWith("run_step_attempts:") && r.includes("My key is ***"))).toBe(true);
  });
});
