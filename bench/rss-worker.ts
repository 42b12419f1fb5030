// A worker process for the memory figure of bench/scale.ts: opens the store in RSS_PG_SCHEMA, prints its
// memory once before starting (baseline), then every 200 ms while one worker (concurrency 64) runs.
import { openStore, startWorker } from "../src/index.js";

const url = process.env.RSS_PG_URL ?? "";
const schema = process.env.RSS_PG_SCHEMA ?? "";
const store = await openStore({ kind: "postgres", url, schema, source: "flag" });
await store.migrate();

const sample = (baseline: boolean, completed: number) => {
  const m = process.memoryUsage();
  process.stdout.write(`${JSON.stringify({ rss: m.rss, heap: m.heapUsed, completed, baseline })}\n`);
};
sample(true, 0);
const { worker, done } = startWorker(store, { concurrency: 64 });
const timer = setInterval(() => sample(false, worker.completed), 200);
process.on("SIGTERM", () => {
  clearInterval(timer);
  worker.stop();
  void done.finally(() => store.close().finally(() => process.exit(0)));
});
