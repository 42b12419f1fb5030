// GENERATED from the .sql files in this folder: edit those, then run
// `WATTSWARM_UPDATE_MIGRATIONS=1 npx vitest run test/store/migration-files.test.ts` (docs/storage.md).
// Embedded as strings because tsc copies no .sql files into dist/.

import type { Migration } from "../../migration.js";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial",
    sql: `-- 001_initial: the WattSwarm schema of SPEC §3 for the embedded SQLite store.
-- Times are INTEGER milliseconds since the Unix epoch (UTC), the precision PostgreSQL keeps too; the adapter
-- converts them to ISO-8601 strings. JSON is TEXT written by JSON.stringify. Booleans are INTEGER 0/1.
-- STRICT tables reject a value of the wrong type instead of silently storing it.

CREATE TABLE runs (
  run_id             TEXT NOT NULL PRIMARY KEY,
  status             TEXT NOT NULL
                     CHECK (status IN ('CREATED', 'QUEUED', 'RUNNING', 'CANCELLED', 'FINALIZED', 'FAILED')),
  task_type          TEXT NOT NULL,
  spec_json          TEXT NOT NULL,
  shared_inputs_json TEXT NOT NULL,
  round              INTEGER NOT NULL CHECK (round >= 0),
  event_seq          INTEGER NOT NULL DEFAULT 0 CHECK (event_seq >= 0),
  reputation_applied INTEGER NOT NULL DEFAULT 0 CHECK (reputation_applied IN (0, 1)),
  result_json        TEXT,
  error_text         TEXT,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  started_at         INTEGER,
  finished_at        INTEGER,
  -- prune selects by finished_at, so a terminal run without it would never be pruned
  CONSTRAINT runs_finished_check
    CHECK ((status IN ('CANCELLED', 'FINALIZED', 'FAILED')) = (finished_at IS NOT NULL))
) STRICT;

-- \`run list [--status S]\`: newest first, keyset-paged by (created_at, run_id)
CREATE INDEX runs_status_created_idx ON runs (status, created_at DESC, run_id DESC);
CREATE INDEX runs_created_idx ON runs (created_at DESC, run_id DESC);
-- \`run prune --older-than\`
CREATE INDEX runs_finished_idx ON runs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE run_steps (
  step_id        TEXT NOT NULL PRIMARY KEY,
  run_id         TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  ordinal        INTEGER NOT NULL CHECK (ordinal >= 0),
  agent_id       TEXT NOT NULL,
  executor       TEXT NOT NULL,
  profile        TEXT NOT NULL,
  prompt         TEXT NOT NULL,
  inputs_json    TEXT NOT NULL,
  weight         REAL NOT NULL CHECK (weight > 0),
  priority       INTEGER NOT NULL DEFAULT 0,
  timeout_ms     INTEGER NOT NULL CHECK (timeout_ms > 0),
  status         TEXT NOT NULL
                 CHECK (status IN ('CREATED', 'QUEUED', 'LEASED', 'SUCCEEDED', 'FAILED', 'RETRY_WAIT', 'CANCELLED')),
  round          INTEGER NOT NULL CHECK (round >= 0),
  attempt        INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  attempt_seq    INTEGER NOT NULL DEFAULT 0 CHECK (attempt_seq >= 0),
  max_attempts   INTEGER NOT NULL CHECK (max_attempts >= 1),
  next_run_at    INTEGER NOT NULL,
  run_created_at INTEGER NOT NULL,
  lease_token    TEXT,
  lease_owner    TEXT,
  lease_until    INTEGER,
  result_json    TEXT,
  error_text     TEXT,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  started_at     INTEGER,
  finished_at    INTEGER,
  CONSTRAINT run_steps_run_ordinal_key UNIQUE (run_id, ordinal),
  CONSTRAINT run_steps_run_agent_key UNIQUE (run_id, agent_id),
  -- fencing and lease expiry both read these; a lease without them could never be fenced or expire
  CONSTRAINT run_steps_lease_check
    CHECK (status <> 'LEASED' OR (lease_token IS NOT NULL AND lease_until IS NOT NULL))
) STRICT;

-- claims: the order of SPEC §7, over claimable rows only, so the index stays as small as the queue
CREATE INDEX run_steps_claim_idx ON run_steps (priority DESC, next_run_at, run_created_at, step_id)
  WHERE status IN ('QUEUED', 'RETRY_WAIT');
-- the lease-expiry sweep runs before every claim and finds nothing in the common case
CREATE INDEX run_steps_lease_expiry_idx ON run_steps (lease_until) WHERE status = 'LEASED';

CREATE TABLE run_step_attempts (
  step_id     TEXT NOT NULL REFERENCES run_steps (step_id) ON DELETE CASCADE,
  attempt_seq INTEGER NOT NULL CHECK (attempt_seq >= 1),
  run_id      TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  round       INTEGER NOT NULL CHECK (round >= 0),
  attempt     INTEGER NOT NULL CHECK (attempt >= 1),
  worker_id   TEXT NOT NULL,
  lease_token TEXT NOT NULL,
  status      TEXT NOT NULL
              CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'RETRYABLE_ERROR', 'LEASE_EXPIRED', 'RELEASED',
                                'CANCELLED', 'STALE')),
  closed_as   TEXT
              CHECK (closed_as IN ('SUCCEEDED', 'FAILED', 'RETRYABLE_ERROR', 'LEASE_EXPIRED', 'RELEASED',
                                   'CANCELLED')),
  error_code  TEXT,
  result_json TEXT,
  error_text  TEXT,
  due_at      INTEGER NOT NULL,
  started_at  INTEGER NOT NULL,
  finished_at INTEGER,
  PRIMARY KEY (step_id, attempt_seq),
  -- closed_as records what a STALE row was before a late result arrived, and means nothing otherwise
  CONSTRAINT run_step_attempts_stale_check CHECK ((status = 'STALE') = (closed_as IS NOT NULL))
) STRICT;

-- aggregation reads a run's attempts by round; also serves the cascade from runs
CREATE INDEX run_step_attempts_run_round_idx ON run_step_attempts (run_id, round);

CREATE TABLE run_events (
  -- AUTOINCREMENT: ids are never reused after a prune, like PostgreSQL's bigserial
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id       TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  seq          INTEGER NOT NULL CHECK (seq >= 1),
  event_type   TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  -- also the index that \`run events --after\` and followers read by
  CONSTRAINT run_events_run_seq_key UNIQUE (run_id, seq)
) STRICT;

CREATE TABLE executors (
  name        TEXT NOT NULL PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('http', 'command', 'openai', 'sim')),
  config_json TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE agent_reputation (
  agent_id   TEXT NOT NULL,
  task_type  TEXT NOT NULL,
  runs       INTEGER NOT NULL DEFAULT 0 CHECK (runs >= 0),
  agreed     INTEGER NOT NULL DEFAULT 0 CHECK (agreed >= 0),
  correct    INTEGER NOT NULL DEFAULT 0 CHECK (correct >= 0),
  wrong      INTEGER NOT NULL DEFAULT 0 CHECK (wrong >= 0),
  units      INTEGER NOT NULL DEFAULT 500 CHECK (units >= 0),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (agent_id, task_type)
) STRICT;

CREATE TABLE run_feedback (
  run_id     TEXT NOT NULL PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
  correct    TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
`,
  },
  {
    version: 2,
    name: "attempts_finished_index",
    sql: `-- 002_attempts_finished_index: \`/metrics\` reads the attempts closed since its previous scrape (finished_at >= T),
-- so that read is a range search instead of a scan of the whole attempt history (issue 15, defect 9).
-- Partial: an attempt is inserted RUNNING with finished_at NULL and gets its one entry when it is closed.

CREATE INDEX run_step_attempts_finished_idx ON run_step_attempts (finished_at) WHERE finished_at IS NOT NULL;
`,
  },
  {
    version: 3,
    name: "run_active_steps",
    sql: `-- 003_run_active_steps: the run row counts its steps in an active status (CREATED, QUEUED, LEASED,
-- RETRY_WAIT), so a completion knows whether its run became idle without reading the run's other steps
-- (docs/storage.md). Every statement that changes a step's status keeps the count, in the same transaction.
ALTER TABLE runs ADD COLUMN active_steps INTEGER NOT NULL DEFAULT 0 CHECK (active_steps >= 0);

UPDATE runs SET active_steps = (
  SELECT count(*) FROM run_steps s
  WHERE s.run_id = runs.run_id AND s.status IN ('CREATED', 'QUEUED', 'LEASED', 'RETRY_WAIT')
);
`,
  },
];
