// A real `serve` app on a random port over a real store: PostgreSQL (a schema per store, skipped without a
// server) and SQLite (a temp file per store).
import { afterAll, describe } from "vitest";
import { type AppOptions, buildApp } from "../../src/server/app.js";
import { openStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/port.js";
import { describePg } from "../support/pg.js";
import { useTempSqlite } from "../support/sqlite.js";

export interface TestServer {
  url: string;
  store: Store;
  /** fetch relative to the server, with a JSON body when `json` is given. */
  call(
    path: string,
    init?: RequestInit & { json?: unknown; token?: string },
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely and assert their shape
  ): Promise<{ status: number; body: any; headers: Headers }>;
  close(): Promise<void>;
}

export interface ServerSuite {
  kind: "pg" | "sqlite";
  start(opts?: AppOptions): Promise<TestServer>;
}

const open: TestServer[] = [];
afterAll(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
});

async function startOn(store: Store, options: AppOptions): Promise<TestServer> {
  await store.migrate();
  const errors: string[] = [];
  const app = buildApp(store, { logError: (m) => errors.push(m), ...options });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  const server: TestServer = {
    url,
    store,
    async call(path, init = {}) {
      const { json, token: bearer, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (json !== undefined) headers.set("content-type", "application/json");
      if (bearer !== undefined) headers.set("authorization", `Bearer ${bearer}`);
      const res = await fetch(`${url}${path}`, {
        ...rest,
        headers,
        ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
      });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON (metrics, HTML)
      }
      return { status: res.status, body, headers: res.headers };
    },
    async close() {
      await app.close();
      await store.close();
    },
  };
  open.push(server);
  return server;
}

/** Runs `fn` once per store kind; each `start()` gives a fresh store and server. */
export function describeServer(name: string, fn: (suite: ServerSuite) => void): void {
  describe(name, () => {
    describePg("pg", (pg) => {
      fn({
        kind: "pg",
        start: async (opts = {}) =>
          startOn(
            await openStore({ kind: "postgres", url: pg.url, schema: pg.newSchema(), source: "flag" }),
            opts,
          ),
      });
    });
    describe("sqlite", () => {
      const tempDb = useTempSqlite();
      fn({
        kind: "sqlite",
        start: async (opts = {}) =>
          startOn(await openStore({ kind: "sqlite", path: tempDb(), source: "flag" }), opts),
      });
    });
  });
}

/** A small valid spec on the built-in `sim` executor. */
export function simSpec(runId: string, agents = 3, executor = "sim"): Record<string, unknown> {
  return {
    run_id: runId,
    shared_inputs: { topic: "t", _sim: { accuracy: 1, truth: "A" } },
    agents: Array.from({ length: agents }, (_, i) => ({ agent_id: `agent-${i}`, prompt: "p", executor })),
  };
}
