// The "Wide runs" section of docs/benchmarks.md, from bench/last-wide.json (bench/wide-run.ts); report.ts
// keeps it when it rewrites the page.
import { existsSync, readFileSync } from "node:fs";

export interface WideRow {
  agents: number;
  outputKiB: number;
  seconds: number;
  msPerStep: number;
  statements: number;
  statementsPerStep: number;
  peakRssMb: number;
  baselineRssMb: number;
  /** process.memoryUsage() at the RSS peak: the JavaScript heap in use, and memory off it (driver buffers). */
  peakHeapUsedMb?: number;
  peakExternalMb?: number;
}

export interface WideRun {
  date: string;
  cpus: number;
  load: number[];
  rows: WideRow[];
}

export function wideMarkdown(m: WideRun): string {
  const sorted = [...m.rows].sort((a, b) => a.agents - b.agents);
  const small = sorted[0];
  const large = sorted[sorted.length - 1];
  const lines = [
    "<!-- wide-runs -->",
    "## Wide runs (PostgreSQL)",
    "",
    `Measured ${m.date} with \`npm run bench:wide\` (${m.cpus} CPUs, load ${m.load.join(" ")} at the end). One run of N`,
    "agents, each returning 100 KiB (a short answer and a 100 KiB `detail` field) through a real http runtime",
    "(`createRuntime`, in the bench process), executed by",
    "one worker process (concurrency 64) whose statements and peak RSS are measured. A completion locks and reads",
    "only its own step (`runs.active_steps` says when the run is idle); the run's steps are read once, to aggregate",
    "it, each projected in SQL to what aggregation looks at, and the result is stored without copies of the",
    "outputs (`run result` reads them from the steps; docs/storage.md).",
    "",
    "| agents | output | wall time | ms per step | statements | per step | worker RSS (start → peak) | at the peak: heap, off-heap |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...sorted.map(
      (r) =>
        `| ${r.agents} | ${r.outputKiB} KiB | ${r.seconds.toFixed(1)} s | ${r.msPerStep.toFixed(2)} | ${r.statements} | ${r.statementsPerStep.toFixed(2)} | ${r.baselineRssMb.toFixed(0)} → ${r.peakRssMb.toFixed(0)} MB | ${r.peakHeapUsedMb?.toFixed(0) ?? "?"}, ${r.peakExternalMb?.toFixed(0) ?? "?"} MB |`,
    ),
  ];
  if (small && large && small !== large) {
    const ratio = large.msPerStep / small.msPerStep;
    const rssMet = large.peakRssMb <= 350;
    lines.push(
      "",
      `- Per step: the ${large.agents}-agent run costs ${ratio.toFixed(2)}× a step of the ${small.agents}-agent run ` +
        `(target ≤ 1.5×: ${ratio <= 1.5 ? "met" : "not met"}).`,
      `- Statements: ${small.statementsPerStep.toFixed(2)} → ${large.statementsPerStep.toFixed(2)} per step, a ` +
        "constant per step, so linear in N (group commit makes it fall as batches grow).",
      `- Worker peak RSS: ${large.peakRssMb.toFixed(0)} MB for ${large.agents} agents (target ≤ 350 MB: ` +
        `${rssMet ? "met" : "not met"}). The start is ${large.baselineRssMb.toFixed(0)} MB (the bench loads TypeScript ` +
        "through tsx); the rest is the completions in flight (64 × 100 KiB responses, their JSON, the driver's " +
        "buffers) and garbage not yet collected. The finalization no longer shows: before the projection and the " +
        "output-free result, reading the run's 100 MB of outputs, serializing them into `result_json` and copying " +
        "that into the driver's write buffer made the peak (552 MB, 98 MB of it off-heap, in this benchmark before the change).",
      "- Before issue 15: 1,000 agents took 41.7 s with 533 MB peak RSS and 400 agents " +
        "10.5 s with 288 MB, because every completion locked and read every step of its run.",
    );
  }
  lines.push("<!-- /wide-runs -->");
  return lines.join("\n");
}

/** The section from bench/last-wide.json, or nothing when the wide bench has not been run. */
export function savedWideMarkdown(): string | null {
  const file = new URL("last-wide.json", import.meta.url);
  if (!existsSync(file)) return null;
  return wideMarkdown(JSON.parse(readFileSync(file, "utf8")) as WideRun);
}
