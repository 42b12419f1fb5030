// GET /api/openapi.json: the OpenAPI 3.1 document, generated from the route table and the very zod schemas
// the routes validate with (route.ts), plus the run spec's JSON Schema (also generated from its zod schema).
import { z } from "zod";
import { runSpecJsonSchema } from "../spec/json-schema.js";
import type { RouteDef } from "./route.js";
import { ErrorSchema } from "./schemas.js";

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
  }) as Json;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: "path" | "query"): Json[] {
  if (!schema) return [];
  const js = jsonSchema(schema);
  const props = (js.properties ?? {}) as Record<string, Json>;
  const required = new Set((js.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    const p: Json = { name, in: where, required: where === "path" || required.has(name), schema: rest };
    if (description !== undefined) p.description = description;
    return p;
  });
}

function responses(def: RouteDef): Json {
  const out: Json = {};
  for (const [status, description] of Object.entries(def.responses)) {
    const code = Number(status);
    const r: Json = { description };
    if (code >= 400) {
      r.content = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
    } else if (def.produces) {
      r.content = { [def.produces]: { schema: { type: "string" } } };
    } else if (def.response) {
      r.content = { "application/json": { schema: jsonSchema(def.response) } };
    }
    out[status] = r;
  }
  if (def.auth !== false && out["401"] === undefined) {
    out["401"] = {
      description: "missing or wrong bearer token (when the server has one)",
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    };
  }
  return out;
}

function operation(def: RouteDef): Json {
  const op: Json = {
    tags: [def.tag],
    summary: def.summary,
    operationId: `${def.method.toLowerCase()}${def.url.replace(/[/:]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
    parameters: [...parameters(def.params, "path"), ...parameters(def.query, "query")],
    responses: responses(def),
    security: def.auth === false ? [] : [{ bearer: [] }],
  };
  const body = def.body ? jsonSchema(def.body) : def.bodyJsonSchema;
  if (body) {
    op.requestBody = {
      required: !(def.body?.safeParse(undefined).success ?? false),
      content: { "application/json": { schema: body } },
    };
  }
  return op;
}

export function openApiDocument(routes: readonly RouteDef[], version: string): Json {
  const paths: Record<string, Json> = {};
  for (const def of routes) {
    const path = def.url.replace(/:(\w+)/g, "{$1}");
    paths[path] ??= {};
    (paths[path] as Json)[def.method.toLowerCase()] = operation(def);
  }
  const { $schema: _s, $id: _i, ...runSpec } = runSpecJsonSchema();
  return {
    openapi: "3.1.0",
    info: {
      title: "WattSwarm HTTP API",
      version,
      description:
        "Runs, events (JSON and Server-Sent Events), executors, reputation and metrics of a WattSwarm store. Errors: {ok: false, error: {code, message, details?}}.",
    },
    paths,
    components: {
      schemas: { RunSpec: runSpec, Error: jsonSchema(ErrorSchema) },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
  };
}
