// Who may call what (docs/operations.md, "Security model"). The decision is made on the route fastify matched,
// never on the raw URL (which a client can percent-encode): each route says whether it is public in its config,
// and every request that matched no route, or a route that does not say so, needs the token (deny by default).
// Tokens are compared in constant time (tokenMatches, src/util/http-guard.ts).
import type { FastifyRequest } from "fastify";
import {
  bearerToken,
  type HostPolicy,
  hostProblem,
  originProblem,
  tokenMatches,
} from "../util/http-guard.js";
import { ApiError } from "./errors.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Served without a token: `/`, `/assets/*`, `/api/health`, `/metrics` (SPEC §10). */
    wattswarmPublic?: boolean;
    /** The SSE stream: EventSource cannot set headers, so `?access_token=` is accepted too. */
    wattswarmQueryToken?: boolean;
  }
}

function routeConfig(req: FastifyRequest): { wattswarmPublic?: boolean; wattswarmQueryToken?: boolean } {
  return (req.routeOptions?.config ?? {}) as { wattswarmPublic?: boolean; wattswarmQueryToken?: boolean };
}

/** The token a request presents: `Authorization: Bearer …`, or `?access_token=` where the route allows it. */
function presentedToken(req: FastifyRequest): string | null {
  const header = req.headers.authorization;
  if (typeof header === "string") return bearerToken(header);
  if (routeConfig(req).wattswarmQueryToken === true) {
    const q = (req.query as Record<string, unknown> | undefined)?.access_token;
    if (typeof q === "string") return q;
  }
  return null;
}

/** True when the request carries the right token, or no token is configured. */
export function isAuthorized(req: FastifyRequest, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = presentedToken(req);
  return given !== null && tokenMatches(token, given);
}

/** Throws 401 unless the matched route is public or the request presents the token. */
export function checkAuth(req: FastifyRequest, token: string | undefined): void {
  if (token === undefined || routeConfig(req).wattswarmPublic === true) return;
  const given = presentedToken(req);
  if (given === null)
    throw new ApiError(401, "UNAUTHORIZED", "this API needs a token: send Authorization: Bearer <token>");
  if (!tokenMatches(token, given)) throw new ApiError(401, "UNAUTHORIZED", "the bearer token is not valid");
}

/** Throws 400/403 for a request a browser was tricked into sending: a foreign Host (DNS rebinding) or Origin. */
export function checkBrowserOrigin(req: FastifyRequest, hosts: HostPolicy): void {
  const host = req.headers.host;
  if (host === undefined || host.trim() === "")
    throw new ApiError(400, "BAD_REQUEST", "the request has no Host header");
  const badHost = hostProblem(host, hosts);
  if (badHost !== null) throw new ApiError(403, "FORBIDDEN", badHost);
  const origin = req.headers.origin;
  const badOrigin = originProblem(typeof origin === "string" ? origin : undefined, host);
  if (badOrigin !== null) throw new ApiError(403, "FORBIDDEN", badOrigin);
}
