// The command executor with real child processes: stdin/stdout protocol, exit codes, stderr tails, limits,
// and the process group killed at the deadline or on cancel (grandchildren included).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CommandExecutor, type CommandExecutorConfig, commandEnv } from "../../src/executors/command.js";
import { runAttempt } from "../../src/executors/run-attempt.js";
import type { ExecutionOutcome } from "../../src/vocab.js";
import { makeTempDir } from "../support/sqlite.js";
import { makeAttempt, nested, never } from "./helpers.js";

const dir = makeTempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const READ_STDIN = `let raw = ""; for await (const c of process.stdin) raw += c; const req = JSON.parse(raw);`;

/** Writes an agent script and returns the config that runs it with this node. */
function agent(
  name: string,
  body: string,
  extra: Partial<CommandExecutorConfig> = {},
): CommandExecutorConfig {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, body);
  return { argv: [process.execPath, file], ...extra };
}

function run(config: CommandExecutorConfig, inputs?: Record<string, string>): Promise<ExecutionOutcome> {
  const { request, ctx } = makeAttempt(inputs ? { inputs } : {});
  return new CommandExecutor("cmd", config).execute(request, ctx, never());
}

function failed(outcome: ExecutionOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}

/** Alive and not a zombie (a killed orphan may wait for a reaper that never comes in a container). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function waitDead(pids: number[], ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (pids.some(alive)) {
    if (Date.now() > until) throw new Error(`still alive: ${pids.filter(alive).join(", ")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An agent that starts a sleeping grandchild, records both pids, then hangs. */
function hangingFamily(name: string): { config: CommandExecutorConfig; pidFile: string } {
  const pidFile = join(dir, `${name}.pids`);
  const config = agent(
    name,
    `import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
writeFileSync(${JSON.stringify(pidFile)}, JSON.stringify([process.pid, child.pid]));
setTimeout(() => {}, 60000);`,
  );
  return { config, pidFile };
}

async function pidsFrom(file: string): Promise<number[]> {
  const until = Date.now() + 5000;
  for (;;) {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as number[];
    } catch {
      if (Date.now() > until) throw new Error("the agent never wrote its pids");
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe("command executor: the protocol", () => {
  it("writes the ExecuteRequest to stdin and takes a bare output object from stdout", async () => {
    const config = agent(
      "echo",
      `${READ_STDIN}
process.stdout.write(JSON.stringify({ decision: req.inputs.topic, answer: req.task_id, confidence: 0.6, argv: process.argv.slice(2) }));`,
    );
    config.argv.push("--flag", "two words");
    const { request, ctx } = makeAttempt({ inputs: { topic: "BLUE" } });
    const outcome = await new CommandExecutor("cmd", config).execute(request, ctx, never());
    expect(outcome).toEqual({
      ok: true,
      response: { decision: "BLUE", answer: request.task_id, confidence: 0.6, argv: ["--flag", "two words"] },
    });
  });

  it("passes an ExecuteResponse through as is", async () => {
    const response = { candidate_output: { decision: "A" }, evidence_refs: [{ digest: "sha256:1" }] };
    const outcome = await run(agent("full", `console.log(${JSON.stringify(JSON.stringify(response))});`));
    expect(outcome).toEqual({ ok: true, response });
  });

  it("gives the child only PATH, HOME, LANG, TZ and the --env entries", async () => {
    process.env.WS_TEST_PASSED = "from-worker";
    process.env.WS_TEST_HIDDEN = "secret";
    try {
      const config = agent("env", `console.log(JSON.stringify({ decision: "A", env: process.env }));`, {
        env: ["WS_TEST_PASSED", "FIXED=given value", "WS_TEST_UNSET"],
      });
      const outcome = await run(config);
      if (!outcome.ok) throw new Error(outcome.error);
      const env = outcome.response.env as Record<string, string>;
      expect(env.WS_TEST_PASSED).toBe("from-worker");
      expect(env.FIXED).toBe("given value");
      expect(env.WS_TEST_HIDDEN).toBeUndefined();
      expect(Object.hasOwn(env, "WS_TEST_UNSET")).toBe(false);
      const allowed = ["PATH", "HOME", "LANG", "TZ", "WS_TEST_PASSED", "FIXED"];
      // Node itself may add nothing; anything else came from the worker by mistake.
      expect(Object.keys(env).filter((k) => !allowed.includes(k))).toEqual([]);
    } finally {
      delete process.env.WS_TEST_PASSED;
      delete process.env.WS_TEST_HIDDEN;
    }
  });

  it("reads --env NAME at call time, and K=V entries win in order", () => {
    expect(commandEnv(["A", "B=2", "A=3"], { PATH: "/bin", A: "1", OTHER: "x" })).toEqual({
      PATH: "/bin",
      A: "3",
      B: "2",
    });
  });

  it("reads all of a large answer written just before exiting", async () => {
    const config = agent(
      "large",
      `process.stdout.write(JSON.stringify({ decision: "A", pad: "z".repeat(900000) }), () => process.exit(0));`,
    );
    const outcome = await run(config);
    expect(outcome.ok && (outcome.response.pad as string).length).toBe(900000);
  });

  it("a program that never reads stdin still succeeds", async () => {
    const outcome = await run(agent("nostdin", `console.log('{"decision":"A"}');`));
    expect(outcome).toEqual({ ok: true, response: { decision: "A" } });
  });
});

describe("command executor: failures", () => {
  it("bad JSON on stdout → BAD_OUTPUT (retryable) with the stderr tail", async () => {
    const outcome = failed(
      await run(agent("badjson", `console.error("thinking hard"); console.log("I think A");`)),
    );
    expect(outcome.code).toBe("BAD_OUTPUT");
    expect(outcome.retryable).toBe(true);
    expect(outcome.error).toMatch(
      /^not JSON: .*\(stdout of command .*badjson\.mjs\); stderr: thinking hard$/,
    );
  });

  it("an array or nothing on stdout → BAD_OUTPUT", async () => {
    expect(failed(await run(agent("array", "console.log('[1]')"))).error).toMatch(
      /not an object: got an array/,
    );
    expect(failed(await run(agent("empty", ""))).error).toMatch(/^no output on stdout/);
  });

  it("an output nested over 64 levels → BAD_OUTPUT, not retried", async () => {
    const deep = JSON.stringify(nested(3000));
    const outcome = failed(await run(agent("deep", `process.stdout.write(${JSON.stringify(deep)});`)));
    expect(outcome).toMatchObject({ code: "BAD_OUTPUT", retryable: false });
    expect(outcome.error).toMatch(/^BAD_OUTPUT: candidate_output nested more than 64 levels \(limit 64\)/);
  });

  it("exit 65 is not retryable; other non-zero exits are, with the stderr tail kept", async () => {
    const sixtyFive = failed(await run(agent("exit65", `console.error("bad input"); process.exit(65);`)));
    expect(sixtyFive).toMatchObject({ code: "EXIT_CODE", retryable: false, details: { exit_code: 65 } });
    expect(sixtyFive.error).toMatch(/exited with code 65; stderr: bad input$/);
    const three = failed(await run(agent("exit3", `process.exit(3);`)));
    expect(three).toMatchObject({
      code: "EXIT_CODE",
      retryable: true,
      details: { exit_code: 3, signal: null },
    });
  });

  it("keeps only a bounded tail of a huge stderr", async () => {
    const config = agent(
      "noisy",
      `process.stderr.write("x".repeat(200000) + "THE END"); process.exitCode = 1;`,
    );
    const outcome = failed(await run(config));
    expect(Buffer.byteLength(outcome.error)).toBeLessThanOrEqual(8 * 1024);
    expect(outcome.error).toMatch(/stderr: …x+THE END$/);
  });

  it("stdout over 1 MiB → OUTPUT_TOO_LARGE naming the limit, and the process is killed", async () => {
    const config = agent(
      "huge",
      `import { writeFileSync } from "node:fs";
writeFileSync(${JSON.stringify(join(dir, "huge.pid"))}, String(process.pid));
const chunk = "a".repeat(65536);
const pump = () => { while (process.stdout.write(chunk)) {} process.stdout.once("drain", pump); };
pump();`,
    );
    const outcome = failed(await run(config));
    expect(outcome).toMatchObject({ code: "OUTPUT_TOO_LARGE", retryable: false });
    expect(outcome.error).toMatch(/^OUTPUT_TOO_LARGE: > 1 MiB \(stdout of command /);
    await waitDead([Number(readFileSync(join(dir, "huge.pid"), "utf8"))]);
  });

  it("a program that cannot start → EXECUTOR_INCOMPATIBLE, not retried", async () => {
    const outcome = failed(await run({ argv: ["wattswarm-no-such-program-xyz"] }));
    expect(outcome.code).toBe("EXECUTOR_INCOMPATIBLE");
    expect(outcome.retryable).toBe(false);
    expect(outcome.error).toMatch(/ENOENT/);
  });
});

describe("command executor: deadline and cancel kill the process group", () => {
  it("at the deadline: TIMEOUT, and the agent and its grandchild are gone", async () => {
    const { config, pidFile } = hangingFamily("timeout");
    const { request, ctx } = makeAttempt({ timeout_ms: 1500 });
    const started = Date.now();
    const outcome = await runAttempt(new CommandExecutor("cmd", config), request, ctx);
    expect(outcome).toMatchObject({ ok: false, code: "TIMEOUT", retryable: true });
    expect(Date.now() - started).toBeLessThan(4000);
    await waitDead(await pidsFrom(pidFile));
  });

  it("the executor's own timeout_ms cap also kills the group", async () => {
    const { config, pidFile } = hangingFamily("cap");
    const outcome = failed(await run({ ...config, timeout_ms: 800 }));
    expect(outcome.code).toBe("TIMEOUT");
    expect(outcome.error).toMatch(/no result within 800 ms \(executor timeout_ms/);
    await waitDead(await pidsFrom(pidFile));
  });

  it("on cancel: nothing recorded, and the whole group is killed", async () => {
    const { config, pidFile } = hangingFamily("cancel");
    const { request, ctx } = makeAttempt({ timeout_ms: 30_000 });
    const cancel = new AbortController();
    const running = runAttempt(new CommandExecutor("cmd", config), request, ctx, cancel.signal);
    const pids = await pidsFrom(pidFile);
    expect(pids.every(alive)).toBe(true);
    cancel.abort(new Error("run cancelled"));
    expect(await running).toEqual({ cancelled: true });
    await waitDead(pids);
  });
});

describe("command executor: check", () => {
  it("finds the program on PATH, or says it is missing", async () => {
    expect((await new CommandExecutor("c", { argv: ["node", "x.mjs"] }).check()).ok).toBe(true);
    const missing = await new CommandExecutor("c", { argv: ["wattswarm-no-such-program-xyz"] }).check();
    expect(missing.ok).toBe(false);
    expect(missing.error).toMatch(/not found or not executable/);
  });
});
