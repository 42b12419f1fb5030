// /api/runs…: submit, list, view, result, events, the SSE stream and the run transitions (SPEC §10).

import { z } from "zod";
import {
  cancelRun,
  getRunResult,
  getRunView,
  kickoffRun,
  listRunEvents,
  listRunViews,
  retryRun,
} from "../../kernel/index.js";
import { recordFeedback } from "../../kernel/knowledge.js";
import { reaggregateRun } from "../../kernel/reaggregate.js";
import type { JsonValue } from "../../spec/types.js";
import type { ServerDeps } from "../deps.js";
import { type RouteDef, route } from "../route.js";
import {
  EventSchema,
  EventsQuery,
  FeedbackBody,
  ListRunsQuery,
  ObjectResponse,
  ReaggregateBody,
  RunIdParams,
  RunViewSchema,
  StreamQuery,
  SubmitQuery,
  SubmitResponse,
} from "../schemas.js";
import { resumeSeq, streamRunEvents } from "../sse.js";
import { submitFromBody } from "../submit.js";

const TAG = "runs";

/** The run transitions a user requests, by route name (also served by the original's routes). */
export const RUN_ACTIONS = { kickoff: kickoffRun, cancel: cancelRun, retry: retryRun } as const;
const NOT_FOUND = { 404: "no such run (RUN_NOT_FOUND)" };

/** The spec or an envelope around it, for the OpenAPI document. */
export function submitBodySchema(): Record<string, unknown> {
  return {
    oneOf: [
      { $ref: "#/components/schemas/RunSpec" },
      {
        type: "object",
        properties: {
          spec: { $ref: "#/components/schemas/RunSpec" },
          run_spec: { $ref: "#/components/schemas/RunSpec" },
          kickoff: { type: "boolean" },
        },
        additionalProperties: false,
      },
    ],
  };
}

export function runRoutes({ store, closing, streams }: ServerDeps): RouteDef[] {
  return [
    route({
      method: "POST",
      url: "/api/runs",
      tag: TAG,
      summary: "Validate and store a run spec (the body, or an envelope {spec, kickoff})",
      query: SubmitQuery,
      bodyJsonSchema: submitBodySchema(),
      response: SubmitResponse,
      responses: {
        201: "stored",
        200: "an identical spec was already stored (no-op; kicked off if asked and still CREATED)",
        400: "invalid spec: details lists every issue with its JSON path (SPEC_INVALID)",
        409: "the run_id exists with a different spec (RUN_EXISTS)",
        413: "body over 1 MiB",
      },
      handler: async ({ body, query, reply }) => {
        const out = await submitFromBody(store, body, query.kickoff);
        reply.code(out.created ? 201 : 200);
        return out;
      },
    }),
    route({
      method: "GET",
      url: "/api/runs",
      tag: TAG,
      summary: "Runs, newest first (as `run list`)",
      query: ListRunsQuery,
      response: z.array(RunViewSchema),
      responses: { 200: "an array of RunView", 400: "a bad status, limit or before (BAD_REQUEST)" },
      handler: ({ query }) => {
        const opts: Parameters<typeof listRunViews>[1] = {};
        if (query.status !== undefined) opts.status = query.status;
        if (query.limit !== undefined) opts.limit = query.limit;
        if (query.before !== undefined) opts.before = query.before;
        return listRunViews(store, opts);
      },
    }),
    route({
      method: "GET",
      url: "/api/runs/:id",
      tag: TAG,
      summary: "The run's RunView",
      params: RunIdParams,
      response: RunViewSchema,
      responses: { 200: "RunView", ...NOT_FOUND },
      handler: ({ params }) => getRunView(store, params.id),
    }),
    route({
      method: "GET",
      url: "/api/runs/:id/result",
      tag: TAG,
      summary: "The run's result (SPEC §6); before finalization the same shape with the current status",
      params: RunIdParams,
      response: ObjectResponse,
      responses: { 200: "the result document", ...NOT_FOUND },
      handler: ({ params }) => getRunResult(store, params.id),
    }),
    route({
      method: "GET",
      url: "/api/runs/:id/events",
      tag: TAG,
      summary: "The run's events by seq, ascending",
      params: RunIdParams,
      query: EventsQuery,
      response: z.array(EventSchema),
      responses: { 200: "an array of events", 400: "a bad after, limit or tail (BAD_REQUEST)", ...NOT_FOUND },
      handler: ({ params, query }) => {
        const opts: Parameters<typeof listRunEvents>[2] = {};
        if (query.after !== undefined) opts.after = query.after;
        if (query.limit !== undefined) opts.limit = query.limit;
        if (query.tail !== undefined) opts.tail = query.tail;
        return listRunEvents(store, params.id, opts);
      },
    }),
    route({
      method: "GET",
      url: "/api/runs/:id/stream",
      tag: TAG,
      summary:
        "Server-Sent Events: one `message` per run event (id = seq), resumable with Last-Event-ID; an `end` event with the final RunView once the run is terminal",
      params: RunIdParams,
      query: StreamQuery,
      produces: "text/event-stream",
      queryToken: true,
      responses: {
        200: "the event stream",
        400: "bad Last-Event-ID",
        ...NOT_FOUND,
        503: "too many open streams (TOO_MANY_STREAMS, with Retry-After)",
      },
      handler: async ({ params, query, req, reply }) => {
        const after = resumeSeq(req, query.after);
        await streamRunEvents(store, params.id, after, { req, reply, closing, streams });
        return reply;
      },
    }),
    ...(["kickoff", "cancel", "retry"] as const).map((action) =>
      route({
        method: "POST",
        url: `/api/runs/:id/${action}`,
        tag: TAG,
        summary: {
          kickoff: "CREATED → QUEUED (a QUEUED/RUNNING run: no-op, kicked_off false)",
          cancel: "Cancel the run and every active step at once (a CANCELLED run: no-op)",
          retry: "Re-queue the FAILED and RETRY_WAIT steps (a FAILED run goes back to QUEUED)",
        }[action],
        params: RunIdParams,
        response: ObjectResponse,
        responses: {
          200: "the transition's outcome",
          ...NOT_FOUND,
          409: "not allowed in this state (INVALID_STATE)",
        },
        handler: ({ params }) => RUN_ACTIONS[action](store, params.id),
      }),
    ),
    route({
      method: "POST",
      url: "/api/runs/:id/reaggregate",
      tag: TAG,
      summary:
        "Recompute the result from stored attempts under the stored or another policy (writes nothing)",
      params: RunIdParams,
      body: ReaggregateBody,
      response: ObjectResponse,
      responses: {
        200: "the recomputed result",
        400: "invalid policy",
        ...NOT_FOUND,
        409: "the run is neither FINALIZED nor FAILED (INVALID_STATE)",
      },
      handler: ({ params, body }) =>
        reaggregateRun(store, params.id, {
          ...(body?.policy === undefined ? {} : { policy: body.policy }),
          liveReputation: body?.live_reputation === true,
        }),
    }),
    route({
      method: "POST",
      url: "/api/runs/:id/feedback",
      tag: TAG,
      summary: "Record the true outcome of a FINALIZED run; updates its voters' reputation",
      params: RunIdParams,
      body: FeedbackBody,
      response: ObjectResponse,
      responses: {
        200: "{ok, run_id, correct, previous, changed}",
        400: "empty value",
        ...NOT_FOUND,
        409: "run not FINALIZED",
      },
      handler: ({ params, body }) => recordFeedback(store, params.id, body.correct as JsonValue),
    }),
  ];
}
