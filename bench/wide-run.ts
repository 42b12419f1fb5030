// Wide runs (issue 15, defect 3): does a step of a run with many agents and large outputs cost what a step
// of a smaller run costs? One run of N agents, each answering 100 KiB through a real http runtime, executed by
// one worker process (concurrency 64) whose peak RSS and statements are measured. Writes bench/last-wide.json
// and the "Wide runs" section of docs/benchmarks.md.
//   npm run bench:wide                 # N = 200 and 1000
//   npm run bench:wide -- 100 400      # other sizes
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { createRuntime, getRunView, openStore, submitRun, validateRunSpec } from "../src/index.js";
import { dropSchema, log, PG_URL, schemaName } from "./bench-env.js";
import { type WideRow, wideMarkdown } from "./wide-report.js";

const OUTPUT_BYTES = 100 * 1024;
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const N = sizes.length > 0 ? sizes : [200, 1000];

// The bulk is in a field of its own: a short answer, as most agents give, and 100 KiB of supporting detail.
const detail = "w".repeat(OUTPUT_BYTES);
const runtime = createRuntime(async () => ({ decision: "A", answer: "a", confidence: 0.9, detail }), {
  log: () => {},
});
const url = await runtime.listen(0, "127.0.0.1");

async function measure(n: number): Promise<WideRow> {
  const schema = schemaName(`wide_${n}`);
  await dropSchema(schema);
  const store = await openStore({ kind: "postgres", url: PG_URL, schema, source: "flag" });
  await store.migrate();
  await store.upsertExecutor({ name: "wide", kind: "http", config: { url, timeout_ms: 120_000 } });
  const checked = validateRunSpec({
    run_id: `wide-${n}`,
    shared_inputs: { topic: "wide" },
    agents: Array.from({ length: n }, (_, i) => ({ agent_id: `a${i}`, prompt: "p", executor: "wide" })),
  });
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  await submitRun(store, checked.spec, true);
  const child = spawn(
    process.execPath,
    ["--import", "tsx", fileURLToPath(new URL("wide-worker.ts", import.meta.url))],
    {
      env: { ...process.env, WIDE_PG_URL: PG_URL, WIDE_PG_SCHEMA: schema },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c.toString("utf8");
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`worker exited ${code}`);
  const w = JSON.parse(out.trim().split("\n").pop() ?? "{}") as {
    completed: number;
    seconds: number;
    baselineRss: number;
    peakRss: number;
    atPeak: NodeJS.MemoryUsage;
    queries: number;
  };
  const view = await getRunView(store, `wide-${n}`);
  await store.close();
  await dropSchema(schema);
  if (view.status !== "FINALIZED") throw new Error(`wide-${n} ended ${view.status}`);
  const row: WideRow = {
    agents: n,
    outputKiB: OUTPUT_BYTES / 1024,
    seconds: w.seconds,
    msPerStep: (w.seconds * 1000) / n,
    statements: w.queries,
    statementsPerStep: w.queries / n,
    peakRssMb: w.peakRss / 2 ** 20,
    baselineRssMb: w.baselineRss / 2 ** 20,
    peakHeapUsedMb: w.atPeak.heapUsed / 2 ** 20,
    peakExternalMb: w.atPeak.external / 2 ** 20,
  };
  log(
    `wide ${n} × ${row.outputKiB} KiB: ${row.seconds.toFixed(1)} s, ${row.msPerStep.toFixed(2)} ms/step, ` +
      `${row.statements} statements (${row.statementsPerStep.toFixed(2)}/step), peak RSS ${row.peakRssMb.toFixed(0)} MB`,
  );
  return row;
}

const rows: WideRow[] = [];
for (const n of N) rows.push(await measure(n));
await runtime.close();
const saved = {
  date: new Date().toISOString().slice(0, 10),
  cpus: cpus().length,
  load: loadavg().map((l) => Number(l.toFixed(2))),
  rows,
};
writeFileSync(new URL("last-wide.json", import.meta.url), `${JSON.stringify(saved, null, 2)}\n`);
const docUrl = new URL("../docs/benchmarks.md", import.meta.url);
const doc = readFileSync(docUrl, "utf8");
const section = wideMarkdown(saved);
const start = doc.indexOf("<!-- wide-runs -->");
const end = doc.indexOf("<!-- /wide-runs -->");
writeFileSync(
  docUrl,
  start >= 0 && end > start
    ? `${doc.slice(0, start)}${section}${doc.slice(end + "<!-- /wide-runs -->".length)}`
    : `${doc.trimEnd()}\n\n${section}\n`,
);
log("wrote bench/last-wide.json and the Wide runs section of docs/benchmarks.md");
