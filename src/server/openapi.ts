// GET /api/openapi.json: the OpenAPI 3.1 document, generated from the route table and the very zod schemas
// the routes validate with (route.ts), plus the run spec's JSON Schema (also generated from its zod schema).
// Besides the statuses each route declares, every operation gets the errors the server's hooks can answer
// with (app.ts, auth.ts, errors.ts); shared schemas live under components/schemas, where zod's `$defs` are
// hoisted too, so every `$ref` resolves from the document's root.
import { z } from "zod";
import { runSpecJsonSchema } from "../spec/json-schema.js";
import type { RouteDef } from "./route.js";
import { ClosingSchema, ErrorSchema, LegacyErrorSchema } from "./schemas.js";

type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

/** components/schemas, collecting the `$defs` of every converted zod schema under names of their own. */
class Components {
  readonly schemas: Record<string, Json> = {};
  /** A definition (its `$defs` key and body) → its component, so a shared schema is hoisted once. */
  private readonly hoisted = new Map<string, string>();

  add(name: string, schema: Json): void {
    this.schemas[name] = schema;
  }

  /**
   * The input JSON Schema of a zod schema, its `$defs` moved to components and its refs rewritten. Schemas
   * with a `.meta({id})` come out as `$defs` under that id (RunView, Event, JsonValue), so they are shared.
   */
  jsonSchema(schema: z.ZodType): Json {
    const {
      $schema: _s,
      $defs,
      ...rest
    } = z.toJSONSchema(schema, {
      io: "input",
      unrepresentable: "any",
    }) as Json;
    if ($defs === undefined) return rest;
    // Definitions are resolved once the ones they refer to are; one equal (name and body, refs resolved) to a
    // definition already hoisted is shared. Definitions referring to each other in a cycle get fresh names.
    const names: Record<string, string> = {};
    let pending = Object.entries($defs as Record<string, Json>);
    while (pending.length > 0) {
      const waiting = pending.filter(([def, body]) =>
        refsOf(body).some((r) => r !== def && names[r] === undefined),
      );
      const ready = pending.filter((entry) => !waiting.includes(entry));
      if (ready.length === 0) {
        for (const [def] of waiting) names[def] = this.freeName(def);
        for (const [def, body] of waiting)
          this.schemas[names[def] as string] = rewriteRefs(body, names) as Json;
        break;
      }
      for (const [def, body] of ready) {
        const key = `${def}\n${JSON.stringify(rewriteRefs(body, { ...names, [def]: "" }))}`;
        let name = this.hoisted.get(key);
        if (name === undefined) {
          name = this.freeName(def);
          this.hoisted.set(key, name);
          this.schemas[name] = rewriteRefs(body, { ...names, [def]: name }) as Json;
        }
        names[def] = name;
      }
      pending = waiting;
    }
    return rewriteRefs(rest, names) as Json;
  }

  /** `__schema0` → `Schema0` (then `Schema0_2`, … when taken). */
  private freeName(def: string): string {
    const base = def.replace(/^_+/, "").replace(/^./, (c) => c.toUpperCase()) || "Schema";
    let name = base;
    for (let i = 2; name in this.schemas; i++) name = `${base}_${i}`;
    this.schemas[name] = {};
    return name;
  }
}

/** The `$defs` keys a schema refers to. */
function refsOf(value: unknown): string[] {
  const text = JSON.stringify(value);
  return [...text.matchAll(/"\$ref":"#\/\$defs\/([^"]+)"/g)].map((m) => m[1] as string);
}

function rewriteRefs(value: unknown, names: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, names));
  if (value === null || typeof value !== "object") return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === "$ref" && typeof v === "string" && v.startsWith("#/$defs/")) {
      const name = names[v.slice("#/$defs/".length)];
      if (name === undefined) throw new Error(`openapi: unresolved ${v}`);
      out[k] = `#/components/schemas/${name}`;
    } else {
      out[k] = rewriteRefs(v, names);
    }
  }
  return out;
}

function parameters(c: Components, schema: z.ZodType | undefined, where: "path" | "query"): Json[] {
  if (!schema) return [];
  const js = c.jsonSchema(schema);
  const props = (js.properties ?? {}) as Record<string, Json>;
  const required = new Set((js.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => {
    const { description, ...rest } = s;
    const p: Json = { name, in: where, required: where === "path" || required.has(name), schema: rest };
    if (description !== undefined) p.description = description;
    return p;
  });
}

/** The statuses every route may answer with besides its own (descriptions used when it declares none). */
function commonResponses(def: RouteDef, tokenRequired: boolean): Record<number, string> {
  const input = def.params ?? def.query ?? def.body ?? def.bodyJsonSchema;
  const hasBody = def.method !== "GET";
  const out: Record<number, string> = {
    400: input
      ? "invalid input: details lists each issue with its path (BAD_REQUEST, or the kernel's code)"
      : "a request without a Host header (BAD_REQUEST)",
  };
  if (tokenRequired && def.auth !== false)
    out[401] = "missing or wrong bearer token (UNAUTHORIZED, with WWW-Authenticate)";
  out[403] = "a Host or Origin this server does not accept (FORBIDDEN)";
  if (def.params && !def.legacy) out[404] = "not found";
  if (hasBody) {
    out[413] = "body over 1 MiB (BODY_TOO_LARGE)";
    out[415] = "a body that is not JSON (UNSUPPORTED_MEDIA_TYPE)";
  }
  if (def.params) out[414] = "a path parameter longer than the router accepts (BAD_REQUEST)";
  out[500] = "unexpected error; see the server's log (INTERNAL, SCHEMA_CONFLICT)";
  out[503] = "store unreachable (DB_UNAVAILABLE), or the server is closing";
  return out;
}

/** The body schema of an error status: the API's Error, or what answers it besides. */
function errorSchema(def: RouteDef, code: number): Json {
  // The original routes' handlers answer every error with 400 and their envelope; the hooks' errors (parsing,
  // Host, token, limits) come before the handler, with the API's body.
  if (def.legacy && code === 400) return { anyOf: [ref("LegacyError"), ref("Error")] };
  if (code === 503) return { anyOf: [ref("Error"), ref("Closing")] };
  return ref("Error");
}

function responses(c: Components, def: RouteDef, tokenRequired: boolean): Json {
  const all: Record<number, string> = { ...commonResponses(def, tokenRequired), ...def.responses };
  const out: Json = {};
  for (const [status, description] of Object.entries(all).sort(([a], [b]) => Number(a) - Number(b))) {
    const code = Number(status);
    const r: Json = { description };
    const own = def.bodies?.[code];
    if (own) {
      const schema = c.jsonSchema(own);
      r.content = {
        "application/json": { schema: code === 503 ? { anyOf: [schema, ref("Closing")] } : schema },
      };
    } else if (code >= 400) {
      r.content = { "application/json": { schema: errorSchema(def, code) } };
    } else if (def.produces) {
      r.content = { [def.produces]: { schema: { type: "string" } } };
    } else if (def.response) {
      r.content = { "application/json": { schema: c.jsonSchema(def.response) } };
    }
    out[status] = r;
  }
  return out;
}

function operation(c: Components, def: RouteDef, tokenRequired: boolean): Json {
  const op: Json = {
    tags: [def.tag],
    summary: def.summary,
    operationId: `${def.method.toLowerCase()}${def.url.replace(/[/:]+(\w)/g, (_m, ch: string) => ch.toUpperCase())}`,
    parameters: [...parameters(c, def.params, "path"), ...parameters(c, def.query, "query")],
    responses: responses(c, def, tokenRequired),
  };
  // The document's `security` covers every operation; the public ones opt out.
  if (tokenRequired && def.auth === false) op.security = [];
  const body = def.body ? c.jsonSchema(def.body) : def.bodyJsonSchema;
  if (body) {
    op.requestBody = {
      required: !(def.body?.safeParse(undefined).success ?? false),
      content: { "application/json": { schema: body } },
    };
  }
  return op;
}

export interface OpenApiOptions {
  /** Whether the server has a bearer token: then every route but the public ones requires it. */
  tokenRequired: boolean;
}

export function openApiDocument(routes: readonly RouteDef[], version: string, options: OpenApiOptions): Json {
  const c = new Components();
  const { $schema: _s, $id: _i, ...runSpec } = runSpecJsonSchema();
  c.add("RunSpec", runSpec);
  c.add("Error", c.jsonSchema(ErrorSchema));
  c.add("LegacyError", c.jsonSchema(LegacyErrorSchema));
  c.add("Closing", c.jsonSchema(ClosingSchema));
  const paths: Record<string, Json> = {};
  for (const def of routes) {
    const path = def.url.replace(/:(\w+)/g, "{$1}");
    paths[path] ??= {};
    (paths[path] as Json)[def.method.toLowerCase()] = operation(c, def, options.tokenRequired);
  }
  const doc: Json = {
    openapi: "3.1.0",
    info: {
      title: "WattSwarm HTTP API",
      version,
      description:
        "Runs, events (JSON and Server-Sent Events), executors, reputation and metrics of a WattSwarm store. Errors: {ok: false, error: {code, message, details?}}; the original's /api/run/* routes answer their own errors with {ok: false, error: message, code}.",
    },
    // Relative to where the document is served: the server itself, whatever name or proxy reaches it.
    servers: [{ url: "/" }],
    paths,
    components: { schemas: c.schemas },
  };
  if (options.tokenRequired) {
    (doc.components as Json).securitySchemes = { bearer: { type: "http", scheme: "bearer" } };
    doc.security = [{ bearer: [] }];
  }
  return doc;
}
