// /api/executors (SPEC §8, §10) and /api/reputation (SPEC §9).
import { z } from "zod";
import { WattswarmError } from "../../errors.js";
import { createExecutor, validateExecutorConfig } from "../../executors/registry.js";
import { listReputation, showReputation } from "../../kernel/knowledge.js";
import type { JsonObject } from "../../spec/types.js";
import type { ServerDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { type RouteDef, route } from "../route.js";
import { AgentParams, ExecutorBody, ExecutorParams } from "../schemas.js";

const CHECK_TIMEOUT_MS = 10_000;

/** `key: rule` lines from validateExecutorConfig as issues with paths under `config`. */
function configIssues(problems: readonly string[]): { path: string; message: string }[] {
  return problems.map((p) => {
    const m = /^([^:\s]+): (.*)$/.exec(p);
    if (!m) return { path: "config", message: p };
    const key = m[1] ?? "";
    return { path: key === "kind" || key === "config" ? key : `config.${key}`, message: m[2] ?? p };
  });
}

export function executorRoutes({ store }: ServerDeps): RouteDef[] {
  const notRegistered = (name: string) =>
    new WattswarmError("EXECUTOR_NOT_FOUND", `executor "${name}" is not registered`);
  return [
    route({
      method: "GET",
      url: "/api/executors",
      tag: "executors",
      summary: "Registered executors, by name",
      responses: { 200: "an array of executors" },
      handler: () => store.listExecutors(),
    }),
    route({
      method: "POST",
      url: "/api/executors",
      tag: "executors",
      summary: "Register or replace an executor",
      body: ExecutorBody,
      responses: { 201: "registered", 200: "replaced", 400: "invalid name, kind or config (details)" },
      handler: async ({ body, reply }) => {
        const problems = validateExecutorConfig(body.kind, body.config);
        if (problems.length > 0) {
          throw new ApiError(
            400,
            "USAGE",
            `executor "${body.name}": ${problems.join("; ")}`,
            configIssues(problems),
          );
        }
        const existed = (await store.getExecutor(body.name)) !== null;
        const record = await store.upsertExecutor({
          name: body.name,
          kind: body.kind,
          config: body.config as JsonObject,
        });
        reply.code(existed ? 200 : 201);
        return record;
      },
    }),
    route({
      method: "DELETE",
      url: "/api/executors/:name",
      tag: "executors",
      summary: "Remove an executor (a removed default stays removed)",
      params: ExecutorParams,
      responses: { 200: "{ok, name, removed: true}", 404: "not registered (EXECUTOR_NOT_FOUND)" },
      handler: async ({ params }) => {
        if (!(await store.removeExecutor(params.name))) throw notRegistered(params.name);
        return { ok: true, name: params.name, removed: true };
      },
    }),
    route({
      method: "GET",
      url: "/api/executors/:name/check",
      tag: "executors",
      summary: "Probe an executor's health and capabilities (as `executors check`)",
      params: ExecutorParams,
      responses: { 200: "{name, kind, ok, …}; ok false when unhealthy", 404: "not registered" },
      handler: async ({ params }) => {
        const record = await store.getExecutor(params.name);
        if (!record) throw notRegistered(params.name);
        const check = await createExecutor(record).check(AbortSignal.timeout(CHECK_TIMEOUT_MS));
        return { name: record.name, kind: record.kind, ...check };
      },
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
      responses: { 200: "{agent_id, units, rows}", 404: "no row yet (AGENT_NOT_FOUND)" },
      handler: ({ params }) => showReputation(store, params.agent_id),
    }),
  ];
}
