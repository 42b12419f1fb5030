// The peers on the same PostgreSQL, in the same process: graphile-worker (default settings, and with its local
// queue plus batched completion) and pg-boss, each running N pre-enqueued no-op jobs with concurrency 64.
// jobs/s from starting the consumer to the last job's handler returning; statements per job counted too.
import { Logger, makeWorkerUtils, type Runner, run } from "graphile-worker";
import PgBoss from "pg-boss";
import {
  dropSchema,
  type Percentiles,
  PG_URL,
  percentiles,
  queryCounts,
  resetQueryCounts,
  schemaName,
  sleep,
} from "./bench-env.js";

export interface PeerResult {
  name: string;
  settings: string;
  jobs: number;
  seconds: number;
  jobsPerSec: number;
  queriesPerJob: number;
}

const silent = new Logger(() => () => {});

type GraphileMode = "default" | "local-queue";

function graphilePreset(mode: GraphileMode, concurrency: number) {
  return mode === "local-queue"
    ? { worker: { localQueue: { size: concurrency + 1 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } }
    : {};
}

async function graphileSchema(tag: string): Promise<string> {
  const schema = schemaName(`graphile_${tag}`);
  await dropSchema(schema);
  const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger: silent });
  await utils.migrate();
  await utils.release();
  return schema;
}

async function addGraphileJobs(schema: string, n: number): Promise<void> {
  const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger: silent });
  for (let i = 0; i < n; i += 1000) {
    const count = Math.min(1000, n - i);
    await utils.addJobs(Array.from({ length: count }, () => ({ identifier: "noop", payload: {} })));
  }
  await utils.release();
}

export async function graphileThroughput(
  mode: GraphileMode,
  jobs: number,
  concurrency: number,
): Promise<PeerResult> {
  const schema = await graphileSchema(mode);
  await addGraphileJobs(schema, jobs);
  let done = 0;
  let finish: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  resetQueryCounts();
  const t0 = Date.now();
  const runner: Runner = await run({
    connectionString: PG_URL,
    schema,
    concurrency,
    noHandleSignals: true,
    logger: silent,
    preset: graphilePreset(mode, concurrency),
    taskList: {
      noop: async () => {
        done += 1;
        if (done === jobs) finish();
      },
    },
  });
  await all;
  const seconds = (Date.now() - t0) / 1000;
  const counted = queryCounts();
  await runner.stop();
  await dropSchema(schema);
  return {
    name: "graphile-worker",
    settings:
      mode === "default"
        ? `defaults (concurrency ${concurrency})`
        : `localQueue.size ${concurrency + 1}, completeJobBatchDelay 0 (concurrency ${concurrency})`,
    jobs,
    seconds,
    jobsPerSec: jobs / seconds,
    queriesPerJob: counted.queries / jobs,
  };
}

/** add→start: an idle runner (defaults), one job at a time, time from addJob to the handler starting. */
export async function graphilePickup(n: number): Promise<Percentiles> {
  const schema = await graphileSchema("pickup");
  let started: (() => void) | null = null;
  const runner = await run({
    connectionString: PG_URL,
    schema,
    concurrency: 64,
    noHandleSignals: true,
    logger: silent,
    taskList: {
      noop: async () => {
        started?.();
      },
    },
  });
  const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger: silent });
  const samples: number[] = [];
  await sleep(300);
  for (let i = 0; i < n; i++) {
    const seen = new Promise<number>((resolve) => {
      started = () => resolve(performance.now());
    });
    const t0 = performance.now();
    await utils.addJob("noop", {});
    samples.push((await seen) - t0);
    await sleep(5);
  }
  await utils.release();
  await runner.stop();
  await dropSchema(schema);
  return percentiles(samples);
}

/** pg-boss: 64 workers (work() registrations) with batchSize 1, polling every 0.5 s when idle (its minimum). */
export async function pgBossThroughput(jobs: number, concurrency: number): Promise<PeerResult> {
  const schema = schemaName("pgboss");
  await dropSchema(schema);
  const boss = new PgBoss({ connectionString: PG_URL, schema, supervise: false, schedule: false });
  boss.on("error", () => {});
  await boss.start();
  await boss.createQueue("noop");
  for (let i = 0; i < jobs; i += 1000) {
    const count = Math.min(1000, jobs - i);
    await boss.insert(Array.from({ length: count }, () => ({ name: "noop", data: {} })));
  }
  let done = 0;
  let finish: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  resetQueryCounts();
  const t0 = Date.now();
  for (let i = 0; i < concurrency; i++) {
    await boss.work("noop", { batchSize: 1, pollingIntervalSeconds: 0.5 }, async (batch) => {
      done += batch.length;
      if (done >= jobs) finish();
    });
  }
  await all;
  const seconds = (Date.now() - t0) / 1000;
  const counted = queryCounts();
  await boss.stop({ graceful: false, wait: true });
  await dropSchema(schema);
  return {
    name: "pg-boss",
    settings: `${concurrency} × work({ batchSize: 1, pollingIntervalSeconds: 0.5 }), default pool`,
    jobs,
    seconds,
    jobsPerSec: jobs / seconds,
    queriesPerJob: counted.queries / jobs,
  };
}
