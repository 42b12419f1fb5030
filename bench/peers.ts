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
import { currentLsn, type WriteCounts, writesOrNull } from "./writes.js";

export interface PeerResult {
  name: string;
  /** "default": graphile-worker as installed; "local-queue": with its local queue (and batched completion). */
  variant: "default" | "local-queue" | "pg-boss";
  settings: string;
  jobs: number;
  seconds: number;
  jobsPerSec: number;
  queriesPerJob: number;
  /** What the consumer wrote per job (WAL of the peer's schema), null when pg_walinspect is not available. */
  writes: WriteCounts | null;
}

/** graphile-worker's knobs for throughput; null size = no local queue, null delay = no batched completion. */
export interface GraphileSettings {
  localQueueSize: number | null;
  completeJobBatchDelay: number | null;
}

export const GRAPHILE_DEFAULTS: GraphileSettings = { localQueueSize: null, completeJobBatchDelay: null };

/** pg-boss's knobs: jobs fetched per fetch, and how many work() registrations (its concurrency). */
export interface PgBossSettings {
  batchSize: number;
  workers: number;
}

/**
 * What consuming `jobs` pre-enqueued jobs in `schema` costs. `start` launches the consumer, which calls
 * `done(k)` as k jobs finish, and returns how to stop it. Timed from the start to the last job; statements
 * counted meanwhile; what the consumer wrote read from the WAL (null when not measured or not readable).
 */
async function consume(
  schema: string,
  jobs: number,
  measureWrites: boolean,
  start: (done: (k: number) => void) => Promise<() => Promise<void>>,
): Promise<Pick<PeerResult, "jobs" | "seconds" | "jobsPerSec" | "queriesPerJob" | "writes">> {
  let finished = 0;
  let finish: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const done = (k: number) => {
    finished += k;
    if (finished >= jobs) finish();
  };
  const from = measureWrites ? await currentLsn().catch(() => null) : null;
  resetQueryCounts();
  const t0 = Date.now();
  const stop = await start(done);
  await all;
  const seconds = (Date.now() - t0) / 1000;
  const { queries } = queryCounts();
  await stop();
  return {
    jobs,
    seconds,
    jobsPerSec: jobs / seconds,
    queriesPerJob: queries / jobs,
    writes: await writesOrNull(schema, from, jobs),
  };
}

const silent = new Logger(() => () => {});

function graphilePreset(settings: GraphileSettings) {
  const worker: Record<string, unknown> = {};
  if (settings.localQueueSize !== null) worker.localQueue = { size: settings.localQueueSize };
  if (settings.completeJobBatchDelay !== null) {
    worker.completeJobBatchDelay = settings.completeJobBatchDelay;
    worker.failJobBatchDelay = settings.completeJobBatchDelay;
  }
  return { worker };
}

function graphileLabel(settings: GraphileSettings, concurrency: number): string {
  if (settings.localQueueSize === null && settings.completeJobBatchDelay === null)
    return `defaults (concurrency ${concurrency})`;
  const parts = [];
  if (settings.localQueueSize !== null) parts.push(`localQueue.size ${settings.localQueueSize}`);
  if (settings.completeJobBatchDelay !== null)
    parts.push(`completeJobBatchDelay ${settings.completeJobBatchDelay}`);
  return `${parts.join(", ")} (concurrency ${concurrency})`;
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
  settings: GraphileSettings,
  jobs: number,
  concurrency: number,
  measureWrites = true,
): Promise<PeerResult> {
  const local = settings.localQueueSize !== null;
  const schema = await graphileSchema(local ? "local" : "default");
  await addGraphileJobs(schema, jobs);
  const consumed = await consume(schema, jobs, measureWrites, async (done) => {
    const runner: Runner = await run({
      connectionString: PG_URL,
      schema,
      concurrency,
      noHandleSignals: true,
      logger: silent,
      preset: graphilePreset(settings),
      taskList: {
        noop: async () => {
          done(1);
        },
      },
    });
    return () => runner.stop();
  });
  await dropSchema(schema);
  return {
    name: "graphile-worker",
    variant: local ? "local-queue" : "default",
    settings: graphileLabel(settings, concurrency),
    ...consumed,
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

/**
 * pg-boss: `workers` work() registrations fetching `batchSize` jobs each, polling every 0.5 s when idle (its
 * minimum).
 */
export async function pgBossThroughput(
  jobs: number,
  settings: PgBossSettings,
  measureWrites = true,
): Promise<PeerResult> {
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
  const consumed = await consume(schema, jobs, measureWrites, async (done) => {
    for (let i = 0; i < settings.workers; i++) {
      await boss.work(
        "noop",
        { batchSize: settings.batchSize, pollingIntervalSeconds: 0.5 },
        async (batch) => {
          done(batch.length);
        },
      );
    }
    return () => boss.stop({ graceful: false, wait: true });
  });
  await dropSchema(schema);
  return {
    name: "pg-boss",
    variant: "pg-boss",
    settings: `${settings.workers} × work({ batchSize: ${settings.batchSize}, pollingIntervalSeconds: 0.5 }), default pool`,
    ...consumed,
  };
}

/** The settings each peer is measured with; the best of each kind is the one compared against. */
export function peerSweep(
  concurrency: number,
  quick: boolean,
): {
  graphile: GraphileSettings[];
  pgBoss: PgBossSettings[];
} {
  const sizes = quick ? [concurrency + 1, 500] : [concurrency + 1, 250, 1000];
  const delays = quick ? [0, 5] : [0, 1, 5];
  return {
    graphile: [
      GRAPHILE_DEFAULTS,
      ...sizes.flatMap((size) =>
        delays.map((delay) => ({ localQueueSize: size, completeJobBatchDelay: delay })),
      ),
    ],
    pgBoss: quick
      ? [
          { batchSize: 1, workers: concurrency },
          { batchSize: 50, workers: 8 },
        ]
      : [
          { batchSize: 1, workers: concurrency },
          { batchSize: 10, workers: 16 },
          { batchSize: 50, workers: 8 },
          { batchSize: 100, workers: 4 },
          { batchSize: 100, workers: 16 },
        ],
  };
}

/** Every setting of the sweep, in order, each logged as it finishes. */
export async function runPeerSweep(
  jobs: number,
  concurrency: number,
  quick: boolean,
  log: (line: string) => void,
): Promise<PeerResult[]> {
  const sweep = peerSweep(concurrency, quick);
  const out: PeerResult[] = [];
  const done = (p: PeerResult) => {
    const w = p.writes;
    log(
      `[${p.name}] ${p.settings}: ${p.jobs} jobs in ${p.seconds.toFixed(1)} s, ${Math.round(p.jobsPerSec)} jobs/s` +
        (w
          ? `; per job ${w.inserted + w.updated + w.deleted} heap tuples, ${w.indexEntries} index entries`
          : ""),
    );
    out.push(p);
  };
  for (const settings of sweep.graphile) done(await graphileThroughput(settings, jobs, concurrency));
  for (const settings of sweep.pgBoss) done(await pgBossThroughput(jobs, settings));
  return out;
}

/** The comparison rows: graphile-worker with defaults, its fastest local-queue setting, pg-boss's fastest. */
export function bestPeers(sweep: readonly PeerResult[]): PeerResult[] {
  const fastest = (variant: PeerResult["variant"]) =>
    sweep
      .filter((p) => p.variant === variant)
      .reduce<PeerResult | null>(
        (best, p) => (best === null || p.jobsPerSec > best.jobsPerSec ? p : best),
        null,
      );
  return [fastest("default"), fastest("local-queue"), fastest("pg-boss")].filter(
    (p): p is PeerResult => p !== null,
  );
}
