// The examples under examples/ run exactly as their READMEs say (built CLI, temporary SQLite store).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/cli.js";
import { completion, type FakeOpenAI, startFakeOpenAI } from "../support/fake-openai.js";
import { unusedUrl } from "../support/http-runtime.js";
import { useTempSqlite } from "../support/sqlite.js";
import { json, ws } from "./helpers.js";

const tempDb = useTempSqlite();
const children: ChildProcess[] = [];
const fakes: FakeOpenAI[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill();
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

type Result = { status: string; final_decision: string | null; conclusions: { output: unknown }[] };

async function waitHealthy(url: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} never became healthy`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

describe("examples", () => {
  it("command-panel: three command agents, registered as the README says, reject the proposal", async () => {
    const db = tempDb();
    const dir = "examples/command-panel";
    for (const args of [
      ["panel-keywords", "--command", "node", `${dir}/keyword-agent.mjs`],
      [
        "panel-budget",
        "--timeout-ms",
        "10000",
        "--command",
        "node",
        `${dir}/budget-agent.mjs`,
        "--max-ratio",
        "0.9",
      ],
      ["panel-cautious", "--env", "CAUTION=high", "--command", "node", `${dir}/cautious-agent.mjs`],
    ]) {
      const res = await ws(db, ["executors", "add", ...args]);
      expect(res.code, res.stderr).toBe(0);
    }
    const stored = json<{ name: string; config: { argv: string[] } }[]>(await ws(db, ["executors", "list"]));
    expect(stored.find((e) => e.name === "panel-budget")?.config.argv).toEqual([
      "node",
      `${dir}/budget-agent.mjs`,
      "--max-ratio",
      "0.9",
    ]);
    const res = await ws(db, ["run", "exec", `${dir}/run-spec.json`]);
    const result = json<Result>(res);
    expect(res.code, res.stderr).toBe(0);
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "REJECT" });
    expect(JSON.stringify(result.conclusions)).toContain("sha256:");
  });

  it("runtime-agent: agent.mjs served with createRuntime answers the default rt executor", async () => {
    const url = await unusedUrl();
    const child = spawn(process.execPath, ["examples/runtime-agent/agent.mjs"], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: new URL(url).port },
      stdio: "ignore",
    });
    children.push(child);
    await waitHealthy(url);
    const res = await ws(tempDb(), ["run", "exec", "examples/runtime-agent/run-spec.json"], {
      env: { WATTSWARM_RUNTIME_URL: url },
    });
    expect(res.code, res.stderr).toBe(0);
    expect(json<Result>(res).status).toBe("FINALIZED");
    expect(["YES", "NO"]).toContain(json<Result>(res).final_decision);
  });

  it("llm-panel: explains itself without an endpoint, runs against one when configured", async () => {
    const noEnv = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(WATTSWARM_LLM_|OPENAI_)/.test(k)),
    );
    const idle = spawnSync(process.execPath, ["examples/llm-panel/run.mjs"], { cwd: REPO_ROOT, env: noEnv });
    expect(idle.status).toBe(0);
    expect(idle.stderr.toString()).toMatch(/no OpenAI-compatible endpoint is configured/);

    const fake = await startFakeOpenAI([
      completion({ decision: "keep_monolith", answer: "Too small a team to split.", confidence: 0.8 }),
    ]);
    fakes.push(fake);
    const db = tempDb();
    const run = spawn(process.execPath, ["examples/llm-panel/run.mjs", "--db", db], {
      cwd: REPO_ROOT,
      env: { ...noEnv, WATTSWARM_LLM_BASE_URL: fake.baseUrl, WATTSWARM_LLM_MODEL: "fake-llm" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(run);
    let stdout = "";
    run.stdout?.on("data", (b: Buffer) => {
      stdout += b.toString("utf8");
    });
    const code = await new Promise((resolve) => run.on("exit", resolve));
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Result;
    expect(result).toMatchObject({ status: "FINALIZED", final_decision: "KEEP_MONOLITH" });
    expect(fake.calls()).toHaveLength(3);
  });
});
