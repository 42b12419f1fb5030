// Request checks shared by `wattswarm serve` and `wattswarm runtime`: the bearer token, and checks against
// browsers used as a weapon: DNS rebinding (a foreign name resolving to 127.0.0.1, caught by the Host check),
// cross-site requests (a foreign Origin) and form posts (only JSON bodies are read). Pure functions over header
// values; each server decides when to apply them.
import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/**
 * Compares tokens as sha256 digests of equal length in constant time, so neither content nor length leaks.
 */
export function tokenMatches(expected: string, given: string): boolean {
  return timingSafeEqual(digest(expected), digest(given));
}

/** The token of an `Authorization: Bearer <token>` header; null when there is none or it is another scheme. */
export function bearerToken(header: string | undefined): string | null {
  return /^Bearer\s+(.+)$/i.exec(header?.trim() ?? "")?.[1] ?? null;
}

/** Host names that always mean this machine. */
const LOOPBACK_NAMES = new Set(["localhost", "::1", "0:0:0:0:0:0:0:1"]);

/** True for `localhost`, `*.localhost`, 127.0.0.0/8 and ::1 (brackets and case ignored). */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  if (LOOPBACK_NAMES.has(h) || h.endsWith(".localhost")) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** True for the wildcard addresses a server may bind to (every interface). */
export function isWildcardHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  return h === "0.0.0.0" || h === "::" || h === "0:0:0:0:0:0:0:0";
}

/** The name part of a `Host` header (`name`, `name:port`, `[v6]:port`), lower-cased; null when malformed. */
export function hostHeaderName(header: string): string | null {
  const h = header.trim().toLowerCase();
  if (h === "") return null;
  const v6 = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(h);
  if (v6) return v6[1] ?? null;
  const named = /^([a-z0-9._~-]+)(?::(\d{1,5}))?$/.exec(h);
  return named ? (named[1] ?? null) : null;
}

export interface HostPolicy {
  /** Names accepted besides loopback ones (lower case). */
  allowed: ReadonlySet<string>;
  /** When true, any well-formed Host is accepted (a server bound to other interfaces, with no list given). */
  any: boolean;
}

/**
 * The policy for a server bound to `bindHost`: bound to loopback, only loopback names and the `allowed` list
 * (DNS rebinding); bound elsewhere, any name unless a list is given, plus the bound address itself.
 */
export function hostPolicy(bindHost: string, allowed: readonly string[] = []): HostPolicy {
  const names = new Set(allowed.map((n) => n.trim().toLowerCase()).filter((n) => n !== ""));
  const bound = bindHost
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  const local = isLoopbackHost(bound);
  if (!local && !isWildcardHost(bound)) names.add(bound);
  return { allowed: names, any: !local && allowed.length === 0 };
}

/** Why a request's Host header is refused, or null when it may pass. */
export function hostProblem(header: string | undefined, policy: HostPolicy): string | null {
  if (header === undefined) return "the request has no Host header";
  const name = hostHeaderName(header);
  if (name === null) return `Host ${JSON.stringify(header.slice(0, 100))} is not a host name`;
  if (policy.any || isLoopbackHost(name) || policy.allowed.has(name)) return null;
  return `Host "${name}" is not served here (allowed: loopback names${
    policy.allowed.size > 0 ? `, ${[...policy.allowed].join(", ")}` : ""
  }; add names with --allowed-host)`;
}

/**
 * Why a request's `Origin` is refused, or null: absent (not a browser, or a same-origin GET) passes; otherwise
 * its scheme must be http(s) and its host and port the request's own `Host` (the console is same-origin).
 */
export function originProblem(origin: string | undefined, hostHeader: string | undefined): string | null {
  if (origin === undefined) return null;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return `Origin ${JSON.stringify(origin.slice(0, 100))} is not served here (cross-site requests are refused)`;
  }
  if (parsed.protocol === "http:" || parsed.protocol === "https:") {
    if (hostHeader !== undefined && parsed.host === hostHeader.trim().toLowerCase()) return null;
  }
  return `Origin ${JSON.stringify(origin.slice(0, 100))} is not served here (cross-site requests are refused)`;
}

/** True for `application/json` and `application/<x>+json`, with any parameters. */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const type = header.split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}
