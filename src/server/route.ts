// One table of routes is the source of truth: fastify serves it, its zod schemas validate each request, and
// openapi.ts documents it from the very same schemas.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { z } from "zod";
import type { ValidationIssue } from "../errors.js";
import { formatPath } from "../spec/issues.js";
import { ApiError, legacyErrorBody, toApiError } from "./errors.js";

export type Method = "GET" | "POST" | "DELETE";

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteDef<P = unknown, Q = unknown, B = unknown> {
  method: Method;
  /** fastify syntax: `/api/runs/:id`. */
  url: string;
  summary: string;
  tag: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  /** Validates the JSON body; absent when the handler validates it itself (then give `bodyJsonSchema`). */
  body?: z.ZodType<B>;
  /** The body's JSON Schema for the OpenAPI document when it is not a zod schema here (the run spec). */
  bodyJsonSchema?: Record<string, unknown>;
  /**
   * Status → description; the first 2xx is the usual one. The errors every route may answer with (400, 401,
   * 403, 413–415, 500, 503: openapi.ts) are added to the document unless given here.
   */
  responses: Record<number, string>;
  /** Response body schema of the 2xx responses, for the document. */
  response?: z.ZodType;
  /** Body schemas of statuses whose body is neither `response` nor the API's error body (health's 503). */
  bodies?: Partial<Record<number, z.ZodType>>;
  /** Content type of a 2xx response (default application/json). */
  produces?: string;
  /** False for the public routes (`/`, /api/health, /metrics: SPEC §10); default true (deny by default). */
  auth?: boolean;
  /** The SSE stream: the token may also come as `?access_token=` (EventSource cannot set headers). */
  queryToken?: boolean;
  /** The original's `/api/run/*` routes: every error is 400 `{ok: false, error: "<message>"}`. */
  legacy?: boolean;
  handler(ctx: RouteContext<P, Q, B>): Promise<unknown>;
}

/** Keeps each route's P/Q/B inferred from its schemas while collecting them in one untyped table. */
export function route<P = unknown, Q = unknown, B = unknown>(def: RouteDef<P, Q, B>): RouteDef {
  return def as unknown as RouteDef;
}

function issuesOf(where: string, error: z.ZodError): ValidationIssue[] {
  return error.issues.map((i) => ({
    path: formatPath([where, ...i.path] as (string | number)[]),
    message: i.message,
  }));
}

function parsePart<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return value as T;
  const parsed = schema.safeParse(value ?? (where === "body" ? undefined : {}));
  if (parsed.success) return parsed.data;
  const details = issuesOf(where, parsed.error);
  throw new ApiError(400, "BAD_REQUEST", `invalid request ${where}: ${details[0]?.message ?? ""}`, details);
}

export function mountRoutes(
  app: FastifyInstance,
  routes: readonly RouteDef[],
  onInternal: (err: unknown, req: FastifyRequest) => void,
): void {
  for (const def of routes) {
    app.route({
      method: def.method,
      url: def.url,
      config: { wattswarmPublic: def.auth === false, wattswarmQueryToken: def.queryToken === true },
      handler: async (req, reply) => {
        try {
          const params = parsePart(def.params, req.params, "params");
          const query = parsePart(def.query, req.query, "query");
          const body = parsePart(def.body, req.body, "body");
          const out = await def.handler({ params, query, body, req, reply });
          if (reply.sent) return reply;
          return reply.send(out);
        } catch (err) {
          if (!def.legacy) throw err;
          const { error, internal } = toApiError(err);
          if (internal) onInternal(err, req);
          return reply.code(error.status === 401 ? 401 : 400).send(legacyErrorBody(error));
        }
      },
    });
  }
}
