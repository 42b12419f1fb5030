// The worker process of bench/wide-run.ts: one worker (concurrency 64) on WIDE_PG_SCHEMA until the store is
// idle, its RSS sampled every 50 ms and every statement it sends counted; prints one JSON line at the end.
import { openRunStore, startWorker } from "../src/index.js";
import { installQueryCounter, queryCounts } from "./bench-env.js";

installQueryCounter();
const store = openRunStore({
  kind: "postgres",
  url: process.env.WIDE_PG_URL ?? "",
  schema: process.env.WIDE_PG_SCHEMA ?? "",
  source: "flag",
});
await store.migrate();
const baseline = process.memoryUsage().rss;
let peak = baseline;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 50);
const started = performance.now();
const { worker, done } = startWorker(store, { concurrency: 64, exitWhenIdle: true, pollMs: 50 });
await done;
const seconds = (performance.now() - started) / 1000;
clearInterval(timer);
peak = Math.max(peak, process.memoryUsage().rss);
await store.close();
process.stdout.write(
  `${JSON.stringify({ completed: worker.completed, seconds, baselineRss: baseline, peakRss: peak, ...queryCounts() })}\n`,
);
