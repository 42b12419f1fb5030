// /api/health, /metrics, /api/openapi.json and the console's page at `/` (SPEC §10).
import { consolePage } from "../console.js";
import { packageVersion, type ServerDeps } from "../deps.js";
import { toApiError } from "../errors.js";
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from "../metrics.js";
import { openApiDocument } from "../openapi.js";
import { type RouteDef, route } from "../route.js";
import { HealthResponse, ObjectResponse } from "../schemas.js";

export function systemRoutes(
  { store, metrics, consoleDir, isAuthorized, tokenRequired }: ServerDeps,
  allRoutes: () => readonly RouteDef[],
): RouteDef[] {
  return [
    route({
      method: "GET",
      url: "/api/health",
      tag: "system",
      auth: false,
      summary: "Whether the store is reachable (no token needed)",
      response: HealthResponse,
      bodies: { 503: HealthResponse },
      responses: {
        200: "{ok: true, store: {kind, description, reachable: true}} (description only with the token)",
        503: "store unreachable",
      },
      handler: async ({ req, reply }) => {
        // Where the store lives is for operators: without the token (when one is set) only its kind is shown.
        const described = isAuthorized(req)
          ? { kind: store.kind, description: store.describe() }
          : { kind: store.kind };
        try {
          await store.listExecutors();
          return { ok: true, version: packageVersion(), store: { ...described, reachable: true } };
        } catch (err) {
          const { error } = toApiError(err);
          reply.code(503);
          return {
            ok: false,
            version: packageVersion(),
            store: { ...described, reachable: false },
            error: { code: error.code, message: error.message },
          };
        }
      },
    }),
    route({
      method: "GET",
      url: "/metrics",
      tag: "system",
      auth: false,
      produces: PROMETHEUS_CONTENT_TYPE,
      summary: "Prometheus metrics computed from the store (no token needed)",
      responses: { 200: "Prometheus text format 0.0.4" },
      handler: async ({ reply }) => {
        // Gauges read whole; counters fed with the attempts closed since the previous scrape (metrics.ts).
        const snapshot = await metrics.scrape();
        reply.type(PROMETHEUS_CONTENT_TYPE);
        return renderMetrics(snapshot, metrics.since);
      },
    }),
    route({
      method: "GET",
      url: "/api/openapi.json",
      tag: "system",
      summary: "This document",
      response: ObjectResponse,
      responses: { 200: "OpenAPI 3.1" },
      handler: async () => openApiDocument(allRoutes(), packageVersion(), { tokenRequired }),
    }),
    route({
      method: "GET",
      url: "/",
      tag: "system",
      auth: false,
      produces: "text/html",
      summary: "The web console (a placeholder page when it is not built)",
      responses: { 200: "HTML" },
      handler: async ({ reply }) => {
        reply.type("text/html; charset=utf-8");
        reply.header("cache-control", "no-cache");
        return consolePage(consoleDir);
      },
    }),
  ];
}
