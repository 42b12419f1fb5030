// Serving the built web console (console/, built by `npm run build` into dist/console): `/` is its index.html,
// `/assets/*` its hashed bundles. Without a build, `/` is a placeholder page that says how to build it.
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { ApiError, errorBody } from "./errors.js";

/** dist/console of this package: the same relative path from src/server (tests) and dist/server. */
export function defaultConsoleDir(): string {
  return fileURLToPath(new URL("../../dist/console/", import.meta.url));
}

const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WattSwarm</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto">
<h1>WattSwarm</h1>
<p>The web console is not built yet (run <code>npm run build</code>). The HTTP API is served here: see
<a href="/api/openapi.json">/api/openapi.json</a>, <a href="/api/health">/api/health</a> and
<a href="/metrics">/metrics</a>.</p>
</body></html>
`;

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".woff2": "font/woff2",
};

/** The console's page, read on each request (so a rebuild shows without a restart), or the placeholder. */
export function consolePage(dir: string): string {
  const index = join(dir, "index.html");
  return existsSync(index) ? readFileSync(index, "utf8") : PLACEHOLDER_PAGE;
}

/** Mounts `GET /assets/*` from `<dir>/assets` (not in the OpenAPI document: it is not API). */
export function mountConsoleAssets(app: FastifyInstance, dir: string): void {
  const root = resolve(dir, "assets");
  const notFound = (url: string) =>
    errorBody(new ApiError(404, "NOT_FOUND", `no route GET ${url.split("?")[0]}`));
  app.get("/assets/*", { config: { wattswarmPublic: true } }, async (req, reply) => {
    const rel = (req.params as { "*"?: string })["*"] ?? "";
    const file = resolve(root, rel);
    const type = CONTENT_TYPES[extname(file)];
    if (!file.startsWith(root + sep) || type === undefined) return reply.code(404).send(notFound(req.url));
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch {
      return reply.code(404).send(notFound(req.url));
    }
    // Vite names bundles by content hash, so they never change under the same name.
    reply.header("cache-control", "public, max-age=31536000, immutable");
    return reply.type(type).send(data);
  });
}
