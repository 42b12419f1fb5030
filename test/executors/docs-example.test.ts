// Runs the minimal runtime printed in docs/executors.md, so the page cannot drift from the protocol.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HttpExecutor } from "../../src/executors/http.js";
import { unusedUrl } from "../support/http-runtime.js";
import { makeAttempt, never } from "./helpers.js";

const docPath = new URL("../../docs/executors.md", import.meta.url);

function runtimeExample(): string {
  const match = /```js runtime-example\n([\s\S]*?)```/.exec(readFileSync(docPath, "utf8"));
  if (!match?.[1]) throw new Error("docs/executors.md has no ```js runtime-example block");
  return match[1];
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
