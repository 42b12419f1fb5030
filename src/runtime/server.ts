// The reference executor runtime (SPEC §8.2) and its SDK: `createRuntime(handler)` turns one async function
// into a server the kernel's http executor can call. node:http only: four routes need no framework.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage } from "../errors.js";
import { OUTPUT_LIMIT_BYTES } from "../executors/output.js";
import type { JsonObject } from "../spec/types.js";
import {
  bearerToken,
  hostPolicy,
  hostProblem,
  isJsonContentType,
  originProblem,
  tokenMatches,
} from "../util/http-guard.js";
import {
  type Capabilities,
  type ExecuteHandler,
  type RuntimeContext,
  RuntimeError,
  type RuntimeHandler,
} from "./types.js";
import {
  type Checked,
  checkExecuteRequest,
  checkVerifyRequest,
  defaultVerify,
  toExecuteResponse,
  toVerifyResult,
} from "./validate.js";

export interface RuntimeOptions {
  /** Request bodies beyond this are refused with 413 (default 1 MiB, the kernel's own output limit). */
  maxBodyBytes?: number;
  /** One line per problem worth an operator's attention (handler errors); default: stderr. */
  log?: (line: string) => void;
  /** When set (non-empty), every route but `GET /health` needs `Authorization: Bearer <token>` (else 401). */
  token?: string;
  /**
   * Host names served besides loopback ones (DNS rebinding guard, 403 otherwise). Bound to a wildcard or a
   * public address, any name passes unless this list is given; see `hostPolicy`.
   */
  allowedHosts?: string[];
  /**
   * Time to receive a whole request, headers and body (default 30 s); a slower client gets 408 and the
   * connection is closed. The handler's own time is not counted.
   */
  requestTimeoutMs?: number;
}

export interface Runtime {
  readonly server: Server;
  /**
   * Starts listening (port 0 picks a free one) and resolves to the base URL, e.g. http://127.0.0.1:8787.
   * `host` also sets which Host headers pass (see `allowedHosts`).
   */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_RUNTIME_PORT = 8787;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

const DEFAULT_CAPABILITIES: Capabilities = {
  task_types: ["*"],
  profiles: ["*"],
  provider_family: "custom",
  model_id: "handler",
};

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

class BodyTooLarge extends Error {}

function json(res: ServerResponse, reply: Reply): void {
  if (res.destroyed || res.headersSent) return;
  const data = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(data),
    ...reply.headers,
  });
  res.end(data);
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A refusal before the body is read: the connection is closed rather than the unread body drained. */
function refused(status: number, error: string, headers: Record<string, string> = {}): Reply {
  return { status, body: { error }, headers: { connection: "close", ...headers } };
}

function badRequest(problems: string[]): Reply {
  return { status: 400, body: { error: `invalid request: ${problems.join("; ")}`, problems } };
}

function errorReply(err: unknown, log: (line: string) => void, path: string): Reply {
  if (err instanceof RuntimeError) {
    const headers: Record<string, string> = {};
    if (err.retryAfterMs !== undefined) headers["retry-after"] = String(Math.ceil(err.retryAfterMs / 1000));
    return { status: err.status, body: { error: err.message }, headers };
  }
  const message = errorMessage(err);
  log(`runtime: ${path} handler failed: ${message}`);
  return { status: 500, body: { error: `handler failed: ${message}` } };
}

function contextFor(req: IncomingMessage, res: ServerResponse): { ctx: RuntimeContext; done: () => void } {
  const controller = new AbortController();
  const header = Number(req.headers["x-wattswarm-deadline-ms"]);
  const deadline = Number.isFinite(header) && header > 0 ? header : null;
  const onClose = (): void => {
    if (!res.writableFinished) controller.abort(new Error("the caller closed the connection"));
  };
  res.once("close", onClose);
  const timer =
    deadline === null
      ? undefined
      : setTimeout(() => controller.abort(new Error("deadline passed")), Math.max(0, deadline - Date.now()));
  return {
    ctx: { signal: controller.signal, deadline_ms: deadline, headers: req.headers },
    done: () => {
      clearTimeout(timer);
      res.off("close", onClose);
    },
  };
}

/** A function or a `{execute, verify?, capabilities?}` object (a handler module's namespace works as is). */
export function createRuntime(
  handler: ExecuteHandler | RuntimeHandler,
  options: RuntimeOptions = {},
): Runtime {
  const agent: RuntimeHandler = typeof handler === "function" ? { execute: handler } : handler;
  if (typeof agent.execute !== "function")
    throw new TypeError("createRuntime: the handler has no execute function");
  const capabilities = { ...DEFAULT_CAPABILITIES, ...agent.capabilities } as Capabilities;
  const limit = options.maxBodyBytes ?? OUTPUT_LIMIT_BYTES;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const token = options.token === "" ? undefined : options.token;
  const allowedHosts = options.allowedHosts ?? [];
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (!Number.isSafeInteger(requestTimeout) || requestTimeout <= 0)
    throw new TypeError("createRuntime: requestTimeoutMs must be a positive integer");
  // Replaced by listen(): which Host names pass depends on the interface bound.
  let policy = hostPolicy("127.0.0.1", allowedHosts);

  /** Host, Origin and token checks, before any route runs. */
  function guard(req: IncomingMessage, path: string): Reply | null {
    const problem =
      hostProblem(req.headers.host, policy) ?? originProblem(req.headers.origin, req.headers.host);
    if (problem !== null) return refused(403, problem);
    if (token === undefined || (path === "/health" && (req.method === "GET" || req.method === "HEAD")))
      return null;
    const challenge = { "www-authenticate": 'Bearer realm="wattswarm-runtime"' };
    const given = bearerToken(req.headers.authorization);
    if (given === null)
      return refused(401, "this runtime needs a token: send Authorization: Bearer <token>", challenge);
    if (!tokenMatches(token, given)) return refused(401, "the bearer token is not valid", challenge);
    return null;
  }

  async function post(
    req: IncomingMessage,
    res: ServerResponse,
    run: (body: unknown, ctx: RuntimeContext) => Promise<Reply>,
  ): Promise<Reply> {
    const type = req.headers["content-type"];
    if (!isJsonContentType(type)) {
      const got = type === undefined ? "none" : JSON.stringify(type.slice(0, 100));
      return refused(415, `the body must be JSON: send content-type: application/json (got ${got})`);
    }
    let raw: string;
    try {
      raw = await readBody(req, limit);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        // Close after answering: the rest of an oversized body is not worth reading.
        res.setHeader("connection", "close");
        return { status: 413, body: { error: `request body over the ${limit} bytes limit` } };
      }
      // Cut by requestTimeout (Node already answered 408) or the client left: nobody to answer, nothing to log.
      if (req.destroyed) return { status: 408, body: { error: "the request body did not arrive in time" } };
      throw err;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      return badRequest([`body: not JSON (${errorMessage(err)})`]);
    }
    const { ctx, done } = contextFor(req, res);
    try {
      return await run(body, ctx);
    } finally {
      done();
    }
  }

  const execute = async (body: unknown, ctx: RuntimeContext): Promise<Reply> => {
    const checked = checkExecuteRequest(body);
    if (!checked.ok) return badRequest(checked.problems);
    return outputReply(toExecuteResponse(await agent.execute(checked.value, ctx)), log);
  };

  const verify = async (body: unknown, ctx: RuntimeContext): Promise<Reply> => {
    const checked = checkVerifyRequest(body);
    if (!checked.ok) return badRequest(checked.problems);
    const result = agent.verify
      ? toVerifyResult(await agent.verify(checked.value, ctx))
      : ({ ok: true, value: defaultVerify(checked.value.candidate_output) } as const);
    return outputReply(result, log);
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<Reply> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const refusal = guard(req, path);
    if (refusal) return refusal;
    const routes: Record<string, [string, () => Promise<Reply> | Reply]> = {
      "/health": ["GET", () => ({ status: 200, body: { ok: true, status: "ok" } })],
      "/capabilities": ["GET", () => ({ status: 200, body: capabilities })],
      "/execute": ["POST", () => post(req, res, execute)],
      "/verify": ["POST", () => post(req, res, verify)],
    };
    const found = routes[path];
    if (!found || !Object.hasOwn(routes, path)) {
      return {
        status: 404,
        body: { error: `no route ${path}; try /health, /capabilities, /execute, /verify` },
      };
    }
    const [method, run] = found;
    if (req.method !== method && !(method === "GET" && req.method === "HEAD")) {
      return { status: 405, body: { error: `${path} expects ${method}` }, headers: { allow: method } };
    }
    return run();
  }

  // requestTimeout covers receiving the request only: Node stops the clock once the body is complete, so
  // agents may think for up to an hour (the longest agent timeout). Expiry is checked every interval.
  const server = createServer(
    {
      requestTimeout,
      headersTimeout: requestTimeout,
      connectionsCheckingInterval: Math.min(1_000, Math.max(10, Math.floor(requestTimeout / 4))),
    },
    (req, res) => {
      route(req, res).then(
        (reply) => json(res, reply),
        (err: unknown) => json(res, errorReply(err, log, req.url ?? "/")),
      );
    },
  );

  return {
    server,
    listen(port = DEFAULT_RUNTIME_PORT, host = "127.0.0.1") {
      policy = hostPolicy(host, allowedHosts);
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address() as AddressInfo;
          const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
          resolve(`http://${shown}:${address.port}`);
        });
      });
    },
    close(graceMs = 10_000) {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

function outputReply(result: Checked<JsonObject> | Checked<unknown>, log: (line: string) => void): Reply {
  if (result.ok) return { status: 200, body: result.value };
  const message = result.problems.join("; ");
  log(`runtime: ${message}`);
  return { status: 500, body: { error: message } };
}
