// Runs the minimal runtime printed in docs/executors.md, so the page cannot drift from the protocol.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { HttpExecutor } from "../../src/executors/http.js";
import { createRuntime } from "../../src/runtime/server.js";
import type { RuntimeHandler } from "../../src/runtime/types.js";
import { unusedUrl } from "../support/http-runtime.js";
import { makeAttempt, never } from "./helpers.js";

const docPath = new URL("../../docs/executors.md", import.meta.url);

function docBlock(tag: string): string {
  const match = new RegExp(`\`\`\`js ${tag}\\n([\\s\\S]*?)\`\`\``).exec(readFileSync(docPath, "utf8"));
  if (!match?.[1]) throw new Error(`docs/executors.md has no \`\`\`js ${tag} block`);
  return match[1];
}

function runtimeExample(): string {
  return docBlock("runtime-example");
}

let child: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), "ws-runtime-example-"));
afterAll(() => {
  child?.kill();
  rmSync(dir, { recursive: true, force: true });
});

async function waitHealthy(url: string): Promise<void> {
  const started = Date.now();
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 5000) throw new Error("the example runtime did not start");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("docs/executors.md minimal runtime", () => {
  it("answers the http executor", async () => {
    const file = join(dir, "runtime.mjs");
    writeFileSync(file, runtimeExample());
    const url = await unusedUrl();
    child = spawn(process.execPath, [file], {
      env: { ...process.env, PORT: new URL(url).port },
      stdio: "ignore",
    });
    await waitHealthy(url);
    const ex = new HttpExecutor("my-rt", { url });
    const { request, ctx } = makeAttempt({ inputs: { topic: "risk review" } });
    expect(await ex.execute(request, ctx, never())).toEqual({
      ok: true,
      response: { candidate_output: { decision: "REJECT", answer: "REJECT", confidence: 0.7 } },
    });
    expect((await ex.check()).ok).toBe(true);
  });
});

describe("docs/executors.md agent in 20 lines", () => {
  it("is a handler module createRuntime serves, verify included", async () => {
    const code = docBlock("agent-handler");
    expect(code.trim().split("\n").length).toBeLessThanOrEqual(20);
    const file = join(dir, "agent.mjs");
    writeFileSync(file, code);
    const agent = (await import(pathToFileURL(file).href)) as RuntimeHandler;
    const runtime = createRuntime(agent);
    const url = await runtime.listen(0);
    try {
      const ex = new HttpExecutor("agent", { url, verify: true });
      const { request, ctx } = makeAttempt({
        inputs: { question: "Restart after the outage?", decision_options: ["GO", "WAIT"] },
      });
      expect(await ex.execute(request, ctx, never())).toEqual({
        ok: true,
        response: {
          candidate_output: {
            decision: "WAIT",
            answer: "WAIT: the task mentions a known risk",
            confidence: 0.8,
          },
        },
      });
      expect(await ex.check()).toMatchObject({ ok: true, capabilities: { model_id: "rules-v2" } });
    } finally {
      await runtime.close(100);
    }
  });
});
