// The original's `/api/run/*` routes with its envelopes (SPEC §10): 200 with the payload under its key, or
// 400 `{ok: false, error: "<message>"}` for any failure (route.ts, `legacy: true`).
import { getRunResult, getRunView, listRunEvents } from "../../kernel/index.js";
import type { ServerDeps } from "../deps.js";
import { type RouteDef, route } from "../route.js";
import { LegacyEventsQuery, OkResponse, RunIdParams, SubmitQuery } from "../schemas.js";
import { submitFromBody } from "../submit.js";
import { RUN_ACTIONS, submitBodySchema } from "./runs.js";

const TAG = "original routes";
const FAILED = { 400: "{ok: false, error: message, code} (any error, unknown runs included)" };

export function legacyRoutes({ store }: ServerDeps): RouteDef[] {
  return [
    route({
      method: "POST",
      url: "/api/run/submit",
      tag: TAG,
      legacy: true,
      response: OkResponse,
      summary: "Submit (as POST /api/runs) → {ok, run_id, kicked_off}",
      query: SubmitQuery,
      bodyJsonSchema: submitBodySchema(),
      responses: { 200: "{ok, run_id, kicked_off}", ...FAILED },
      handler: async ({ body, query }) => {
        const out = await submitFromBody(store, body, query.kickoff);
        return { ok: true, run_id: out.run_id, kicked_off: out.kicked_off };
      },
    }),
    route({
      method: "GET",
      url: "/api/run/watch/:id",
      tag: TAG,
      legacy: true,
      response: OkResponse,
      summary: "The RunView → {ok, watch}",
      params: RunIdParams,
      responses: { 200: "{ok, watch: RunView}", ...FAILED },
      handler: async ({ params }) => ({ ok: true, watch: await getRunView(store, params.id) }),
    }),
    route({
      method: "GET",
      url: "/api/run/result/:id",
      tag: TAG,
      legacy: true,
      response: OkResponse,
      summary: "The result → {ok, result}",
      params: RunIdParams,
      responses: { 200: "{ok, result}", ...FAILED },
      handler: async ({ params }) => ({ ok: true, result: await getRunResult(store, params.id) }),
    }),
    route({
      method: "GET",
      url: "/api/run/events/:id",
      tag: TAG,
      legacy: true,
      response: OkResponse,
      summary: "The newest events, newest first → {ok, events}",
      params: RunIdParams,
      query: LegacyEventsQuery,
      responses: { 200: "{ok, events}", ...FAILED },
      handler: async ({ params, query }) => {
        const events = await listRunEvents(store, params.id, { tail: query.limit ?? 50 });
        return { ok: true, events: events.sort((a, b) => b.seq - a.seq) };
      },
    }),
    ...(["kickoff", "cancel", "retry"] as const).map((action) =>
      route({
        method: "POST",
        url: `/api/run/${action}/:id`,
        tag: TAG,
        legacy: true,
        response: OkResponse,
        summary: `As POST /api/runs/:id/${action}`,
        params: RunIdParams,
        responses: { 200: "the transition's outcome (ok: true)", ...FAILED },
        handler: ({ params }) => RUN_ACTIONS[action](store, params.id),
      }),
    ),
  ];
}
