// What every route file gets from app.ts.
import { createRequire } from "node:module";
import type { ApiStore } from "./store.js";

export interface ServerDeps {
  store: ApiStore;
  /** Aborted when the server closes: open SSE streams end so close() does not wait for them. */
  closing: AbortSignal;
  /** Start of the /metrics counting window. */
  startedAt: Date;
  /** The built console (index.html and assets/) served at `/`. */
  consoleDir: string;
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
