// `wattswarm spec validate|schema` through the built binary: exit codes, stdout JSON, stderr messages.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliIsBuilt, runCli } from "../support/cli.js";

const fixture = (rel: string) => `test/fixtures/specs/${rel}`;
const STACK_LINE = /^\s+at /m;

let tmp = "";
beforeAll(() => {
  if (!cliIsBuilt()) throw new Error("dist/cli/main.js is missing: run `npm run build` first");
  tmp = mkdtempSync(join(tmpdir(), "wattswarm-cli-"));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("wattswarm spec validate", () => {
  it("prints the defaulted seed spec as one JSON line and exits 0", async () => {
    const r = await runCli(["spec", "validate", "examples/seed/run-spec.json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, run_id: "analysis-run-001", agents: 3, warnings: [] });
    expect(out.spec.aggregation.quorum).toBe(2);
    expect(out.spec.agents[0]).toEqual({
      agent_id: "analyst-a",
      prompt: "Focus on geographic trends in the revenue data.",
      executor: "rt",
      profile: "default",
      weight: 1,
      priority: 0,
      timeout_ms: 120000,
      inputs: {},
    });
    expect(out.spec.aggregation.tie_policy.reputation_weighted).toEqual({ missing_reputation: "SKIP" });
  });

  it("reads the spec from stdin with -", async () => {
    const spec = {
      run_id: "from-stdin",
      shared_inputs: 1,
      agents: [{ agent_id: "a", prompt: "", executor: "sim" }],
    };
    const r = await runCli(["spec", "validate", "-"], { stdin: JSON.stringify(spec) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, run_id: "from-stdin", agents: 1 });
  });

  it("reports an invalid spec on stdout (JSON) and stderr (lines), exit 2, no stack trace", async () => {
    const r = await runCli(["spec", "validate", fixture("invalid/duplicate-agent.json")]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      issues: [{ path: "agents[2].agent_id", message: 'duplicate "analyst-a"' }],
    });
    expect(r.stderr).toBe(
      `error: ${fixture("invalid/duplicate-agent.json")} is not a valid run spec (1 problem)\n` +
        '  - agents[2].agent_id: duplicate "analyst-a"\n',
    );
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it("lists every problem of a spec with several", async () => {
    const several = await runCli(["spec", "validate", fixture("invalid/several-errors.json")]);
    expect(several.code).toBe(2);
    const issues = JSON.parse(several.stdout).issues as unknown[];
    expect(issues).toHaveLength(10);
    const lines = several.stderr.trim().split("\n");
    expect(lines[0]).toBe(
      `error: ${fixture("invalid/several-errors.json")} is not a valid run spec (10 problems)`,
    );
    expect(lines.slice(1)).toContain(
      '  - aggregation.tie_policy.chain[0]: unknown resolver "STOCASTIC" (did you mean STOCHASTIC?)',
    );
    expect(lines.slice(1)).toContain("  - feed_key: stigmergy runs are not supported");
    expect(lines).toHaveLength(11);
  });

  it("reports invalid JSON with its position", async () => {
    const r = await runCli(["spec", "validate", fixture("invalid/syntax-error.txt")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `  - ${fixture("invalid/syntax-error.txt")}: invalid JSON: unexpected "]" (trailing comma?) at line 6, column 3\n`,
    );
    const empty = await runCli(["spec", "validate", "-"], { stdin: "" });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("  - stdin: invalid JSON: empty input\n");
    const stdin = await runCli(["spec", "validate", "-"], { stdin: "{nope" });
    expect(stdin.code).toBe(2);
    expect(JSON.parse(stdin.stdout).issues[0].message).toBe(
      'stdin: invalid JSON: expected a double-quoted key, got "n" at line 1, column 2',
    );
  });

  it("refuses a non-object document", async () => {
    const r = await runCli(["spec", "validate", fixture("invalid/not-an-object.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("  - the run spec must be a JSON object, got array\n");
  });

  it("refuses a file over 1 MiB without parsing it, and the same on stdin", async () => {
    const file = join(tmp, "big.json");
    const body = `{"pad": "${"x".repeat(1024 * 1024)}"}`;
    writeFileSync(file, body);
    const r = await runCli(["spec", "validate", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`  - ${file}: spec too large: ${body.length} bytes (1 MiB) > limit 1 MiB\n`);
    const s = await runCli(["spec", "validate", "-"], { stdin: body });
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`  - stdin: spec too large: ${body.length} bytes (1 MiB) > limit 1 MiB\n`);
  });

  it("exits 2 with a one-line error for a file it cannot read", async () => {
    const r = await runCli(["spec", "validate", "missing.json"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe("error: cannot read missing.json: no such file or directory\n");
    const dir = await runCli(["spec", "validate", "examples"]);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toBe("error: cannot read examples: is a directory\n");
  });

  it("prints warnings on stderr and in the JSON", async () => {
    const r = await runCli(["spec", "validate", fixture("valid/quorum-zero.json")]);
    expect(r.code).toBe(0);
    const warning = "aggregation.quorum: 0 is read as no quorum (null); omit the field or set it to null";
    expect(JSON.parse(r.stdout).warnings).toEqual([warning]);
    expect(JSON.parse(r.stdout).spec.aggregation.quorum).toBeNull();
    expect(r.stderr).toBe(`warning: ${warning}\n`);
  });

  it("accepts --json anywhere and shows a stack trace only with --debug", async () => {
    const a = await runCli(["--json", "spec", "validate", fixture("valid/minimal.json")]);
    const b = await runCli(["spec", "validate", fixture("valid/minimal.json"), "--json"]);
    expect(a.code).toBe(0);
    expect(b.stdout).toBe(a.stdout);
    expect(JSON.parse(a.stdout).spec.shared_inputs).toBe("a plain string is allowed");
    const plain = await runCli(["spec", "validate", "missing.json"]);
    expect(plain.stderr).not.toMatch(STACK_LINE);
    const debug = await runCli(["--debug", "spec", "validate", "missing.json"]);
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/^error: cannot read missing.json: no such file or directory\n/);
    expect(debug.stderr).toMatch(STACK_LINE);
  });
});

describe("wattswarm spec schema", () => {
  it("prints the JSON Schema", async () => {
    const r = await runCli(["spec", "schema"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.required).toEqual(["run_id", "shared_inputs", "agents"]);
  });
});

describe("usage errors", () => {
  it.each([
    [["spec", "validat", "x.json"], "error: unknown command 'validat' (did you mean validate?)\n"],
    [["spec", "validate"], "error: missing required argument 'file'\n"],
    [["--nope", "spec", "schema"], "error: unknown option '--nope'\n"],
    [
      ["spec", "schema", "extra"],
      "error: too many arguments for 'schema'. Expected 0 arguments but got 1.\n",
    ],
  ])("%j exits 2 with one line", async (args, stderr) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(stderr);
  });

  it("exits 2 with help on stderr when a command group is given no command", async () => {
    const r = await runCli(["spec"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Usage: wattswarm spec");
  });

  it("prints help and the version with exit 0", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: wattswarm");
    const version = await runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("output format", () => {
  it("is pretty on a terminal unless --json is given, one line otherwise", async () => {
    const { printJson } = await import("../../src/cli/output.js");
    const written: string[] = [];
    const stdout = process.stdout as NodeJS.WriteStream & { isTTY: boolean };
    const { isTTY, write } = stdout;
    stdout.write = ((chunk: string) => written.push(chunk) > 0) as typeof stdout.write;
    try {
      stdout.isTTY = true;
      printJson({ a: [1] });
      printJson({ a: [1] }, { json: true });
      stdout.isTTY = false;
      printJson({ a: [1] });
    } finally {
      stdout.write = write;
      stdout.isTTY = isTTY;
    }
    expect(written).toEqual(['{\n  "a": [\n    1\n  ]\n}\n', '{"a":[1]}\n', '{"a":[1]}\n']);
  });
});
