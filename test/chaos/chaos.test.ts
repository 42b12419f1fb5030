// The short chaos mode, run by `npm test` (and so by .ci/run): ~60 runs × 5 sim agents on 4 worker processes
// that are SIGKILLed and restarted, on PostgreSQL (own schema; the workers' connections are also terminated
// every 2.5 s) and SQLite. PostgreSQL itself is never restarted here: other test files share it.
// `npm run chaos` runs the long mode (test/chaos/main.ts).
import { describe, expect, it } from "vitest";
import { cliIsBuilt } from "../support/cli.js";
import { describePg } from "../support/pg.js";
import { type ChaosOptions, recoveryBoundMs, runChaos, SHORT_MODE } from "./chaos.js";

if (!cliIsBuilt()) throw new Error("dist/cli/main.js is missing: run `npm run build` before the chaos tests");

const log = (line: string) => process.stderr.write(`chaos: ${line}\n`);

async function chaosRound(store: ChaosOptions["store"]) {
  const report = await runChaos({ ...SHORT_MODE, store, log });
  log(JSON.stringify(report));
  expect(report.problems).toEqual([]);
  expect(report.runs).toBe(SHORT_MODE.runs);
  expect(report.kills).toBeGreaterThan(0);
  // Also among report.problems (per step); repeated here so a failure shows the figure.
  expect(report.max_kill_to_claimable_ms).toBeLessThanOrEqual(recoveryBoundMs(SHORT_MODE));
  return report;
}

describePg("chaos (short mode)", (pg) => {
  it("PostgreSQL: killed workers and terminated connections lose nothing and finalize once", async () => {
    const report = await chaosRound({ kind: "pg", url: pg.url });
    expect(report.connection_terminations).toBeGreaterThan(0);
    expect(report.unexpected_worker_exits).toBe(0);
  }, 90_000);
});

describe("chaos (short mode)", () => {
  it("SQLite: killed workers lose nothing and finalize once", async () => {
    await chaosRound({ kind: "sqlite" });
  }, 90_000);
});
