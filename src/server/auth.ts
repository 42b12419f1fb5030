// Optional bearer token (SPEC §10). Both sides are hashed to equal-length digests before the constant-time
// comparison, so neither the token's content nor its length leaks through timing.
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { ApiError } from "./errors.js";

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** Paths served without a token: health checks and Prometheus scrapes, and the console's page. */
export function isPublicPath(path: string): boolean {
  return path === "/api/health" || path === "/metrics" || !path.startsWith("/api/");
}

export function tokenMatches(expected: string, given: string): boolean {
  return timingSafeEqual(digest(expected), digest(given));
}

/** The token a request presents: `Authorization: Bearer …`, or `?access_token=` on the SSE stream only. */
function presentedToken(req: FastifyRequest, path: string): string | null {
  const header = req.headers.authorization;
  if (typeof header === "string") {
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    return m?.[1] ?? null;
  }
  // EventSource cannot set headers; the stream alone also takes the token in the query.
  if (path.endsWith("/stream")) {
    const q = (req.query as Record<string, unknown> | undefined)?.access_token;
    if (typeof q === "string") return q;
  }
  return null;
}

/** Throws 401 unless the request may pass. */
export function checkAuth(req: FastifyRequest, token: string | undefined): void {
  if (token === undefined) return;
  const path = req.url.split("?")[0] ?? req.url;
  if (isPublicPath(path)) return;
  const given = presentedToken(req, path);
  if (given === null)
    throw new ApiError(401, "UNAUTHORIZED", "this API needs a token: send Authorization: Bearer <token>");
  if (!tokenMatches(token, given)) throw new ApiError(401, "UNAUTHORIZED", "the bearer token is not valid");
}
