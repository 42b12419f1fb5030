// /api/executors (SPEC §8, §10) and /api/reputation (SPEC §9).
import { z } from "zod";
import { WattswarmError } from "../../errors.js";
import { createExecutor, validateExecutorConfig } from "../../executors/registry.js";
import { secretEnvPolicy, secretEnvProblems } from "../../executors/secrets.js";
import { listReputation, showReputation } from "../../kernel/knowledge.js";
import type { JsonObject } from "../../spec/types.js";
import type { ApiExecutorPolicy, ServerDeps } from "../deps.js";
import { ApiError } from "../errors.js";
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
import { literalTargetProblems, resolvedTargetProblem } from "../targets.js";

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

/**
 * What the API may register beyond what `executors add` accepts (docs/operations.md, "Security model"): a
 * `command` executor runs a program on every worker, so it needs the operator's opt-in; secrets only from the
 * names the operator allows; no link-local or metadata targets.
 */
function enforceApiPolicy(kind: string, config: JsonObject, policy: ApiExecutorPolicy, name: string): void {
  if (kind === "command") {
    const program = Array.isArray(config.argv) ? config.argv[0] : undefined;
    const allowed = policy.allowCommand;
    if (allowed === false)
      throw new ApiError(
        403,
        "FORBIDDEN",
        `executor "${name}": command executors run programs on every worker, so this server does not accept them ` +
          "(register them with `wattswarm executors add … --command` on the worker's machine, or start serve with " +
          "--allow-command-executors or --allow-command <program>)",
      );
    if (allowed !== true && !(typeof program === "string" && allowed.includes(program)))
      throw new ApiError(
        403,
        "FORBIDDEN",
        `executor "${name}": program ${JSON.stringify(program)} is not one this server allows ` +
          `(--allow-command: ${allowed.map((p) => JSON.stringify(p)).join(", ")})`,
      );
  }
  const problems = [
    ...secretEnvProblems(kind, config, secretEnvPolicy(policy.secretEnv)),
    ...literalTargetProblems(kind, config),
  ];
  if (problems.length > 0)
    throw new ApiError(400, "USAGE", `executor "${name}": ${problems.join("; ")}`, configIssues(problems));
}

export function executorRoutes({ store, executorPolicy }: ServerDeps): RouteDef[] {
  const notRegistered = (name: string) =>
    new WattswarmError("EXECUTOR_NOT_FOUND", `executor "${name}" is not registered`);
  return [
    route({
      method: "GET",
      url: "/api/executors",
      tag: "executors",
      summary: "Registered executors, by name",
      response: z.array(ExecutorRecordSchema),
      responses: { 200: "an array of executors" },
      handler: () => store.listExecutors(),
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
        const problems = validateExecutorConfig(body.kind, body.config);
        if (problems.length > 0) {
          throw new ApiError(
            400,
            "USAGE",
            `executor "${body.name}": ${problems.join("; ")}`,
            configIssues(problems),
          );
        }
        enforceApiPolicy(body.kind, body.config as JsonObject, executorPolicy, body.name);
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
      response: OkResponse,
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
      response: ObjectResponse,
      responses: {
        200: "{name, kind, ok, …}; ok false when unhealthy",
        400: "the target is a link-local or metadata address",
        404: "not registered",
      },
      handler: async ({ params }) => {
        const record = await store.getExecutor(params.name);
        if (!record) throw notRegistered(params.name);
        const refused = await resolvedTargetProblem(record.kind, record.config);
        if (refused !== null) throw new ApiError(400, "BAD_REQUEST", `executor "${record.name}": ${refused}`);
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
      response: ReputationResponse,
      responses: { 200: "{agent_id, units, rows}", 404: "no row yet (AGENT_NOT_FOUND)" },
      handler: ({ params }) => showReputation(store, params.agent_id),
    }),
  ];
}
