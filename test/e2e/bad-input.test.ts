// Bad input at the command line: each case has its exit code (SPEC §7: 1 operational, 2 usage/validation,
// 3 not found, 4 invalid state/conflict), one `error:` line on stderr, no stack trace, and changes nothing.
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import {
  describeStores,
  expectExit,
  expectOneLineError,
  json,
  type StoreTarget,
  seedSpec,
  writeSpec,
  ws,
} from "./helpers.js";

/** Everything stored: runs, their steps, attempts and events, and executors (read through the library). */
async function snapshot(store: StoreTarget): Promise<string> {
  const lib = store.open();
  const runs = await lib.listRuns({ limit: 1000 });
  const parts: unknown[] = [runs, await lib.listExecutors()];
  for (const r of runs) {
    parts.push(await lib.getSteps(r.run_id), await lib.getAttempts(r.run_id));
    parts.push(await lib.listEvents(r.run_id, { limit: 1000 }));
  }
  return JSON.stringify(parts);
}

describeStores("bad input", (suite) => {
  let store: StoreTarget;
  let before: string;

  beforeAll(async () => {
    store = suite.fresh();
    // One finished run and one created run to conflict with.
    const { file } = writeSpec(seedSpec("done-1", "sim"));
    expectExit(await ws(store, ["run", "exec", file]), 0);
    const created = writeSpec(seedSpec("created-1", "sim"));
    expectExit(await ws(store, ["run", "submit", created.file]), 0);
    before = await snapshot(store);
  }, 30_000);

  async function expectUnchanged(): Promise<void> {
    expect(await snapshot(store)).toBe(before);
  }

  it("malformed JSON file → 2", async () => {
    const { file } = writeSpec('{"run_id": "x", "agents": [', "broken.json");
    const res = await ws(store, ["run", "submit", file, "--kickoff"]);
    expectExit(res, 2);
    expect(res.stderr).toMatch(/^error: .*broken\.json is not a valid run spec/m);
    expect(res.stderr).toMatch(/invalid JSON/);
    expect(res.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    expect(res.stdout).toBe("");
    await expectUnchanged();
  });

  it("invalid spec → 2 with every problem and its path", async () => {
    const spec = {
      run_id: "bad id!",
      shared_inputs: {},
      agents: [
        { agent_id: "a", prompt: "p", executor: "sim" },
        { agent_id: "a", prompt: "p", executor: "sim", wieght: 2 },
      ],
      aggregation: { tie_policy: { chain: ["STOCASTIC"] } },
    };
    const { file } = writeSpec(spec);
    const res = await ws(store, ["run", "submit", file]);
    expectExit(res, 2);
    expect(res.stdout).toBe("");
    const errors = res.stderr.split("\n").filter((l) => l.startsWith("error: "));
    expect(errors).toHaveLength(1);
    expect(res.stderr).toMatch(/^ {2}- run_id: /m);
    expect(res.stderr).toMatch(/^ {2}- agents\[1\]\.agent_id: duplicate "a"/m);
    expect(res.stderr).toMatch(/^ {2}- agents\[1\]\.wieght: .*did you mean weight/m);
    expect(res.stderr).toMatch(
      /^ {2}- aggregation\.tie_policy\.chain\[0\]: .*STOCASTIC.*did you mean STOCHASTIC/m,
    );
    await expectUnchanged();
  });

  it("unknown executor → 2, telling how to register it", async () => {
    const { file } = writeSpec(seedSpec("unknown-exec", "x"));
    const res = await ws(store, ["run", "submit", file, "--kickoff"]);
    expectExit(res, 2);
    expect(res.stderr).toContain(
      'agents[0].executor: "x" is not registered; run: wattswarm executors add x --url <url>',
    );
    expectExit(await ws(store, ["run", "result", "unknown-exec"]), 3);
    await expectUnchanged();
  });

  it("duplicate run_id with a different spec → 4; an identical resubmit → 0, created false", async () => {
    const changed = { ...seedSpec("created-1", "sim"), task_type: "other" };
    const res = await ws(store, ["run", "submit", writeSpec(changed).file]);
    expectExit(res, 4);
    expectOneLineError(res, /^error: run "created-1" already exists with a different spec/);

    const same = await ws(store, ["run", "submit", writeSpec(seedSpec("created-1", "sim")).file]);
    expectExit(same, 0);
    expect(json(same)).toEqual({ ok: true, run_id: "created-1", kicked_off: false, created: false });
    await expectUnchanged();
  });

  it("unknown run for result, watch, cancel, retry, kickoff, events → 3", async () => {
    const commands = ["result", "watch", "cancel", "retry", "kickoff", "events"];
    const results = await Promise.all(commands.map((cmd) => ws(store, ["run", cmd, "no-such-run"])));
    for (const res of results) {
      expectExit(res, 3);
      expectOneLineError(res, /^error: run "no-such-run" not found$/);
    }
    await expectUnchanged();
  });

  it("cancel, retry or kickoff of a finished run → 4", async () => {
    const results = await Promise.all(
      ["cancel", "retry", "kickoff"].map((cmd) => ws(store, ["run", cmd, "done-1"])),
    );
    for (const res of results) {
      expectExit(res, 4);
      expectOneLineError(res, /done-1.*FINALIZED/);
    }
    await expectUnchanged();
  });

  it("usage errors → 2: unknown command, bad option value, missing argument", async () => {
    const cases = [
      ["run", "bogus"],
      ["run", "worker", "--concurrency", "0"],
      ["run", "worker", "--lease-ms", "1000", "--heartbeat-ms", "1000"],
      ["run", "events", "done-1", "--limit", "x"],
      ["run", "result"],
      ["run", "submit", "/no/such/file.json"],
    ];
    for (const res of await Promise.all(cases.map((args) => ws(store, args)))) {
      expectExit(res, 2);
      expectOneLineError(res);
    }
    await expectUnchanged();
  });
});

describe("bad store selection", () => {
  it("--pg-url together with --db → 2", async () => {
    const res = await runCli([
      "run",
      "list",
      "--pg-url",
      "postgres://postgres@127.0.0.1:5432/x",
      "--db",
      "/tmp/wattswarm-never.db",
    ]);
    expectExit(res, 2);
    expectOneLineError(res, /--pg-url or --db, not both/);
  });

  it("unreachable database → 1, naming the URL (without password) and how to start one", async () => {
    const res = await runCli([
      "run",
      "result",
      "analysis-run-001",
      "--pg-url",
      "postgres://postgres:secret@127.0.0.1:1/x",
    ]);
    expectExit(res, 1);
    const line = expectOneLineError(res);
    expect(line).toContain("postgres://postgres@127.0.0.1:1/x");
    expect(line).toMatch(/docker compose up -d postgres|start/i);
    expect(res.stderr).not.toContain("secret");
    const submit = await runCli([
      "run",
      "submit",
      writeSpec(seedSpec()).file,
      "--pg-url",
      "postgres://postgres@127.0.0.1:1/x",
    ]);
    expectExit(submit, 1);
    expectOneLineError(submit, /127\.0\.0\.1:1/);
  });

  it("a worker waits --startup-wait-ms for an unavailable store, retrying, then exits 1", async () => {
    const res = await runCli([
      "run",
      "worker",
      "--startup-wait-ms",
      "1000",
      "--pg-url",
      "postgres://postgres@127.0.0.1:1/x",
    ]);
    expectExit(res, 1);
    const retries = res.stderr.split("\n").filter((l) => l.startsWith("store unavailable ("));
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries[0]).toMatch(/retrying in 250 ms$/);
    expect(res.stderr).toMatch(
      /^error: cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/x/m,
    );
  });
});
