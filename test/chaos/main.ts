// `npm run chaos`: the long chaos mode (test/chaos/chaos.ts) on PostgreSQL and SQLite, several rounds,
// printing each round's figures as one JSON line. Exit 1 when any invariant was violated.
//   npm run chaos -- [--short] [--rounds 3] [--store pg|sqlite|both] [--runs N] [--workers N]
// PostgreSQL: WATTSWARM_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test); with
// WATTSWARM_CHAOS_PG_RESTART=1 (long mode only) the server is restarted once per round with pg_ctlcluster, or the
// restart is skipped with a printed reason. docs/operations.md "Chaos testing" lists the figures.
import { parseArgs } from "node:util";
import { type ChaosOptions, LONG_MODE, runChaos, SHORT_MODE } from "./chaos.js";

const { values } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    rounds: { type: "string", default: "1" },
    store: { type: "string", default: "both" },
    runs: { type: "string" },
    workers: { type: "string" },
    "terminate-every-ms": { type: "string" },
    "kill-every-ms": { type: "string" },
  },
});

const base = values.short ? SHORT_MODE : LONG_MODE;
const mode = {
  ...base,
  ...(values.runs ? { runs: Number(values.runs) } : {}),
  ...(values.workers ? { workers: Number(values.workers) } : {}),
  ...(values["terminate-every-ms"] ? { terminateEveryMs: Number(values["terminate-every-ms"]) } : {}),
  ...(values["kill-every-ms"] ? { killEveryMs: Number(values["kill-every-ms"]) } : {}),
};
const pgUrl = process.env.WATTSWARM_TEST_PG_URL?.trim() || "postgres://postgres@127.0.0.1:5432/test";
const stores: ChaosOptions["store"][] = [];
if (values.store !== "sqlite") stores.push({ kind: "pg", url: pgUrl });
if (values.store !== "pg") stores.push({ kind: "sqlite" });

let failed = false;
for (let round = 1; round <= Number(values.rounds); round++) {
  for (const store of stores) {
    const log = (line: string) => process.stderr.write(`chaos[${round}/${store.kind}]: ${line}\n`);
    try {
      const report = await runChaos({ ...mode, store, log });
      process.stdout.write(`${JSON.stringify({ round, ...report })}\n`);
      if (report.problems.length > 0) failed = true;
    } catch (err) {
      log(`FAILED: ${(err as Error).message}`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
