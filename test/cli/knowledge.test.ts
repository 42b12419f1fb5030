// The knowledge-store commands through the built CLI: run feedback, run reaggregate, reputation list|show,
// with their exit codes for bad input (SPEC §7). Build first (`npm run build`).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliIsBuilt, runCli } from "../support/cli.js";
import { makeTempDir } from "../support/sqlite.js";

const dir = makeTempDir();
const db = join(dir, "cli.db");
const cli = (...args: string[]) => runCli([...args, "--db", db, "--json"]);
const json = (text: string) => JSON.parse(text) as Record<string, unknown>;

function specFile(runId: string, extra: Record<string, unknown> = {}): string {
  const file = join(dir, `${runId}.json`);
  const sim = (accuracy: number) => ({ _sim: { accuracy, truth: "A" } });
  writeFileSync(
    file,
    JSON.stringify({
      run_id: runId,
      task_type: "review",
      shared_inputs: {},
      agents: [
        { agent_id: "x", prompt: "", executor: "sim", inputs: sim(1) },
        { agent_id: "y", prompt: "", executor: "sim", inputs: sim(1) },
        { agent_id: "z", prompt: "", executor: "sim", inputs: sim(0) },
      ],
      ...extra,
    }),
  );
  return file;
}

describe.skipIf(!cliIsBuilt())("wattswarm run feedback | run reaggregate | reputation", () => {
  it("feedback updates reputation and replaces itself; reputation list/show print the rows", async () => {
    expect((await cli("run", "exec", specFile("k-1"))).code).toBe(0);
    const first = await cli("run", "feedback", "k-1", "--correct", " a ");
    expect(first.code).toBe(0);
    expect(json(first.stdout)).toEqual({
      ok: true,
      run_id: "k-1",
      correct: "A",
      previous: null,
      changed: true,
    });
    expect(json((await cli("run", "feedback", "k-1", "--correct", "A")).stdout)).toMatchObject({
      changed: false,
    });
    const show = await cli("reputation", "show", "z");
    expect(show.code).toBe(0);
    expect(json(show.stdout)).toMatchObject({
      agent_id: "z",
      units: 333,
      rows: [{ task_type: "*", wrong: 1 }, {}],
    });
    expect(json((await cli("run", "feedback", "k-1", "--correct", "B")).stdout)).toMatchObject({
      previous: "A",
    });
    expect(json((await cli("reputation", "show", "z")).stdout)).toMatchObject({ units: 667 });
    const list = JSON.parse((await cli("reputation", "list")).stdout) as {
      agent_id: string;
      task_type: string;
    }[];
    expect(list.map((r) => `${r.agent_id}/${r.task_type}`)).toEqual([
      "x/*",
      "x/review",
      "y/*",
      "y/review",
      "z/*",
      "z/review",
    ]);
  });

  it("reaggregate reproduces the stored result, applies another policy, and writes nothing", async () => {
    expect((await cli("run", "exec", specFile("k-2"))).code).toBe(0);
    const stored = json((await cli("run", "result", "k-2")).stdout);
    const same = await cli("run", "reaggregate", "k-2");
    expect(same.code).toBe(0);
    expect(json(same.stdout)).toEqual({ ...stored, would_reexplore: null });
    const policy = join(dir, "policy.json");
    writeFileSync(policy, JSON.stringify({ quorum: 3 }));
    const strict = json((await cli("run", "reaggregate", "k-2", "--policy", policy)).stdout);
    // A, A, B under quorum 3: QUORUM_NULL, and the null chain would start a round that was never run.
    expect(strict).toMatchObject({
      final_decision: null,
      would_reexplore: {
        chain: "NULL",
        signal: { type: "NEED_MORE_EVIDENCE", null_primary_kind: "QUORUM_NULL" },
      },
    });
    expect(json((await cli("run", "result", "k-2")).stdout)).toEqual(stored);
  });

  it("bad input: exit 2 (usage, invalid policy), 3 (unknown run or agent), 4 (run not FINALIZED)", async () => {
    const bad = join(dir, "bad-policy.json");
    writeFileSync(bad, JSON.stringify({ mode: "sometimes", tie_policy: { chain: ["STOCASTIC"] } }));
    expect((await cli("run", "exec", specFile("k-3"))).code).toBe(0);
    const invalid = await cli("run", "reaggregate", "k-3", "--policy", bad);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("aggregation.mode");
    expect(invalid.stderr).toContain("aggregation.tie_policy.chain[0]");
    writeFileSync(bad, "{ not json");
    expect((await cli("run", "reaggregate", "k-3", "--policy", bad)).code).toBe(2);
    expect((await cli("run", "reaggregate", "k-3", "--policy", join(dir, "missing.json"))).code).toBe(2);
    expect((await cli("run", "feedback", "k-3")).code).toBe(2); // --correct is required
    expect((await cli("run", "feedback", "k-3", "--correct", "   ")).code).toBe(2);
    expect((await cli("run", "feedback", "nope", "--correct", "A")).code).toBe(3);
    expect((await cli("run", "reaggregate", "nope")).code).toBe(3);
    const missing = await cli("reputation", "show", "nobody");
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("500 units");
    expect((await cli("run", "submit", specFile("k-4"))).code).toBe(0);
    const open = await cli("run", "feedback", "k-4", "--correct", "A");
    expect(open.code).toBe(4);
    expect(open.stderr).toContain("CREATED");
    expect((await cli("run", "reaggregate", "k-4")).code).toBe(4);
  });
});
