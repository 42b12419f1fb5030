// Builds the fastify instance of `wattswarm serve` from a store, so tests can listen on port 0 or inject.
// Every route comes from one table (route.ts); auth, body limits and errors are handled here once.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { serverExecutorPolicy } from "../kernel/executor-admin.js";
import { formatPath } from "../spec/issues.js";
import { LIMITS } from "../spec/schema.js";
import type { Store } from "../store/port.js";
import { hostPolicy, isJsonContentType } from "../util/http-guard.js";
import { tooDeepAt } from "../util/json.js";
import { checkAuth, checkBrowserOrigin, isAuthorized } from "./auth.js";
import { defaultConsoleDir, mountConsoleAssets } from "./console.js";
import type { ServerDeps } from "./deps.js";
import { ApiError, errorBody, toApiError } from "./errors.js";
import { MetricsCollector } from "./metrics.js";
import { mountRoutes, type RouteDef } from "./route.js";
import { executorRoutes } from "./routes/executors.js";
import { legacyRoutes } from "./routes/legacy.js";
import { runRoutes } from "./routes/runs.js";
import { systemRoutes } from "./routes/system.js";
import { StreamLimiter, type StreamLimits } from "./sse.js";

export const BODY_LIMIT_BYTES = 1024 * 1024;
export const DEFAULT_PORT = 7788;
/** Longest path parameter the router accepts (ids are at most 128 characters; longer ones get a 400). */
const MAX_PARAM_LENGTH = 1024;
export const DEFAULT_HOST = "127.0.0.1";

export interface AppOptions {
  /** Bearer token every /api route but /api/health needs; none when undefined or empty. */
  token?: string | undefined;
  /** Where unexpected (500) errors are reported; default stderr. */
  logError?: (message: string) => void;
  /** The built web console served at `/` and `/assets/*`; default dist/console of this package. */
  consoleDir?: string;
  /**
   * The address the server listens on (default 127.0.0.1). Bound to loopback, requests must name a loopback
   * host or one of `allowedHosts` (DNS rebinding); bound elsewhere, any Host unless `allowedHosts` is given.
   */
  bindHost?: string;
  /** Host names accepted besides loopback ones (`serve --allowed-host`). */
  allowedHosts?: readonly string[];
  /** `command` executors through the API: false (default), true, or the programs allowed as argv[0]. */
  allowCommandExecutors?: boolean | readonly string[];
  /** Env var names, besides WATTSWARM_SECRET_*, that executors registered through the API may read. */
  secretEnv?: readonly string[];
  /** Caps on open event streams. */
  sse?: StreamLimits;
  /**
   * /metrics: how long a transaction that closes attempts may take to commit and still be counted, ms (default
   * 60 000; `serve --metrics-lag-ms`), and the clock of the store (default `store.now()`; tests inject one).
   */
  metrics?: { lagMs?: number; now?: () => Promise<Date> };
}

/** Sent with every answer: no sniffing, no framing; the console's page may load only its own bundles. */
const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
};

/**
 * Bodies nested deeper than this are refused before any schema walks them (zod recurses, and a 1 MiB body can
 * nest 500,000 levels). Twice the spec limit (SPEC §2), so a spec a little too deep, bare or in an envelope,
 * still gets the spec validator's own issue with its path.
 */
export const BODY_MAX_DEPTH = 2 * LIMITS.maxDepth;

function parseJsonBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, "BAD_REQUEST", `the request body is not JSON: ${(err as Error).message}`);
  }
  const deep = tooDeepAt(body, BODY_MAX_DEPTH);
  if (deep !== undefined) {
    const message = `nesting too deep: more than ${BODY_MAX_DEPTH} levels (limit ${BODY_MAX_DEPTH})`;
    throw new ApiError(
      400,
      "BAD_REQUEST",
      `the request body is nested too deep: more than ${BODY_MAX_DEPTH} levels (limit ${BODY_MAX_DEPTH})`,
      [{ path: formatPath(deep), message }],
    );
  }
  return body;
}

export function buildApp(store: Store, options: AppOptions = {}): FastifyInstance {
  const token = options.token === "" ? undefined : options.token;
  const logError = options.logError ?? ((message: string) => process.stderr.write(`serve: ${message}\n`));
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    return503OnClosing: true,
    // The router's default (100) refused valid run_ids of 101–128 characters with its own 414 body; longer
    // ids now reach the params schema (400), and what the router still refuses gets the API's error body.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: (err, _req, reply) => {
      const { error } = toApiError(err);
      (reply as FastifyReply).code(error.status).send(errorBody(error));
    },
  });
  const closing = new AbortController();
  const consoleDir = options.consoleDir ?? defaultConsoleDir();
  const deps: ServerDeps = {
    store,
    closing: closing.signal,
    metrics: new MetricsCollector(store, { since: new Date(), ...options.metrics }),
    consoleDir,
    streams: new StreamLimiter(options.sse),
    executorPolicy: serverExecutorPolicy({
      allowCommand: options.allowCommandExecutors,
      secretEnv: options.secretEnv,
    }),
    isAuthorized: (req) => isAuthorized(req, token),
    tokenRequired: token !== undefined,
  };
  const hosts = hostPolicy(options.bindHost ?? DEFAULT_HOST, options.allowedHosts ?? []);

  // Only JSON bodies are read (application/json or application/*+json): a form or text/plain post, which a web
  // page can send cross-site without a preflight, gets 415. A POST without a body needs no content type.
  app.removeAllContentTypeParsers();
  const parseJson = (
    _req: FastifyRequest,
    text: string | Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ) => {
    try {
      done(null, parseJsonBody(String(text)));
    } catch (err) {
      done(err as Error, undefined);
    }
  };
  app.addContentTypeParser("application/json", { parseAs: "string" }, parseJson);
  app.addContentTypeParser(/^application\/[a-z0-9.!#$&^_-]+\+json$/i, { parseAs: "string" }, parseJson);

  const reportInternal = (err: unknown, req: FastifyRequest) =>
    logError(
      `${req.method} ${req.url.split("?")[0]}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );

  app.addHook("onRequest", async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    checkBrowserOrigin(req, hosts);
    checkAuth(req, token);
    const type = req.headers["content-type"];
    if (type !== undefined && !isJsonContentType(type) && req.method !== "GET" && req.method !== "HEAD")
      throw new ApiError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        `request bodies must be JSON: Content-Type ${JSON.stringify(type.slice(0, 100))} is not application/json`,
      );
  });
  app.setErrorHandler((err, req, reply) => {
    const { error, internal } = toApiError(err);
    if (internal) reportInternal(err, req);
    if (error.status === 401) reply.header("www-authenticate", 'Bearer realm="wattswarm"');
    if (error.headers) reply.headers(error.headers);
    return reply.code(error.status).send(errorBody(error));
  });
  app.setNotFoundHandler((req, reply) =>
    reply
      .code(404)
      .send(errorBody(new ApiError(404, "NOT_FOUND", `no route ${req.method} ${req.url.split("?")[0]}`))),
  );
  // Open SSE streams would hold close() forever: end them first.
  app.addHook("preClose", async () => closing.abort());

  const routes: RouteDef[] = [];
  routes.push(
    ...runRoutes(deps),
    ...legacyRoutes(deps),
    ...executorRoutes(deps),
    ...systemRoutes(deps, () => routes),
  );
  mountRoutes(app, routes, reportInternal);
  mountConsoleAssets(app, consoleDir);
  return app;
}
