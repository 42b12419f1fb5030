// A tiny real HTTP runtime for tests (node:http on 127.0.0.1, random port). It speaks SPEC §8.2 with
// canned or scripted replies and records every request, so tests check what really went over the wire.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query string without `?`, or "". */
  query: string;
  /** Lower-cased names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body is JSON, else the raw text (or undefined when empty). */
  body: unknown;
  rawBody: string;
  receivedAt: number;
  /** True once the client closed the connection before the reply was sent (timeout, cancel). */
  clientClosed: boolean;
  /** True once the reply was fully written. */
  replied: boolean;
}

export interface Reply {
  status?: number;
  /** A string or Buffer is sent as is; anything else as JSON. `undefined` sends an empty body. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before replying (abandoned if the client goes away). */
  delayMs?: number;
  /** Send the body in chunks without a Content-Length (chunked transfer encoding). */
  stream?: boolean;
}

export type Handler = (body: unknown, req: RecordedRequest) => Reply | Promise<Reply>;
/** A fixed reply, a function producing one, or null for 404. */
export type Route = Reply | Handler | null;

export interface TestRuntimeOptions {
  /** POST /execute; default: 200 `{candidate_output: {decision: "A", answer: "A", confidence: 0.9}}`. */
  execute?: Route;
  /** GET /capabilities; default: accepts every task type and profile. null → 404 (an older runtime). */
  capabilities?: Route;
  /** POST /verify; default: `{passed: true}`. */
  verify?: Route;
  /** GET /health; default: 200 `{ok: true}`. */
  health?: Route;
  /** Extra routes by path (any method), e.g. `/v1/chat/completions`; they win over the defaults above. */
  routes?: Record<string, Route>;
}

export interface TestRuntime {
  url: string;
  requests: RecordedRequest[];
  /** Requests to one path, in arrival order. */
  requestsTo(path: string): RecordedRequest[];
  /** Resolves once `predicate` holds (polled), rejects after `timeoutMs`. */
  waitFor(predicate: (requests: RecordedRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_CAPABILITIES = {
  task_types: ["*"],
  profiles: ["*"],
  provider_family: "test",
  model_id: "test-runtime",
};

const DEFAULT_ROUTES: Record<string, Route> = {
  "/execute": { body: { candidate_output: { decision: "A", answer: "A", confidence: 0.9 } } },
  "/capabilities": { body: DEFAULT_CAPABILITIES },
  "/verify": { body: { passed: true } },
  "/health": { body: { ok: true } },
};

function parseBody(raw: string): unknown {
  if (raw === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function encode(body: unknown): { data: Buffer; json: boolean } {
  if (body === undefined) return { data: Buffer.alloc(0), json: false };
  if (Buffer.isBuffer(body)) return { data: body, json: false };
  if (typeof body === "string") return { data: Buffer.from(body, "utf8"), json: false };
  return { data: Buffer.from(JSON.stringify(body), "utf8"), json: true };
}

export async function startTestRuntime(options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  const routes: Record<string, Route> = { ...DEFAULT_ROUTES };
  for (const path of ["execute", "capabilities", "verify", "health"] as const) {
    const route = options[path];
    if (route !== undefined) routes[`/${path}`] = route;
  }
  Object.assign(routes, options.routes);

  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const delay = (ms: number, res: ServerResponse): Promise<boolean> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve(!res.destroyed);
      }, ms);
      timers.add(timer);
      res.once("close", () => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve(false);
      });
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path,
      query,
      headers: req.headers,
      body: parseBody(rawBody),
      rawBody,
      receivedAt: Date.now(),
      clientClosed: false,
      replied: false,
    };
    requests.push(record);
    res.once("close", () => {
      if (!res.writableFinished) record.clientClosed = true;
    });

    const route = Object.hasOwn(routes, path) ? routes[path] : null;
    let reply: Reply;
    if (route === null || route === undefined) reply = { status: 404, body: { error: `no route ${path}` } };
    else if (typeof route === "function") {
      try {
        reply = await route(record.body, record);
      } catch (err) {
        reply = {
          status: 500,
          body: `test handler threw: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    } else reply = route;

    if (reply.delayMs !== undefined && reply.delayMs > 0 && !(await delay(reply.delayMs, res))) return;
    if (res.destroyed) return;
    const { data, json } = encode(reply.body);
    const headers: Record<string, string> = {};
    if (json) headers["content-type"] = "application/json";
    Object.assign(headers, reply.headers);
    if (!reply.stream) headers["content-length"] = String(data.length);
    res.writeHead(reply.status ?? 200, headers);
    if (reply.stream) {
      const size = 64 * 1024;
      for (let offset = 0; offset < data.length && !res.destroyed; offset += size) {
        if (!res.write(data.subarray(offset, offset + size))) {
          await new Promise<void>((resolve) => {
            const done = (): void => {
              res.off("drain", done);
              res.off("close", done);
              resolve();
            };
            res.once("drain", done);
            res.once("close", done);
          });
        }
      }
    }
    res.end(reply.stream ? undefined : data, () => {
      record.replied = true;
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path),
    async waitFor(predicate, timeoutMs = 2000) {
      const started = Date.now();
      while (!predicate(requests)) {
        if (Date.now() - started > timeoutMs)
          throw new Error(`waitFor: condition not met in ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A URL on which nothing listens (a port just released), for connection-refused tests. */
export async function unusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
