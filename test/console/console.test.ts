// The web console in a real browser: Debian's Chromium driven by playwright-core (never a downloaded browser),
// against `serve` in-process (SQLite temp store) with an in-process worker running sim agents.
// Without /usr/bin/chromium these tests are skipped loudly, unless WATTSWARM_REQUIRE_BROWSER=1 (.ci/run).
// Screenshots go to docs/img/ with WATTSWARM_UPDATE_SCREENSHOTS=1, to a temp dir otherwise.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "../../src/index.js";
import { buildApp } from "../../src/server/app.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/port.js";
import { makeTempDir } from "../support/sqlite.js";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const haveChromium = existsSync(CHROMIUM);
const required = process.env.WATTSWARM_REQUIRE_BROWSER === "1";
const shotsDir =
  process.env.WATTSWARM_UPDATE_SCREENSHOTS === "1" ? join(ROOT, "docs/img") : join(makeTempDir(), "img");

if (!haveChromium && !required) {
  console.warn(
    `\n${"!".repeat(78)}\n!! test/console SKIPPED: ${CHROMIUM} is missing. Install it with scripts/install-chromium.sh\n` +
      `!! (apt-get install -y chromium); WATTSWARM_REQUIRE_BROWSER=1 turns this skip into a failure.\n${"!".repeat(78)}\n`,
  );
}

interface Served {
  url: string;
  store: Store;
  close(): Promise<void>;
}

const cleanup: (() => Promise<void> | void)[] = [];
let consoleDir = "";
let browser: Browser;

/** `serve` over a fresh SQLite store, plus a worker (its `done` is awaited on close). */
async function serve(token?: string): Promise<Served> {
  const dir = makeTempDir();
  const store = await openStore({ kind: "sqlite", path: join(dir, "ws.db"), source: "flag" });
  await store.migrate();
  const app = buildApp(store, { token, consoleDir, logError: (m) => console.error(m) });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  const { worker, done } = startWorker(store, { concurrency: 2, pollMs: 25, shutdownGraceMs: 500 });
  const served: Served = {
    url,
    store,
    async close() {
      worker.stop();
      await done.catch(() => undefined);
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  cleanup.push(() => served.close());
  return served;
}

async function post(s: Served, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${s.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  cleanup.push(() => context.close());
  const page = await context.newPage();
  page.on("pageerror", (err) => console.error(`console page error: ${err.message}`));
  return page;
}

const agent = (id: string, truth: string, confidence: number, latency: number) => ({
  agent_id: id,
  prompt: `Review the proposal (${id}).`,
  executor: "sim",
  inputs: { _sim: { truth, options: ["APPROVE", "REJECT"], accuracy: 1, confidence, latency_ms: latency } },
});

// A browser beside the rest of the suite on two cores can take a while to start and render: 60 s per test.
describe.skipIf(!haveChromium && !required)("web console (Chromium)", { timeout: 60_000 }, () => {
  beforeAll(async () => {
    if (!haveChromium) throw new Error(`WATTSWARM_REQUIRE_BROWSER=1 but ${CHROMIUM} is missing`);
    // Build the console from source into a temp dir, so the test never sees a stale dist/console.
    const buildDir = makeTempDir();
    cleanup.push(() => rmSync(buildDir, { recursive: true, force: true }));
    consoleDir = join(buildDir, "console");
    await build({
      configFile: join(ROOT, "console/vite.config.ts"),
      logLevel: "error",
      build: { outDir: consoleDir, emptyOutDir: true },
    });
    mkdirSync(shotsDir, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    for (const fn of cleanup.reverse()) await fn();
    await browser?.close();
  }, 30_000);

  it("submits a spec, watches it finalize live in the runs list, and shows votes, resolution and decision", async () => {
    const s = await serve();
    const page = await newPage();
    await page.goto(`${s.url}/#/submit`);
    const spec = {
      run_id: "ui-live-1",
      task_type: "swarm",
      shared_inputs: { question: "Approve the Q3 budget?", decision_options: ["APPROVE", "REJECT"] },
      agents: [
        agent("cost-reviewer", "REJECT", 0.55, 700),
        agent("revenue-reviewer", "APPROVE", 0.9, 700),
        agent("delivery-reviewer", "APPROVE", 0.7, 700),
        agent("compliance-reviewer", "REJECT", 0.6, 700),
      ],
      aggregation: {
        mode: "all_done",
        vote_on: "decision",
        quorum: 2,
        tie_policy: { enabled_on: ["TIE"], chain: ["CONFIDENCE_WEIGHTED", "STOCHASTIC"] },
      },
    };
    await page.fill("[data-testid=spec-editor]", JSON.stringify(spec, null, 2));
    await page.click("[data-action=submit]");
    await expect.poll(() => page.textContent("[data-testid=submitted]")).toContain("ui-live-1");

    await page.click("header nav >> text=Runs");
    const badge = page.locator("tr[data-run-id=ui-live-1] [data-status]");
    // Live: the list shows the run before it is done, then FINALIZED without a reload.
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          seen.add((await badge.getAttribute("data-status")) ?? "");
          return [...seen];
        },
        { timeout: 20_000, interval: 100 },
      )
      .toContain("FINALIZED");
    expect([...seen].some((st) => st === "QUEUED" || st === "RUNNING")).toBe(true);
    await page.screenshot({ path: join(shotsDir, "console-runs.png") });

    await page.click("tr[data-run-id=ui-live-1] a");
    await expect.poll(() => page.textContent("[data-testid=final-decision]")).toBe("APPROVE");
    const approve = page.locator("[data-testid=votes] [data-candidate=APPROVE]");
    await expect.poll(() => approve.textContent()).toContain("2 votes");
    expect(await approve.getAttribute("class")).toContain("winner");
    expect(await page.locator("[data-testid=votes] [data-candidate=REJECT]").textContent()).toContain(
      "2 votes",
    );
    expect(await page.textContent("[data-testid=resolution-path]")).toContain("TIE_PATH");
    expect(await page.textContent("[data-testid=trace-tie_policy]")).toContain("CONFIDENCE_WEIGHTED");
    expect(await page.locator("[data-testid=steps] tbody tr").count()).toBe(4);
    expect(await page.locator("[data-testid=steps] [data-status=SUCCEEDED]").count()).toBe(4);
    await expect.poll(() => page.textContent("[data-testid=timeline]")).toContain("RUN_FINALIZED");
    await page.screenshot({ path: join(shotsDir, "console-run.png"), fullPage: true });

    // Feedback from the detail page.
    await page.fill("input[name=correct]", "APPROVE");
    await page.click("[data-action=feedback]");
    await expect.poll(() => page.textContent("[data-testid=action-result]")).toContain("feedback: ok");
  });

  it("shows the stochastic resolver's seed and index in the trace", async () => {
    const s = await serve();
    await post(s, "/api/runs", {
      kickoff: true,
      spec: {
        run_id: "ui-coin",
        shared_inputs: { topic: "coin" },
        agents: [agent("a", "APPROVE", 0.8, 0), agent("b", "REJECT", 0.8, 0)],
        aggregation: { mode: "all_done", tie_policy: { enabled_on: ["TIE"], chain: ["STOCHASTIC"] } },
      },
    });
    const page = await newPage();
    await page.goto(`${s.url}/#/runs/ui-coin`);
    await expect
      .poll(() => page.textContent("[data-testid=final-decision]"), { timeout: 15_000 })
      .toMatch(/^(APPROVE|REJECT)$/);
    const seed = await page.textContent("[data-testid=stochastic-seed]");
    expect(seed).toContain("ui-coin");
    expect(seed).toMatch(/· [01]$/);
  });

  it("cancels a slow run from its page while the timeline updates live", async () => {
    const s = await serve();
    await post(s, "/api/runs", {
      kickoff: true,
      spec: {
        run_id: "ui-slow",
        shared_inputs: { topic: "slow" },
        agents: [
          agent("a", "APPROVE", 0.8, 20_000),
          agent("b", "APPROVE", 0.8, 20_000),
          agent("c", "REJECT", 0.8, 20_000),
        ],
      },
    });
    const page = await newPage();
    await page.goto(`${s.url}/#/runs/ui-slow`);
    // STEP_LEASED events are written when an attempt ends; the page polls the counts meanwhile.
    await expect.poll(() => page.textContent("[data-testid=timeline]")).toContain("RUN_KICKOFF");
    await expect
      .poll(() => page.textContent("[data-testid=steps] .counts"), { timeout: 15_000 })
      .toContain("leased 2");
    expect(await page.locator("h1 ~ [data-status]").getAttribute("data-status")).toBe("RUNNING");
    await page.click("[data-action=cancel]");
    await expect.poll(() => page.textContent("[data-testid=action-result]")).toContain("cancel: ok");
    await expect.poll(() => page.locator("h1 ~ [data-status]").getAttribute("data-status")).toBe("CANCELLED");
    await expect.poll(() => page.textContent("[data-testid=timeline]")).toContain("RUN_CANCEL_REQUESTED");
    await expect.poll(() => page.textContent("[data-testid=timeline]")).toContain("STEP_CANCELLED");
    await expect.poll(() => page.textContent("[data-testid=timeline] h2")).toContain("ended");
    expect(await page.isDisabled("[data-action=cancel]")).toBe(true);
    const view = (await (await fetch(`${s.url}/api/runs/ui-slow`)).json()) as { status: string };
    expect(view.status).toBe("CANCELLED");
  });

  it("shows the API's validation errors inline on the submit page", async () => {
    const s = await serve();
    const page = await newPage();
    await page.goto(`${s.url}/#/submit`);
    await page.fill("[data-testid=spec-editor]", "{ not json");
    await page.click("[data-action=submit]");
    await expect.poll(() => page.textContent("[data-testid=spec-errors]")).toContain("not JSON");

    const bad = {
      run_id: "ui-bad",
      bogus: 1,
      agents: [{ agent_id: "a", prompt: "p", executor: "simx" }],
      aggregation: { quorum: 0 },
    };
    await page.fill("[data-testid=spec-editor]", JSON.stringify(bad, null, 2));
    await page.click("[data-action=submit]");
    const errors = page.locator("[data-testid=spec-errors]");
    await expect.poll(() => errors.textContent()).toContain("SPEC_INVALID");
    expect(await errors.locator("li[data-path='agents[0].executor']").textContent()).toContain(
      "not registered",
    );
    expect(await errors.locator("li[data-path=bogus]").textContent()).toContain("unknown key");
    await page.screenshot({ path: join(shotsDir, "console-submit-errors.png") });
    const runs = (await (await fetch(`${s.url}/api/runs`)).json()) as unknown[];
    expect(runs).toEqual([]);
  });

  it("lists executors with their health checks", async () => {
    const s = await serve();
    await post(s, "/api/executors", { name: "coin", kind: "sim", config: { accuracy: 0.5 } });
    await post(s, "/api/executors", { name: "gone", kind: "http", config: { url: "http://127.0.0.1:9/" } });
    const page = await newPage();
    await page.goto(`${s.url}/#/executors`);
    await expect
      .poll(() => page.textContent("tr[data-executor=coin] [data-testid=health]"))
      .toContain("healthy");
    await expect
      .poll(() => page.textContent("tr[data-executor=gone] [data-testid=health]"), { timeout: 15_000 })
      .toContain("unhealthy");
  });

  it("asks for the token when the server has one and sends it (header, and ?access_token= on the stream)", async () => {
    const s = await serve("s3cret");
    await fetch(`${s.url}/api/runs?kickoff=true`, {
      method: "POST",
      headers: { authorization: "Bearer s3cret", "content-type": "application/json" },
      body: JSON.stringify({
        run_id: "ui-auth",
        shared_inputs: { topic: "t" },
        agents: [agent("a", "APPROVE", 0.9, 0)],
      }),
    });
    const page = await newPage();
    await page.goto(`${s.url}/#/`);
    await page.waitForSelector("[data-testid=token-form]");
    await page.fill("input[name=token]", "s3cret");
    await page.click("[data-testid=token-form] button[type=submit]");
    await page.waitForSelector("tr[data-run-id=ui-auth]");
    expect(await page.evaluate("sessionStorage.getItem('wattswarm.token')")).toBe("s3cret");
    await page.click("tr[data-run-id=ui-auth] a");
    await expect
      .poll(() => page.textContent("[data-testid=timeline]"), { timeout: 15_000 })
      .toContain("RUN_FINALIZED");
    expect(await page.isVisible("[data-testid=token-form]")).toBe(false);
  });
});
