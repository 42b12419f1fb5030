// Turns zod's issues into ours: one `{path, message}` per problem, with paths written the way a user reads
// them (`agents[2].agent_id`) and messages that name the rule broken and the value given.

import type { z } from "zod";
import type { ValidationIssue } from "../errors.js";
import { isPlainObject } from "../util/json.js";
import { ID_CHARSET, ID_PATTERN, LIMITS, OBJECT_KEYS, STIGMERGY_KEYS } from "./schema.js";
import { didYouMean, suggest } from "./suggest.js";

export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const MAX_KEY_IN_PATH = 64;

/** `agents[2].agent_id`; keys that are not identifiers are quoted: `shared_inputs["a b"]`; root = "". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else {
      const key = String(seg);
      if (IDENTIFIER.test(key) && key.length <= MAX_KEY_IN_PATH) out += out === "" ? key : `.${key}`;
      else
        out += `[${JSON.stringify(key.length > MAX_KEY_IN_PATH ? `${key.slice(0, MAX_KEY_IN_PATH)}…` : key)}]`;
    }
  }
  return out;
}

/** One line: `path: message`, or just the message for the document itself (root messages stand alone). */
export function formatIssue(issue: ValidationIssue): string {
  return issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`;
}

/** The path with array indices erased (`agents[]`), used to look up per-place rules and allowed keys. */
export function pathPattern(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path)
    out += typeof seg === "number" ? "[]" : out === "" ? String(seg) : `.${String(seg)}`;
  return out;
}

/** A JSON-flavoured type name for messages: `expected string, got number`. */
export function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (typeof v === "object") {
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === null || proto === Object.prototype) return "object";
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "" ? name : "object";
  }
  return typeof v;
}

/** A short, quoted rendering of a user value for messages. */
export function show(v: string): string {
  return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
}

// Fields with both bounds read better as one range than as whichever bound zod tripped on.
const RANGES: Readonly<Record<string, readonly [number, number]>> = {
  "agents[].timeout_ms": [LIMITS.minTimeoutMs, LIMITS.maxTimeoutMs],
  "retry.max_attempts": [1, LIMITS.maxAttempts],
  "aggregation.tie_policy.reexplore.max_tie_iterations": [0, LIMITS.maxReexplore],
  "aggregation.tie_policy.reexplore.no_new_evidence_rounds": [0, LIMITS.maxReexplore],
  "aggregation.null_policy.reexplore.max_tie_iterations": [0, LIMITS.maxReexplore],
  "aggregation.null_policy.reexplore.no_new_evidence_rounds": [0, LIMITS.maxReexplore],
  "aggregation.tie_policy.confidence_weighted.default_confidence": [0, 1],
};

const EXPECTED_NAMES: Readonly<Record<string, string>> = { int: "integer", record: "object" };

// Keys users put one level too high (`quorum` next to `agents`) get pointed at their real home.
const NESTED_HOMES: readonly (readonly [string, readonly string[]])[] = [
  ["aggregation", OBJECT_KEYS.aggregation ?? []],
  ["retry", OBJECT_KEYS.retry ?? []],
];

function unknownKeyMessage(pattern: string, key: string): string {
  if (pattern === "" && (STIGMERGY_KEYS as readonly string[]).includes(key)) {
    return "stigmergy runs are not supported";
  }
  const hint = didYouMean(key, OBJECT_KEYS[pattern] ?? []);
  if (hint !== "" || pattern !== "") return `unknown key${hint}`;
  for (const [home, keys] of NESTED_HOMES) {
    if (keys.includes(key)) return `unknown key (did you mean ${home}.${key}?)`;
  }
  return "unknown key";
}

function enumMessage(pattern: string, values: readonly unknown[], input: unknown): string {
  const allowed = values.map(String);
  if (typeof input !== "string") return `expected one of ${allowed.join(", ")}, got ${typeName(input)}`;
  const noun = pattern.endsWith(".chain[]") ? "resolver" : "value";
  const close = suggest(input, allowed);
  const hint =
    close === undefined ? ` (expected one of: ${allowed.join(", ")})` : ` (did you mean ${close}?)`;
  return `unknown ${noun} ${show(input)}${hint}`;
}

function badCharMessage(input: unknown): string {
  if (typeof input === "string") {
    let pos = 0;
    for (const ch of input) {
      pos++;
      if (!ID_PATTERN.test(ch))
        return `invalid character ${JSON.stringify(ch)} at position ${pos} (allowed: ${ID_CHARSET})`;
    }
  }
  return `must contain only ${ID_CHARSET}`;
}

function rangeMessage(
  iss: { code: string; minimum?: unknown; maximum?: unknown; inclusive?: boolean },
  pattern: string,
  input: unknown,
): string {
  const got = typeof input === "number" ? `, got ${input}` : "";
  const range = RANGES[pattern];
  if (range !== undefined) return `must be between ${range[0]} and ${range[1]}${got}`;
  if (pattern === "aggregation.quorum") return `must be >= 1 (null means no quorum)${got}`;
  if (iss.code === "too_big") {
    if (iss.maximum === Number.MAX_SAFE_INTEGER) return `must be a safe integer (at most 2^53 − 1)${got}`;
    return `must be ${iss.inclusive === false ? "<" : "<="} ${String(iss.maximum)}${got}`;
  }
  if (iss.minimum === Number.MIN_SAFE_INTEGER) return `must be a safe integer (at least −(2^53 − 1))${got}`;
  return `must be ${iss.inclusive === false ? ">" : ">="} ${String(iss.minimum)}${got}`;
}

function sizeMessage(
  iss: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig,
  pattern: string,
  input: unknown,
): string {
  const small = iss.code === "too_small";
  if (iss.origin === "string") {
    const len = typeof input === "string" ? input.length : 0;
    return small ? "must not be empty" : `too long: ${len} characters (max ${String(iss.maximum)})`;
  }
  if (iss.origin === "array") {
    const len = Array.isArray(input) ? input.length : 0;
    if (pattern === "agents") {
      return small ? "at least 1 agent is required" : `too many agents: ${len} (max ${LIMITS.maxAgents})`;
    }
    return small
      ? `must have at least ${String(iss.minimum)} entries`
      : `too many entries: ${len} (max ${String(iss.maximum)})`;
  }
  return rangeMessage(iss, pattern, input);
}

/**
 * Our issues for one zod issue (an unrecognized_keys issue becomes one per key). `rawAt` reads the user's
 * value at a path: zod sees a bounded view of the input, and counts must describe what the user gave.
 */
export function fromZodIssue(
  iss: z.core.$ZodIssue,
  rawAt: (path: PropertyKey[]) => unknown,
): ValidationIssue[] {
  const path = iss.path;
  const pattern = pathPattern(path);
  const input = rawAt(path);
  const at = (message: string): ValidationIssue[] => [{ path: formatPath(path), message }];
  switch (iss.code) {
    case "unrecognized_keys":
      return iss.keys.map((key) => ({
        path: formatPath([...path, key]),
        message: unknownKeyMessage(pattern, key),
      }));
    case "invalid_type": {
      if (path.length === 0) return at(`the run spec must be a JSON object, got ${typeName(input)}`);
      if (input === undefined) return at("required");
      if (iss.expected === "int" && typeof input === "number" && Number.isFinite(input)) {
        return at(`expected integer, got ${input}`);
      }
      const expected =
        pattern === "aggregation.quorum" ? "integer or null" : (EXPECTED_NAMES[iss.expected] ?? iss.expected);
      return at(`expected ${expected}, got ${typeName(input)}`);
    }
    case "invalid_value":
      return at(enumMessage(pattern, iss.values, input));
    case "too_small":
    case "too_big":
      return at(sizeMessage(iss, pattern, input));
    case "invalid_format":
      return at(iss.format === "regex" ? badCharMessage(input) : iss.message);
    default:
      return at(iss.message);
  }
}

const PATH_TOKEN = /(?:^|\.)([A-Za-z_$][A-Za-z0-9_$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy;

function parsePath(path: string): PropertyKey[] {
  const out: PropertyKey[] = [];
  PATH_TOKEN.lastIndex = 0;
  for (let m = PATH_TOKEN.exec(path); m !== null; m = PATH_TOKEN.exec(path)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else out.push(JSON.parse(m[3]!) as string);
  }
  return out;
}

/**
 * Issues in the order their places appear in the user's document, so a long list reads top to bottom.
 * A missing key sorts before its siblings; the sort is stable, so issues at one place keep their order.
 */
export function sortByDocumentOrder(root: unknown, issues: ValidationIssue[]): ValidationIssue[] {
  const rankOf = (path: string): number[] => {
    const ranks: number[] = [];
    let cur: unknown = root;
    for (const seg of parsePath(path)) {
      if (typeof seg === "number") {
        ranks.push(seg);
        cur = Array.isArray(cur) ? cur[seg] : undefined;
      } else {
        const keys = isPlainObject(cur) ? Object.keys(cur) : [];
        ranks.push(keys.indexOf(String(seg)));
        cur = keys.includes(String(seg)) ? (cur as Record<string, unknown>)[String(seg)] : undefined;
      }
    }
    return ranks;
  };
  const keyed = issues.map((issue) => ({ issue, rank: rankOf(issue.path) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < Math.min(a.rank.length, b.rank.length); i++) {
      const d = a.rank[i]! - b.rank[i]!;
      if (d !== 0) return d;
    }
    return a.rank.length - b.rank.length;
  });
  return keyed.map((k) => k.issue);
}
