// GENERATED from the .sql files in this folder: edit those, then run
// `WATTSWARM_UPDATE_MIGRATIONS=1 npx vitest run test/store/migration-files.test.ts` (docs/storage.md).
// Embedded as strings because tsc copies no .sql files into dist/.

import type { Migration } from "../../migration.js";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial",
    sql: `-- 001_initial: the WattSwarm schema of SPEC §3. Runs in the schema selected by search_path (--pg-schema).
-- JSON documents are \`json\`, not \`jsonb\`: they are stored and shown as written (jsonb would reorder the keys of
-- results, inputs and payloads), and no query looks inside them.
-- Times are timestamptz(3) (milliseconds, the precision SQLite keeps too) and have no defaults: every write
-- states its time, so transitions can be tested with an injected clock.

CREATE TABLE runs (
  run_id             text PRIMARY KEY,
  status             text NOT NULL
                     CHECK (status IN ('CREATED', 'QUEUED', 'RUNNING', 'CANCELLED', 'FINALIZED', 'FAILED')),
  task_type          text NOT NULL,
  spec_json          json NOT NULL,
  shared_inputs_json json NOT NULL,
  round              integer NOT NULL CHECK (round >= 0),
  event_seq          integer NOT NULL DEFAULT 0 CHECK (event_seq >= 0),
  reputation_applied boolean NOT NULL DEFAULT false,
  result_json        json,
  error_text         text,
  created_at         timestamptz(3) NOT NULL,
  updated_at         timestamptz(3) NOT NULL,
  started_at         timestamptz(3),
  finished_at        timestamptz(3),
  -- prune selects by finished_at, so a terminal run without it would never be pruned
  CONSTRAINT runs_finished_check
    CHECK ((status IN ('CANCELLED', 'FINALIZED', 'FAILED')) = (finished_at IS NOT NULL))
);

-- \`run list [--status S]\`: newest first, keyset-paged by (created_at, run_id)
CREATE INDEX runs_status_created_idx ON runs (status, created_at DESC, run_id DESC);
CREATE INDEX runs_created_idx ON runs (created_at DESC, run_id DESC);
-- \`run prune --older-than\`
CREATE INDEX runs_finished_idx ON runs (finished_at) WHERE finished_at IS NOT NULL;

CREATE TABLE run_steps (
  step_id        text PRIMARY KEY,
  run_id         text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  ordinal        integer NOT NULL CHECK (ordinal >= 0),
  agent_id       text NOT NULL,
  executor       text NOT NULL,
  profile        text NOT NULL,
  prompt         text NOT NULL,
  inputs_json    json NOT NULL,
  weight         double precision NOT NULL CHECK (weight > 0),
  -- bigint: the spec allows any safe integer here (SQLite's INTEGER is 64-bit already)
  priority       bigint NOT NULL DEFAULT 0,
  timeout_ms     integer NOT NULL CHECK (timeout_ms > 0),
  status         text NOT NULL
                 CHECK (status IN ('CREATED', 'QUEUED', 'LEASED', 'SUCCEEDED', 'FAILED', 'RETRY_WAIT', 'CANCELLED')),
  round          integer NOT NULL CHECK (round >= 0),
  attempt        integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  attempt_seq    integer NOT NULL DEFAULT 0 CHECK (attempt_seq >= 0),
  max_attempts   integer NOT NULL CHECK (max_attempts >= 1),
  next_run_at    timestamptz(3) NOT NULL,
  run_created_at timestamptz(3) NOT NULL,
  lease_token    text,
  lease_owner    text,
  lease_until    timestamptz(3),
  result_json    json,
  error_text     text,
  created_at     timestamptz(3) NOT NULL,
  updated_at     timestamptz(3) NOT NULL,
  started_at     timestamptz(3),
  finished_at    timestamptz(3),
  CONSTRAINT run_steps_run_ordinal_key UNIQUE (run_id, ordinal),
  CONSTRAINT run_steps_run_agent_key UNIQUE (run_id, agent_id),
  -- fencing and lease expiry both read these; a lease without them could never be fenced or expire
  CONSTRAINT run_steps_lease_check
    CHECK (status <> 'LEASED' OR (lease_token IS NOT NULL AND lease_until IS NOT NULL))
);

-- claims: the order of SPEC §7, over claimable rows only, so the index stays as small as the queue
CREATE INDEX run_steps_claim_idx ON run_steps (priority DESC, next_run_at, run_created_at, step_id)
  WHERE status IN ('QUEUED', 'RETRY_WAIT');
-- the lease-expiry sweep runs before every claim and finds nothing in the common case
CREATE INDEX run_steps_lease_expiry_idx ON run_steps (lease_until) WHERE status = 'LEASED';

CREATE TABLE run_step_attempts (
  step_id     text NOT NULL REFERENCES run_steps (step_id) ON DELETE CASCADE,
  attempt_seq integer NOT NULL CHECK (attempt_seq >= 1),
  run_id      text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  round       integer NOT NULL CHECK (round >= 0),
  attempt     integer NOT NULL CHECK (attempt >= 1),
  worker_id   text NOT NULL,
  lease_token text NOT NULL,
  status      text NOT NULL
              CHECK (status IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'RETRYABLE_ERROR', 'LEASE_EXPIRED', 'RELEASED',
                                'CANCELLED', 'STALE')),
  closed_as   text
              CHECK (closed_as IN ('SUCCEEDED', 'FAILED', 'RETRYABLE_ERROR', 'LEASE_EXPIRED', 'RELEASED',
                                   'CANCELLED')),
  error_code  text,
  result_json json,
  error_text  text,
  due_at      timestamptz(3) NOT NULL,
  started_at  timestamptz(3) NOT NULL,
  finished_at timestamptz(3),
  PRIMARY KEY (step_id, attempt_seq),
  -- closed_as records what a STALE row was before a late result arrived, and means nothing otherwise
  CONSTRAINT run_step_attempts_stale_check CHECK ((status = 'STALE') = (closed_as IS NOT NULL))
);

-- aggregation reads a run's attempts by round; also serves the cascade from runs
CREATE INDEX run_step_attempts_run_round_idx ON run_step_attempts (run_id, round);

CREATE TABLE run_events (
  id           bigserial PRIMARY KEY,
  run_id       text NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
  seq          integer NOT NULL CHECK (seq >= 1),
  event_type   text NOT NULL,
  payload_json json NOT NULL,
  created_at   timestamptz(3) NOT NULL,
  -- also the index that \`run events --after\` and followers read by
  CONSTRAINT run_events_run_seq_key UNIQUE (run_id, seq)
);

CREATE TABLE executors (
  name        text PRIMARY KEY,
  kind        text NOT NULL CHECK (kind IN ('http', 'command', 'openai', 'sim')),
  config_json jsonb NOT NULL,
  created_at  timestamptz(3) NOT NULL,
  updated_at  timestamptz(3) NOT NULL
);

CREATE TABLE agent_reputation (
  agent_id   text NOT NULL,
  task_type  text NOT NULL,
  runs       integer NOT NULL DEFAULT 0 CHECK (runs >= 0),
  agreed     integer NOT NULL DEFAULT 0 CHECK (agreed >= 0),
  correct    integer NOT NULL DEFAULT 0 CHECK (correct >= 0),
  wrong      integer NOT NULL DEFAULT 0 CHECK (wrong >= 0),
  units      integer NOT NULL DEFAULT 500 CHECK (units >= 0),
  updated_at timestamptz(3) NOT NULL,
  PRIMARY KEY (agent_id, task_type)
);

CREATE TABLE run_feedback (
  run_id     text PRIMARY KEY REFERENCES runs (run_id) ON DELETE CASCADE,
  correct    text NOT NULL,
  created_at timestamptz(3) NOT NULL,
  updated_at timestamptz(3) NOT NULL
);
`,
  },
  {
    version: 2,
    name: "attempts_finished_index",
    sql: `-- 002_attempts_finished_index: \`/metrics\` reads the attempts closed since its previous scrape (finished_at >= T),
-- so that read is a range scan instead of a scan of the whole attempt history (issue 15, defect 9).
-- Partial: an attempt is inserted RUNNING with finished_at NULL and gets its one entry when it is closed.
-- A plain CREATE INDEX (migrations run in a transaction): on a large existing table it holds writes to
-- run_step_attempts until the build ends (docs/operations.md, "Upgrades").

CREATE INDEX run_step_attempts_finished_idx ON run_step_attempts (finished_at) WHERE finished_at IS NOT NULL;
`,
  },
  {
    version: 3,
    name: "run_active_steps",
    sql: `-- 003_run_active_steps: the run row counts its steps in an active status (CREATED, QUEUED, LEASED,
-- RETRY_WAIT), so a completion knows whether its run became idle without reading the run's other steps
-- (docs/storage.md). Every statement that changes a step's status keeps the count, in the same statement.
ALTER TABLE runs ADD COLUMN active_steps integer NOT NULL DEFAULT 0 CHECK (active_steps >= 0);

UPDATE runs r SET active_steps = s.n
FROM (
  SELECT run_id, count(*)::int AS n FROM run_steps
  WHERE status IN ('CREATED', 'QUEUED', 'LEASED', 'RETRY_WAIT')
  GROUP BY run_id
) s
WHERE r.run_id = s.run_id;
`,
  },
];
