// What every route file gets from app.ts.
import { createRequire } from "node:module";
import type { FastifyRequest } from "fastify";
import type { MetricsCollector } from "./metrics.js";
import type { StreamLimiter } from "./sse.js";
import type { ApiStore } from "./store.js";

export interface ServerDeps {
  store: ApiStore;
  /** Aborted when the server closes: open SSE streams end so close() does not wait for them. */
  closing: AbortSignal;
  /** The /metrics counters, counting from when the server was built. */
  metrics: MetricsCollector;
  /** The built console (index.html and assets/) served at `/`. */
  consoleDir: string;
  /** Open SSE streams, capped globally and per client. */
  streams: StreamLimiter;
  /** What executors registered through the API may be (docs/operations.md, "Security model"). */
  executorPolicy: ApiExecutorPolicy;
  /** Whether a bearer token is configured (the OpenAPI document's `security`). */
  tokenRequired: boolean;
  /** True when the request presents the token, or none is configured (public routes show less otherwise). */
  isAuthorized(req: FastifyRequest): boolean;
}

export interface ApiExecutorPolicy {
  /** `true`: any `command` executor; a list: only these programs as argv[0]; `false`: none (the default). */
  allowCommand: boolean | readonly string[];
  /** Env var names besides WATTSWARM_SECRET_* that executors registered here may read as secrets. */
  secretEnv: readonly string[];
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
