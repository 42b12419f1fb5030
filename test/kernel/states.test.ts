// The transition table (src/store/transitions.ts, read by the kernel through src/kernel/states.ts) holds only
// transitions some code path applies: each entry is named by the kernel or by the adapters' SQL, which is
// composed from the table. And the guards built from it report a mismatch instead of ignoring it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  GuardMismatchError,
  LEASE_CLOSES,
  moveRun,
  moveRunSteps,
  moveSteps,
  RUN_TRANSITIONS,
  STEP_TRANSITIONS,
} from "../../src/kernel/states.js";
import type { RunTx } from "../../src/store/run-port.js";
import { sqlLeaseClosePair, sqlStatusIs } from "../../src/store/transitions.js";

const SRC = new URL("../../src/", import.meta.url).pathname;
const TABLE = join(SRC, "store/transitions.ts");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") && path !== TABLE ? [path] : [];
  });
}

const code = sources(SRC).map((path) => ({ path, text: readFileSync(path, "utf8") }));

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Where code outside the table names a transition: `RUN_TRANSITIONS.start`, `STEP_TRANSITIONS[… "claim" …]`, a
 * call of the kernel's guarded helpers with its name (`moveRun(tx, id, "kickoff", …)`, `canStep("retry", …)`),
 * or a function typed to return a transition name (`…): StepTransition {` … `"complete"` … `}`).
 */
function uses(kind: "Run" | "Step", name: string): string[] {
  const table = kind === "Run" ? "RUN_TRANSITIONS" : "STEP_TRANSITIONS";
  const calls = kind === "Run" ? "moveRun|canRun" : "moveSteps|moveRunSteps|moveStepsWithInputs|canStep";
  const lit = `"${escapeRe(name)}"`;
  const patterns = [
    new RegExp(`\\b${table}\\.${escapeRe(name)}\\b`),
    new RegExp(`\\b${table}\\[[^\\]]*${lit}`),
    new RegExp(`\\b(?:${calls})\\([^;]*?${lit}`),
  ];
  const returning = new RegExp(`\\): ${kind}Transition \\{[\\s\\S]*?\\n\\}`, "g");
  return code
    .filter(
      ({ text }) =>
        patterns.some((p) => p.test(text)) || [...text.matchAll(returning)].some((m) => m[0].includes(lit)),
    )
    .map(({ path }) => path.slice(SRC.length));
}

describe("the transition table", () => {
  it.each(Object.keys(RUN_TRANSITIONS))("run transition %s is applied by some code path", (name) => {
    expect(uses("Run", name)).not.toEqual([]);
  });

  it.each(Object.keys(STEP_TRANSITIONS))("step transition %s is applied by some code path", (name) => {
    // The lease-closing transitions are applied by RunTx.closeLeases, whose SQL guard is composed from
    // LEASE_CLOSES: those count, and must be named by the kernel too (it chooses the one to apply).
    const found = uses("Step", name);
    expect(found).not.toEqual([]);
    if (LEASE_CLOSES.includes(name as never))
      expect(found.some((path) => path.startsWith("kernel/"))).toBe(true);
  });

  it("the scan finds nothing for a name that is not there", () => {
    expect(uses("Run", "nope")).toEqual([]);
    expect(uses("Step", "nope")).toEqual([]);
  });

  it("the lease closes are the transitions out of the lease-held status that keep no lease", () => {
    const fromLeased = Object.entries(STEP_TRANSITIONS)
      .filter(([, t]) => t.from.includes(STEP_TRANSITIONS.claim.to))
      .map(([name]) => name);
    // release and cancel end leases too, as guarded updates of their own.
    expect(fromLeased.filter((n) => !LEASE_CLOSES.includes(n as never)).sort()).toEqual([
      "cancel",
      "release",
    ]);
  });

  it("composes SQL guards from the table, as the migrations' partial index predicates write them", () => {
    expect(sqlStatusIs("status", STEP_TRANSITIONS.claim.from)).toBe("status IN ('QUEUED', 'RETRY_WAIT')");
    expect(sqlStatusIs("status", [STEP_TRANSITIONS.claim.to])).toBe("status = 'LEASED'");
    expect(sqlLeaseClosePair("s.status", "u.status")).toBe(
      "(s.status, u.status) IN (VALUES ('LEASED', 'SUCCEEDED'), ('LEASED', 'RETRY_WAIT'), ('LEASED', 'FAILED'))",
    );
    expect(() => sqlStatusIs("status", ["x' OR 1=1 --"])).toThrow(/not a status/);
  });
});

/** A RunTx whose guarded updates match `n` rows, recording what they were asked. */
function fakeTx(n: number): { tx: RunTx; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const record =
    <T>(name: string, result: T) =>
    async (...args: unknown[]) => {
      calls.push([name, ...args]);
      return result;
    };
  const tx = {
    updateRun: record("updateRun", n > 0),
    updateSteps: record("updateSteps", n),
    updateRunSteps: record("updateRunSteps", n),
  } as unknown as RunTx;
  return { tx, calls };
}

describe("guarded moves", () => {
  it("take the from-set and the target status from the table", async () => {
    const { tx, calls } = fakeTx(1);
    await moveRun(tx, "r1", "retry", { error_text: null });
    await moveSteps(tx, "r1", ["s1"], "release", { attempt: 0 });
    expect(calls).toEqual([
      ["updateRun", "r1", ["FAILED", "QUEUED", "RUNNING"], { error_text: null, status: "QUEUED" }],
      ["updateSteps", ["s1"], ["LEASED"], { attempt: 0, status: "QUEUED" }],
    ]);
  });

  it("report a guard that matched fewer rows than expected, with the rows and the from-set", async () => {
    const { tx } = fakeTx(0);
    await expect(moveRun(tx, "r1", "kickoff")).rejects.toThrow(
      new GuardMismatchError("run r1: run kickoff guard matched 0 of 1 (expected status in [CREATED])"),
    );
    await expect(moveSteps(tx, "r1", ["s1", "s2"], "retry")).rejects.toThrow(
      "run r1: steps s1, s2: step retry guard matched 0 of 2 (expected status in [FAILED, RETRY_WAIT])",
    );
    await expect(moveRunSteps(tx, "r1", "kickoff", 3)).rejects.toBeInstanceOf(GuardMismatchError);
  });
});
