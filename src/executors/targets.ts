// Server-side request forgery from `serve`: an executor registered or checked through the API makes the server
// (check) and the workers (execute) send requests to its URL. Link-local addresses (169.254.0.0/16, fe80::/10,
// where clouds serve instance credentials) and the well-known metadata names are refused; everything else the
// server can reach stays reachable, as docs/operations.md ("Security model") says. Applied by
// kernel/executor-admin.ts under a policy with `refuseMetadataTargets` (the server's).
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import type { JsonObject } from "../spec/types.js";

const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet("169.254.0.0", 16, "ipv4");
LINK_LOCAL.addSubnet("fe80::", 10, "ipv6");
LINK_LOCAL.addAddress("fd00:ec2::254", "ipv6"); // AWS's IPv6 metadata endpoint
LINK_LOCAL.addAddress("100.100.100.200", "ipv4"); // Alibaba Cloud's metadata endpoint

const METADATA_NAMES = new Set([
  "metadata",
  "metadata.google.internal",
  "metadata.goog",
  "instance-data",
  "instance-data.ec2.internal",
]);

/** IPv4 inside an IPv4-mapped IPv6 address (`::ffff:a9fe:a9fe` or `::ffff:169.254.169.254`), else the input. */
function unmapped(ip: string): string {
  const m = /^::ffff:(?:([0-9.]+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (!m) return ip;
  if (m[1] !== undefined) return m[1];
  const hi = Number.parseInt(m[2] ?? "0", 16);
  const lo = Number.parseInt(m[3] ?? "0", 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

/** True for link-local and cloud metadata addresses. */
export function isMetadataAddress(address: string): boolean {
  const ip = unmapped(address.replace(/^\[(.*)\]$/, "$1").toLowerCase());
  const family = isIP(ip);
  if (family === 0) return false;
  return LINK_LOCAL.check(ip, family === 4 ? "ipv4" : "ipv6");
}

/** The URLs an executor config sends requests to, by config key. */
export function executorTargets(kind: string, config: JsonObject): { key: string; url: string }[] {
  const key = kind === "http" ? "url" : kind === "openai" ? "base_url" : undefined;
  if (key === undefined) return [];
  const url = config[key];
  return typeof url === "string" ? [{ key, url }] : [];
}

function refusal(host: string, address?: string): string {
  const via = address !== undefined && address !== host ? ` (resolves to ${address})` : "";
  return `${host}${via} is a link-local or cloud metadata address; executors cannot target it through the API`;
}

/** Problems (`key: rule` lines) with targets written as a metadata name or a link-local address literal. */
export function literalTargetProblems(kind: string, config: JsonObject): string[] {
  const problems: string[] = [];
  for (const { key, url } of executorTargets(kind, config)) {
    let host: string;
    try {
      host = new URL(url).hostname.toLowerCase();
    } catch {
      continue; // validateExecutorConfig reports it
    }
    if (METADATA_NAMES.has(host.replace(/\.$/, "")) || isMetadataAddress(host))
      problems.push(`${key}: ${refusal(host)}`);
  }
  return problems;
}

/** Why the config's targets may not be probed from here, after resolving their names; null when they may. */
export async function resolvedTargetProblem(kind: string, config: JsonObject): Promise<string | null> {
  const literal = literalTargetProblems(kind, config);
  if (literal.length > 0) return literal.join("; ");
  for (const { url } of executorTargets(kind, config)) {
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");
    } catch {
      continue;
    }
    if (isIP(host) !== 0) continue;
    let addresses: { address: string }[];
    try {
      addresses = await lookup(host, { all: true });
    } catch {
      continue; // unresolvable: the probe itself reports TRANSPORT
    }
    const bad = addresses.find((a) => isMetadataAddress(a.address));
    if (bad) return refusal(host, bad.address);
  }
  return null;
}
