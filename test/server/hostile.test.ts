// Hostile request bodies (issue 9 item 3, SPEC §10): fast-check generated JSON, huge strings, deep nesting,
// wrong types, `__proto__` keys, non-JSON bytes and odd content types at every POST route that reads a body.
// Each one gets a 4xx with the error body shape, never a 500, and writes nothing (row counts unchanged).
// On SQLite (a temp file) and PostgreSQL (this file's schema; skipped with a notice when unreachable), the rows
// counted beside the app: on a read-only SQLite connection, on an admin PostgreSQL connection.
import Database from "better-sqlite3";
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "../../src/index.js";
import { BODY_MAX_DEPTH, buildApp } from "../../src/server/app.js";
import { PostgresStore, SqliteStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/port.js";
import { describePg, type PgTestContext } from "../support/pg.js";
import { useTempSqlite } from "../support/sqlite.js";
import { simSpec } from "./helpers.js";

const TABLES = ["runs", "run_steps", "run_step_attempts", "run_events", "executors", "agent_reputation"];
const RUNS = 150;

/** The store under test, and a reader beside the app that sees the rows a request may have written. */
interface Backend {
  store: Store;
  rowCounts(): Promise<Record<string, number>>;
  /** A run's spec_json as stored (the text, parsed here). */
  storedSpec(runId: string): Promise<{ shared_inputs: Record<string, unknown> }>;
  close(): Promise<void>;
}

function sqliteBackend(path: string): Backend {
  const store = new SqliteStore({ path });
  let reader: Database.Database | undefined;
  // Opened on first use: the file exists once the store has migrated.
  const read = () => {
    reader ??= new Database(path, { readonly: true });
    return reader;
  };
  return {
    store,
    async rowCounts() {
      const out: Record<string, number> = {};
      for (const t of TABLES)
        out[t] = (read().prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
      return out;
    },
    async storedSpec(runId) {
      const row = read().prepare("SELECT spec_json FROM runs WHERE run_id = ?").get(runId) as {
        spec_json: string;
      };
      return JSON.parse(row.spec_json);
    },
    async close() {
      reader?.close();
      await store.close();
    },
  };
}

function pgBackend(pg: PgTestContext): Backend {
  const store = new PostgresStore({ url: pg.url, schema: pg.schema });
  const table = (t: string) => `"${pg.schema}".${t}`;
  const countAll = TABLES.map((t) => `(SELECT count(*)::int FROM ${table(t)}) AS ${t}`).join(", ");
  return {
    store,
    async rowCounts() {
      const [row] = await pg.query<Record<string, number>>(`SELECT ${countAll}`);
      return { ...row };
    },
    async storedSpec(runId) {
      // As text, like SQLite's: the key order and the `__proto__` key exactly as stored.
      const [row] = await pg.query<{ t: string }>(
        `SELECT spec_json::text AS t FROM ${table("runs")} WHERE run_id = $1`,
        [runId],
      );
      return JSON.parse(row?.t ?? "null");
    },
    close: () => store.close(),
  };
}

// The suite's backend and app: set by the beforeAll of the store's describe (they run one after the other).
let backend: Backend;
let app: FastifyInstance;
const internalErrors: string[] = [];

function rowCounts(): Promise<Record<string, number>> {
  return backend.rowCounts();
}

interface Sent {
  status: number;
  body: unknown;
}

async function post(url: string, payload: string | Buffer, contentType = "application/json"): Promise<Sent> {
  const res = await app.inject({ method: "POST", url, payload, headers: { "content-type": contentType } });
  let body: unknown = res.body;
  try {
    body = JSON.parse(res.body);
  } catch {
    // checked below: an error body must be JSON
  }
  return { status: res.statusCode, body };
}

/** `{ok:false, error:{code, message, details?}}`; the original's routes also send `{ok:false, error:"…", code}`. */
function expectErrorBody(sent: Sent, legacy = false): void {
  const body = sent.body as Record<string, unknown>;
  expect(typeof body).toBe("object");
  expect(body.ok).toBe(false);
  const error = body.error as Record<string, unknown> | string;
  if (legacy && typeof error === "string") {
    expect(error.length).toBeGreaterThan(0);
    expect(typeof body.code).toBe("string");
    return;
  }
  expect(typeof error).toBe("object");
  const e = error as Record<string, unknown>;
  expect(typeof e.code).toBe("string");
  expect(typeof e.message).toBe("string");
  expect(e.code).not.toBe("INTERNAL");
  if (e.details !== undefined) {
    expect(Array.isArray(e.details)).toBe(true);
    for (const d of e.details as { path: unknown; message: unknown }[]) {
      expect(typeof d.path).toBe("string");
      expect(typeof d.message).toBe("string");
    }
  }
}

/** Sends, then checks: a 4xx (one of `allowed`), the error shape, no 500 logged, no row written. */
async function expectRejected(
  url: string,
  payload: string | Buffer,
  opts: { contentType?: string; allowed?: number[]; legacy?: boolean } = {},
): Promise<Sent> {
  const before = await rowCounts();
  const sent = await post(url, payload, opts.contentType);
  const allowed = opts.allowed ?? [400, 404, 409, 413];
  if (!allowed.includes(sent.status)) {
    const short = (v: string) => (v.length > 200 ? `${v.slice(0, 200)}… (${v.length} chars)` : v);
    throw new Error(
      `${short(url)}: status ${sent.status} for ${short(String(payload))}: ${short(JSON.stringify(sent.body))}`,
    );
  }
  expectErrorBody(sent, opts.legacy);
  expect(await rowCounts()).toEqual(before);
  expect(internalErrors).toEqual([]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  return sent;
}

// --- generators ---------------------------------------------------------------------------------------------

const PROTO_KEYS = ["__proto__", "constructor", "prototype"];
const hostileKey = fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 8 }));

/** JSON text nested `levels` deep, objects and arrays mixed, with a hostile key here and there. */
const deepText = fc
  .record({
    levels: fc.integer({ min: BODY_MAX_DEPTH + 1, max: 20_000 }),
    key: fc.constantFrom("x", "__proto__", "constructor"),
    arrays: fc.boolean(),
  })
  .map(({ levels, key, arrays }) =>
    arrays ? "[".repeat(levels) + "]".repeat(levels) : `${`{"${key}":`.repeat(levels)}1${"}".repeat(levels)}`,
  );

/** Any JSON, `__proto__` keys included (JSON.parse makes them own properties). */
const anyJson = fc.jsonValue({ maxDepth: 4 });
const protoJson = fc
  .tuple(
    fc.jsonValue({ maxDepth: 2 }),
    fc.array(fc.tuple(hostileKey, fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }),
  )
  // Written as text: a JS object literal with `__proto__` would set the prototype instead of a key.
  .map(([first, rest]) => {
    const entries = [`"__proto__":${JSON.stringify(first)}`];
    for (const [k, v] of rest) entries.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    return `{${entries.join(",")}}`;
  });
const hugeString = fc.integer({ min: 64 * 1024 + 1, max: 200_000 }).map((n) => "x".repeat(n));

const nonJsonBytes = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((a) => Buffer.from([0xff, ...a])),
  fc.constantFrom("{nope", "{'a':1}", "[1,]", "NaN", "{} {}", '{"a":', "\u0000", "undefined"),
);
const contentType = fc.constantFrom(
  "application/json",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "application/json; charset=latin1",
);

const oversized = (prefix: string, suffix: string) => `${prefix}"${"y".repeat(1024 * 1024 + 16)}"${suffix}`;

// --- properties ---------------------------------------------------------------------------------------------

function hostileBodies(open: () => Backend): void {
  beforeAll(async () => {
    backend = open();
    const { store } = backend;
    await store.migrate();
    app = buildApp(store, { logError: (m) => internalErrors.push(m) });
    await app.ready();
    // "created-1" stays CREATED; "done-1" is FINALIZED.
    for (const id of ["created-1", "done-1"]) {
      const res = await app.inject({ method: "POST", url: "/api/runs", payload: simSpec(id) });
      expect(res.statusCode).toBe(201);
    }
    await app.inject({ method: "POST", url: "/api/runs/done-1/kickoff" });
    await startWorker(store, { runId: "done-1", pollMs: 20, exitWhenIdle: true }).done;
    const done = await app.inject({ method: "GET", url: "/api/runs/done-1" });
    expect(done.json().status).toBe("FINALIZED");
  });

  afterAll(async () => {
    await app?.close();
    await backend?.close();
  });

  const opts = { numRuns: RUNS };

  it("non-JSON bytes under any content type: 400 as JSON, 415 for any other type, nothing written", async () => {
    const urls = [
      "/api/runs",
      "/api/run/submit",
      "/api/executors",
      "/api/runs/done-1/feedback",
      "/api/runs/done-1/reaggregate",
      "/api/runs/created-1/kickoff",
      "/api/runs/done-1/cancel",
      "/api/runs/done-1/retry",
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...urls), nonJsonBytes, contentType, async (url, bytes, ct) => {
        const json = ct.startsWith("application/json");
        await expectRejected(url, bytes, { contentType: ct, allowed: json ? [400] : [415] });
      }),
      opts,
    );
  });

  it("nesting deeper than the body limit, anywhere: 400 naming the limit, no stack overflow", async () => {
    const wrap = fc.constantFrom(
      ["/api/runs", (d: string) => `{"spec":${d}}`],
      ["/api/runs", (d: string) => d],
      ["/api/run/submit", (d: string) => `{"run_spec":${d}}`],
      ["/api/executors", (d: string) => `{"name":"e","kind":"sim","config":{"a":${d}}}`],
      ["/api/runs/done-1/feedback", (d: string) => `{"correct":${d}}`],
      ["/api/runs/done-1/reaggregate", (d: string) => `{"policy":{"tie_policy":${d}}}`],
      ["/api/runs/created-1/kickoff", (d: string) => d],
      ["/api/runs/created-1/cancel", (d: string) => d],
    ) as fc.Arbitrary<[string, (d: string) => string]>;
    await fc.assert(
      fc.asyncProperty(wrap, deepText, async ([url, make], deep) => {
        const sent = await expectRejected(url, make(deep), { allowed: [400] });
        expect(JSON.stringify(sent.body)).toContain(`limit ${BODY_MAX_DEPTH}`);
      }),
      { numRuns: 60 },
    );
  });

  it("bodies over 1 MiB: 413 with BODY_TOO_LARGE", async () => {
    for (const url of [
      "/api/runs",
      "/api/run/submit",
      "/api/executors",
      "/api/runs/done-1/feedback",
      "/api/runs/done-1/reaggregate",
      "/api/runs/created-1/kickoff",
    ]) {
      const sent = await expectRejected(url, oversized('{"a":', "}"), { allowed: [413] });
      expect((sent.body as { error: { code: string; message: string } }).error).toMatchObject({
        code: "BODY_TOO_LARGE",
        message: expect.stringContaining("1 MiB"),
      });
    }
  });

  it("POST /api/runs and /api/run/submit: random JSON, envelopes and broken specs → 400/409, no run stored", async () => {
    const brokenSpec = fc.oneof(
      // A spec with one field replaced by anything of the wrong shape.
      fc
        .record({
          field: fc.constantFrom("run_id", "agents", "retry", "aggregation", "task_type"),
          value: fc.oneof(
            fc.constant(null),
            fc.integer(),
            fc.boolean(),
            fc.array(fc.integer(), { maxLength: 2 }),
          ),
        })
        .map(({ field, value }) => JSON.stringify({ ...simSpec("fz-1"), [field]: value })),
      // A string over 64 KiB in a checked field or in the free-form inputs.
      fc.tuple(fc.constantFrom("prompt", "executor", "profile"), hugeString).map(([field, s]) => {
        const spec = simSpec("fz-2");
        (spec.agents as Record<string, unknown>[])[0]![field] = s;
        return JSON.stringify(spec);
      }),
      hugeString.map((s) => JSON.stringify({ ...simSpec("fz-3"), shared_inputs: { doc: s } })),
      // Nesting over the spec's 32 levels but within the body's limit: the spec's own issue.
      fc.integer({ min: 33, max: BODY_MAX_DEPTH - 1 }).map((n) => {
        const spec = JSON.stringify({ ...simSpec("fz-4"), shared_inputs: 0 });
        return spec.replace('"shared_inputs":0', `"shared_inputs":${"[".repeat(n)}${"]".repeat(n)}`);
      }),
      // `__proto__`/`constructor`/`prototype` where the spec has fixed keys: unknown keys.
      fc
        .tuple(fc.constantFrom(...PROTO_KEYS), fc.constantFrom("top", "agent", "aggregation", "retry"))
        .map(([key, where]) => {
          const inner = `"${key}":{"polluted":true},`;
          const text = JSON.stringify({ ...simSpec("fz-5"), retry: {}, aggregation: {} });
          if (where === "top") return `{${inner}${text.slice(1)}`;
          const anchor = { agent: '"agent_id"', aggregation: '"aggregation":{', retry: '"retry":{' }[where];
          const at = text.indexOf(anchor) + anchor.length;
          return where === "agent"
            ? text.replace('{"agent_id"', `{${inner}"agent_id"`)
            : `${text.slice(0, at)}${inner.slice(0, -1)}${text.slice(at)}`;
        }),
      // Envelopes with wrong types or extra keys.
      fc
        .record(
          { spec: anyJson, kickoff: fc.oneof(anyJson, fc.boolean()), extra: anyJson },
          { requiredKeys: [] },
        )
        .filter((e) => "spec" in e)
        .map((e) => JSON.stringify(e)),
      fc.record({ spec: fc.constant(simSpec("fz-6")), run_spec: anyJson }).map((e) => JSON.stringify(e)),
      // More than 1000 agents.
      fc.integer({ min: 1001, max: 1200 }).map((n) => JSON.stringify(simSpec("fz-7", n))),
      anyJson.map((v) => JSON.stringify(v)),
      protoJson,
    );
    await fc.assert(
      fc.asyncProperty(fc.boolean(), brokenSpec, async (legacy, text) => {
        const url = legacy ? "/api/run/submit" : "/api/runs";
        const sent = await expectRejected(url, text, { legacy, allowed: legacy ? [400] : [400, 409] });
        expect(JSON.stringify(sent.body)).not.toContain("\\n    at ");
      }),
      opts,
    );
  });

  it("names the broken limit: 64 KiB, 32 levels, 1000 agents", async () => {
    const big = { ...simSpec("lim-1"), shared_inputs: { doc: "x".repeat(64 * 1024 + 1) } };
    const deep = JSON.stringify({ ...simSpec("lim-2"), shared_inputs: 0 }).replace(
      '"shared_inputs":0',
      `"shared_inputs":${"[".repeat(40)}${"]".repeat(40)}`,
    );
    const cases: [string, string][] = [
      [JSON.stringify(big), "limit 64 KiB"],
      [deep, "limit 32"],
      [JSON.stringify(simSpec("lim-3", 1001)), "(max 1000)"],
    ];
    for (const [text, limit] of cases) {
      const sent = await expectRejected("/api/runs", text, { allowed: [400] });
      expect(JSON.stringify(sent.body)).toContain(limit);
    }
  });

  it("POST /api/executors: wrong types, bad names, huge and hostile configs → 400, nothing registered", async () => {
    const badBody = fc.oneof(
      anyJson,
      protoJson,
      fc.record(
        {
          name: fc.oneof(
            fc.string({ maxLength: 4 }).filter((s) => !/^[A-Za-z0-9._:-]{1,128}$/.test(s)),
            anyJson,
          ),
          kind: fc.oneof(fc.constantFrom("http", "command", "sim"), anyJson),
          config: fc.oneof(anyJson, fc.dictionary(hostileKey, anyJson)),
        },
        { requiredKeys: [] },
      ),
      fc
        .record({
          kind: fc.constantFrom("http", "sim", "command", "openai"),
          key: hostileKey,
          value: anyJson,
        })
        .map(({ kind, key, value }) => ({ name: "fz-exec", kind, config: { [key]: value }, extra: 1 })),
      fc
        .record({ kind: fc.constantFrom("http", "sim", "command", "openai"), s: hugeString })
        .map(({ kind, s }) => ({ name: "fz-exec", kind, config: { [`k${s.length}`]: s } })),
      fc.constant({ name: "x".repeat(129), kind: "sim", config: {} }),
    );
    await fc.assert(
      fc.asyncProperty(badBody, async (body) => {
        const text = typeof body === "string" ? body : JSON.stringify(body);
        await expectRejected("/api/executors", text, { allowed: [400] });
      }),
      opts,
    );
  });

  it("POST /api/runs/:id/feedback: random bodies on a CREATED, unknown or malformed run → 400/404/409", async () => {
    const target = fc.constantFrom("created-1", "no-such-run", "bad%20id", "x".repeat(129), "%zz");
    const body = fc.oneof(
      anyJson.map((v) => JSON.stringify(v)),
      protoJson,
      fc.record({ correct: anyJson }).map((v) => JSON.stringify(v)),
      fc.record({ correct: anyJson, extra: anyJson }).map((v) => JSON.stringify(v)),
      hugeString.map((s) => JSON.stringify({ correct: s })),
    );
    await fc.assert(
      fc.asyncProperty(target, body, async (id, text) => {
        await expectRejected(`/api/runs/${id}/feedback`, text);
      }),
      opts,
    );
    // On the FINALIZED run, a body that is not exactly {correct: <non-empty value>} is still refused.
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          protoJson,
          fc.constantFrom("{}", "[]", "null", "1", '"A"', '{"correct":null}', '{"correct":""}'),
          fc.record({ correct: anyJson, extra: anyJson }).map((v) => JSON.stringify(v)),
        ),
        async (text) => {
          await expectRejected("/api/runs/done-1/feedback", text, { allowed: [400] });
        },
      ),
      opts,
    );
  });

  it("POST /api/runs/:id/reaggregate: hostile policies → 4xx, or 200 that writes nothing", async () => {
    const policy = fc.oneof(
      anyJson,
      fc.dictionary(hostileKey, anyJson),
      fc.record(
        {
          mode: anyJson,
          vote_on: anyJson,
          quorum: anyJson,
          tie_policy: fc.oneof(anyJson, fc.record({ chain: fc.array(anyJson, { maxLength: 3 }) })),
          null_policy: anyJson,
        },
        { requiredKeys: [] },
      ),
    );
    const body = fc.oneof(
      policy.map((p) => JSON.stringify({ policy: p })),
      fc.record({ policy: policy, live_reputation: anyJson }).map((v) => JSON.stringify(v)),
      anyJson.map((v) => JSON.stringify(v)),
      protoJson,
      hugeString.map((s) => JSON.stringify({ policy: { mode: s } })),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("done-1", "created-1", "no-such-run"), body, async (id, text) => {
        const before = await rowCounts();
        const sent = await post(`/api/runs/${id}/reaggregate`, text);
        if (sent.status !== 200) {
          expect([400, 404, 409]).toContain(sent.status);
          expectErrorBody(sent);
        } else {
          expect(id).toBe("done-1");
        }
        expect(await rowCounts()).toEqual(before);
        expect(internalErrors).toEqual([]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      opts,
    );
  });

  it("POST /api/runs/:id/{kickoff,cancel,retry}: any body, on a terminal or unknown run → 404/409", async () => {
    const target = fc.constantFrom("done-1", "no-such-run");
    const action = fc.constantFrom("kickoff", "cancel", "retry");
    const body = fc.oneof(
      anyJson.map((v) => JSON.stringify(v)),
      protoJson,
      fc.constant(""),
    );
    await fc.assert(
      fc.asyncProperty(target, action, body, async (id, act, text) => {
        const sent = await expectRejected(`/api/runs/${id}/${act}`, text, { allowed: [404, 409] });
        const code = (sent.body as { error: { code: string } }).error.code;
        expect(code).toBe(id === "done-1" ? "INVALID_STATE" : "RUN_NOT_FOUND");
      }),
      opts,
    );
  });

  it("run ids in the URL: 101–128 characters reach the kernel; longer or malformed ones get the error body", async () => {
    const ids = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9._:-]{101,128}$/),
      fc.stringMatching(/^[A-Za-z0-9._:-]{129,3000}$/),
      fc.constantFrom("%zz", "%", "a%2Fb", "%00", "x%20y"),
    );
    await fc.assert(
      fc.asyncProperty(
        ids,
        fc.constantFrom("kickoff", "cancel", "retry", "feedback", "reaggregate"),
        async (id, act) => {
          const body = act === "feedback" ? '{"correct":"A"}' : "{}";
          const sent = await expectRejected(`/api/runs/${id}/${act}`, body, {
            allowed: [400, 404, 414],
          });
          const code = (sent.body as { error: { code: string } }).error.code;
          if (/^[A-Za-z0-9._:-]{1,128}$/.test(id)) expect(code).toBe("RUN_NOT_FOUND");
          else expect(code).toBe("BAD_REQUEST");
        },
      ),
      { numRuns: 60 },
    );
  });

  it("`__proto__` and `constructor` in free-form inputs are stored as plain keys, with no pollution", async () => {
    const text = JSON.stringify({ ...simSpec("proto-1"), shared_inputs: { topic: "t" } }).replace(
      '"topic":"t"',
      '"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"topic":"t"',
    );
    const before = await rowCounts();
    const sent = await post("/api/runs", text);
    expect(sent.status).toBe(201);
    expect((await rowCounts()).runs).toBe(before.runs! + 1);
    const stored = await backend.storedSpec("proto-1");
    expect(Object.keys(stored.shared_inputs)).toEqual(["__proto__", "constructor", "topic"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
}

// Last: the suites are collected when these run, and they use the generators above.
describe("hostile bodies at the HTTP API (sqlite, in-process)", () => {
  const tempDb = useTempSqlite();
  hostileBodies(() => sqliteBackend(tempDb()));
});

describePg("hostile bodies at the HTTP API (pg, in-process)", (pg) => {
  hostileBodies(() => pgBackend(pg));
});
