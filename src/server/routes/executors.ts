// /api/executors (SPEC §8, §10) and /api/reputation (SPEC §9).
import { z } from "zod";
import {
  checkExecutor,
  listExecutors,
  registerExecutor,
  removeExecutor,
} from "../../kernel/executor-admin.js";
import { listReputation, showReputation } from "../../kernel/knowledge.js";
import type { ServerDeps } from "../deps.js";
import { type RouteDef, route } from "../route.js";
import {
  AgentParams,
  ExecutorBody,
  ExecutorParams,
  ExecutorRecordSchema,
  ObjectResponse,
  OkResponse,
  ReputationResponse,
} from "../schemas.js";

// Every rule lives in kernel/executor-admin.ts; `executorPolicy` is what this server allows (SPEC §10,
// docs/operations.md "Security model").
export function executorRoutes({ store, executorPolicy }: ServerDeps): RouteDef[] {
  return [
    route({
      method: "GET",
      url: "/api/executors",
      tag: "executors",
      summary: "Registered executors, by name",
      response: z.array(ExecutorRecordSchema),
      responses: { 200: "an array of executors" },
      handler: () => listExecutors(store),
    }),
    route({
      method: "POST",
      url: "/api/executors",
      tag: "executors",
      summary: "Register or replace an executor",
      body: ExecutorBody,
      response: ExecutorRecordSchema,
      responses: {
        201: "registered",
        200: "replaced",
        400: "invalid name, kind or config, a secret name or target this server does not allow (details)",
        403: "a command executor this server does not allow (FORBIDDEN)",
      },
      handler: async ({ body, reply }) => {
        const { record, created } = await registerExecutor(store, body, executorPolicy);
        reply.code(created ? 201 : 200);
        return record;
      },
    }),
    route({
      method: "DELETE",
      url: "/api/executors/:name",
      tag: "executors",
      summary: "Remove an executor (a removed default stays removed)",
      params: ExecutorParams,
      response: OkResponse,
      responses: { 200: "{ok, name, removed: true}", 404: "not registered (EXECUTOR_NOT_FOUND)" },
      handler: ({ params }) => removeExecutor(store, params.name),
    }),
    route({
      method: "GET",
      url: "/api/executors/:name/check",
      tag: "executors",
      summary: "Probe an executor's health and capabilities (as `executors check`)",
      params: ExecutorParams,
      response: ObjectResponse,
      responses: {
        200: "{name, kind, ok, …}; ok false when unhealthy",
        400: "the target is a link-local or metadata address",
        404: "not registered",
      },
      handler: ({ params }) => checkExecutor(store, params.name, executorPolicy),
    }),
    route({
      method: "GET",
      url: "/api/reputation",
      tag: "reputation",
      summary: "Every agent's reputation rows (per task type and overall '*')",
      response: z.array(z.record(z.string(), z.unknown())),
      responses: { 200: "an array of reputation rows" },
      handler: () => listReputation(store),
    }),
    route({
      method: "GET",
      url: "/api/reputation/:agent_id",
      tag: "reputation",
      summary: "One agent's reputation",
      params: AgentParams,
      response: ReputationResponse,
      responses: { 200: "{agent_id, units, rows}", 404: "no row yet (AGENT_NOT_FOUND)" },
      handler: ({ params }) => showReputation(store, params.agent_id),
    }),
  ];
}
