// What every route file gets from app.ts.
import { createRequire } from "node:module";
import type { FastifyRequest } from "fastify";
import type { ExecutorPolicy } from "../kernel/executor-admin.js";
import type { Store } from "../store/port.js";
import type { MetricsCollector } from "./metrics.js";
import type { StreamLimiter } from "./sse.js";

export interface ServerDeps {
  store: Store;
  /** Aborted when the server closes: open SSE streams end so close() does not wait for them. */
  closing: AbortSignal;
  /** The /metrics counters, counting from when the server was built. */
  metrics: MetricsCollector;
  /** The built console (index.html and assets/) served at `/`. */
  consoleDir: string;
  /** Open SSE streams, capped globally and per client. */
  streams: StreamLimiter;
  /** What executors registered through the API may be (docs/operations.md, "Security model"). */
  executorPolicy: ExecutorPolicy;
  /** Whether a bearer token is configured (the OpenAPI document's `security`). */
  tokenRequired: boolean;
  /** True when the request presents the token, or none is configured (public routes show less otherwise). */
  isAuthorized(req: FastifyRequest): boolean;
}

export function packageVersion(): string {
  try {
    // Same relative path from src/server (tests) and dist/server (the installed package).
    const pkg = createRequire(import.meta.url)("../../package.json") as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}
