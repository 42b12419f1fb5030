// The zod schemas of the API's requests (validated by route.ts) and of its main responses (documented by
// openapi.ts). Query values arrive as strings; z.coerce turns them into the numbers the kernel takes.
import { z } from "zod";
import { ID_CHARSET, LIMITS, VALID_ID_PATTERN } from "../spec/schema.js";
import { RUN_STATUSES } from "../vocab.js";

const id = (what: string) =>
  z
    .string()
    .regex(VALID_ID_PATTERN, `${what}: 1–${LIMITS.maxIdLength} characters of ${ID_CHARSET}`)
    .describe(`the ${what}`);

export const RunIdParams = z.object({ id: id("run_id") });
export const ExecutorParams = z.object({ name: id("executor name") });
export const AgentParams = z.object({ agent_id: id("agent_id") });

const count = (max: number) => z.coerce.number().int().min(1).max(max);

export const ListRunsQuery = z.object({
  status: z.enum(RUN_STATUSES).optional().describe("only runs in this status"),
  limit: count(1000).optional().describe("page size (default 50)"),
  before: id("run_id").optional().describe("the last run_id of the previous page"),
});

export const SubmitQuery = z.object({
  kickoff: z
    .enum(["true", "false", "1", "0"])
    .optional()
    .describe("queue the steps at once (for a bare spec body; an envelope's `kickoff` wins)"),
});

export const EventsQuery = z.object({
  after: z.coerce.number().int().min(0).optional().describe("only events after this seq"),
  limit: count(10_000).optional().describe("page size (default 50)"),
  tail: count(10_000).optional().describe("the newest n events (ascending); overrides after/limit"),
});

export const LegacyEventsQuery = z.object({
  limit: count(10_000).optional().describe("how many of the newest events (default 50)"),
});

export const StreamQuery = z.object({
  after: z.coerce.number().int().min(0).optional().describe("start after this seq (Last-Event-ID wins)"),
  access_token: z
    .string()
    .optional()
    .describe("the bearer token, for EventSource clients that cannot set headers"),
});

export const SubmitEnvelope = z
  .object({
    spec: z.unknown().optional(),
    run_spec: z.unknown().optional(),
    kickoff: z.boolean().optional(),
  })
  .strict()
  .describe("An envelope: `spec` (or the original's `run_spec`) and whether to queue the steps at once.");

export const ReaggregateBody = z
  .object({
    policy: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("an `aggregation` object to apply instead of the stored one (validated like a run spec's)"),
    live_reputation: z
      .boolean()
      .optional()
      .describe("use the knowledge store's current reputation, not the units stored in the result"),
  })
  .strict()
  .optional();

/** Any JSON value; a shared component of the OpenAPI document (openapi.ts). */
const JsonValue = z.json().meta({ id: "JsonValue" });

export const FeedbackBody = z
  .object({ correct: JsonValue.describe("the correct decision (normalized like a ballot)") })
  .strict();

export const ExecutorBody = z
  .object({
    name: id("executor name"),
    kind: z.enum(["http", "command", "openai", "sim"]),
    config: z.record(z.string(), JsonValue).describe("kind-specific settings (env-var names, never secrets)"),
  })
  .strict();

const Counts = z.object({
  created: z.number(),
  queued: z.number(),
  leased: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  retry_wait: z.number(),
  cancelled: z.number(),
});

export const RunViewSchema = z
  .object({
    run_id: z.string(),
    status: z.enum(RUN_STATUSES),
    task_type: z.string(),
    round: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    counts: Counts,
  })
  .meta({ id: "RunView" });

export const EventSchema = z
  .object({
    id: z.number(),
    run_id: z.string(),
    seq: z.number(),
    event_type: z.string(),
    payload: z.record(z.string(), z.unknown()),
    created_at: z.string(),
  })
  .meta({ id: "Event" });

export const ErrorSchema = z.object({
  ok: z.literal(false),
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

export const SubmitResponse = z.object({
  ok: z.literal(true),
  run_id: z.string(),
  kicked_off: z.boolean(),
  created: z.boolean(),
  warnings: z.array(z.string()).optional(),
});

/** Any JSON object (documents whose shape is specified elsewhere: results, outcomes, this document). */
export const ObjectResponse = z.record(z.string(), z.unknown());

export const OkResponse = z.looseObject({ ok: z.literal(true) });

/** The original's `/api/run/*` error envelope (routes/legacy.ts). */
export const LegacyErrorSchema = z.object({
  ok: z.literal(false),
  error: z.string(),
  code: z.string(),
  details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

/** What fastify itself sends to requests that arrive while the server closes (`return503OnClosing`). */
export const ClosingSchema = z.object({ error: z.string(), message: z.string(), statusCode: z.literal(503) });

export const HealthResponse = z.object({
  ok: z.boolean(),
  version: z.string(),
  store: z.object({ kind: z.string(), description: z.string().optional(), reachable: z.boolean() }),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const ExecutorRecordSchema = z.object({
  name: z.string(),
  kind: z.string(),
  config: z.record(z.string(), z.unknown()),
  created_at: z.string(),
  updated_at: z.string(),
});

export const ReputationResponse = z.object({
  agent_id: z.string(),
  units: z.number(),
  rows: z.array(z.record(z.string(), z.unknown())),
});
