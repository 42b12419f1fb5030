// Walks over untrusted JSON (request bodies, agent output) that must never overflow the stack: iterative, with
// the depth kept as data. Importable from every layer: it depends on nothing (but a type).

import type { JsonObject } from "../vocab.js";

/** A JSON object: an object that is neither null nor an array (what `JSON.parse` makes of `{…}`). */
export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Stricter, for values a program built rather than parsed: a JSON object whose prototype is Object.prototype
 * or null, so that a Date, a Map or a class instance is not taken for JSON.
 */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/** SPEC §8.4: an agent's candidate output nests at most this many levels (its root object is level 1). */
export const MAX_OUTPUT_DEPTH = 64;

interface DepthFrame {
  value: unknown;
  key: PropertyKey;
  parent: DepthFrame | undefined;
  depth: number;
}

/** The path of the first container nested deeper than `limit` (the root is level 1), found iteratively. */
export function tooDeepAt(root: unknown, limit: number): PropertyKey[] | undefined {
  const stack: DepthFrame[] = [{ value: root, key: "", parent: undefined, depth: 1 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { value, depth } = frame;
    if (value === null || typeof value !== "object") continue;
    if (depth > limit) {
      const path: PropertyKey[] = [];
      for (let f: DepthFrame | undefined = frame; f?.parent; f = f.parent) path.unshift(f.key);
      return path;
    }
    const entries: [PropertyKey, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value);
    for (const [key, child] of entries) stack.push({ value: child, key, parent: frame, depth: depth + 1 });
  }
  return undefined;
}

/**
 * Where an executor response nests deeper than SPEC §8.4 allows, or undefined. Its candidate output (the
 * `candidate_output` member, else the response itself) has at most MAX_OUTPUT_DEPTH levels; the envelope
 * around it adds one, and nothing else in it may go deeper.
 */
export function responseTooDeepAt(response: unknown): PropertyKey[] | undefined {
  const envelope =
    typeof response === "object" &&
    response !== null &&
    !Array.isArray(response) &&
    Object.hasOwn(response, "candidate_output");
  return tooDeepAt(response, MAX_OUTPUT_DEPTH + (envelope ? 1 : 0));
}

/** Whether some string of `root` (an object key or a value) passes `test`, found iteratively. */
export function someString(root: unknown, test: (s: string) => boolean): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === "string") {
      if (test(value)) return true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        if (test(key)) return true;
        stack.push(child);
      }
    }
  }
  return false;
}

/**
 * A copy of the JSON value `root` with every string (object keys too) passed through `map`, built iteratively.
 * Members keep their order, and a `__proto__` key stays an own member instead of setting the prototype.
 */
export function mapStrings<T>(root: T, map: (s: string) => string): T {
  const holder: unknown[] = [undefined];
  const stack: { value: unknown; into: object; key: string | number }[] = [
    { value: root, into: holder, key: 0 },
  ];
  for (let frame = stack.pop(); frame !== undefined; frame = stack.pop()) {
    const { value, into, key } = frame;
    let copy: unknown = value;
    if (typeof value === "string") copy = map(value);
    else if (Array.isArray(value)) {
      const items: unknown[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) stack.push({ value: value[i], into: items, key: i });
      copy = items;
    } else if (value !== null && typeof value === "object") {
      const members: Record<string, unknown> = {};
      for (const [member, child] of Object.entries(value)) {
        const mapped = map(member);
        // Defined now, in order; the child's copy replaces the placeholder without moving it.
        define(members, mapped, undefined);
        stack.push({ value: child, into: members, key: mapped });
      }
      copy = members;
    }
    define(into, key, copy);
  }
  return holder[0] as T;
}

function define(into: object, key: string | number, value: unknown): void {
  Object.defineProperty(into, key, { value, enumerable: true, writable: true, configurable: true });
}
