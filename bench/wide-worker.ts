// The worker process of bench/wide-run.ts: one worker (concurrency 64) on WIDE_PG_SCHEMA until the store is
// idle, its RSS sampled every 50 ms (WIDE_TRACE=1: a line a second on stderr) and every statement it sends counted;
// prints one JSON line at the end.
import { openStore, startWorker } from "../src/index.js";
import { installQueryCounter, queryCounts } from "./bench-env.js";

installQueryCounter();
const store = await openStore({
  kind: "postgres",
  url: process.env.WIDE_PG_URL ?? "",
  schema: process.env.WIDE_PG_SCHEMA ?? "",
  source: "flag",
});
await store.migrate();
const baseline = process.memoryUsage().rss;
let peak = baseline;
let atPeak = process.memoryUsage();
let peakAt = performance.now();
let lastTrace = 0;
const timer = setInterval(() => {
  const m = process.memoryUsage();
  if (m.rss > peak) {
    peak = m.rss;
    atPeak = m;
    peakAt = performance.now();
  }
  if (process.env.WIDE_TRACE && Math.floor(performance.now() / 1000) !== lastTrace) {
    lastTrace = Math.floor(performance.now() / 1000);
    process.stderr.write(
      `t=${((performance.now() - started) / 1000).toFixed(1)} completed=${worker.completed} rss=${Math.round(m.rss / 2 ** 20)} heap=${Math.round(m.heapUsed / 2 ** 20)} ab=${Math.round(m.arrayBuffers / 2 ** 20)}\n`,
    );
  }
}, 50);
const started = performance.now();
const { worker, done } = startWorker(store, { concurrency: 64, exitWhenIdle: true, pollMs: 50 });
await done;
const seconds = (performance.now() - started) / 1000;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
await store.close();
const mb = (n: number) => Math.round(n / 2 ** 20);
process.stderr.write(
  `worker at peak RSS: rss ${mb(atPeak.rss)} MB, heap used ${mb(atPeak.heapUsed)} / total ${mb(atPeak.heapTotal)} MB, external ${mb(atPeak.external)} MB (array buffers ${mb(atPeak.arrayBuffers)} MB), at ${((peakAt - started) / 1000).toFixed(1)} of ${seconds.toFixed(1)} s\n`,
);
process.stdout.write(
  `${JSON.stringify({ completed: worker.completed, seconds, baselineRss: baseline, peakRss: peak, atPeak, ...queryCounts() })}\n`,
);
