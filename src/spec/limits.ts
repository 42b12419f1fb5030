// Size limits and JSON hygiene for specs that arrive as untrusted input (SPEC §2: file ≤ 1 MiB, strings
// ≤ 64 KiB, nesting ≤ 32). Everything here is iterative or depth-bounded: a hostile input (a million-level
// array, a cyclic object from a library caller) must produce an issue, never a stack overflow.

import type { ValidationIssue } from "../errors.js";
import { isPlainRecord } from "../util/json.js";
import { formatPath, typeName } from "./issues.js";
import { LIMITS } from "./schema.js";
import type { JsonObject, JsonValue } from "./types.js";

/** Upper bound on values visited: far above what a 1 MiB file can hold, low enough to bound the work. */
const MAX_VALUES = 2_000_000;

/** UTF-8 length without allocating (lone surrogates count 3, as they encode to U+FFFD). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1).replace(/\.0$/, "")} KiB`;
  return `${n} bytes`;
}

function stringTooLong(s: string): number | undefined {
  if (s.length * 3 <= LIMITS.maxStringBytes) return undefined;
  const bytes = utf8Length(s);
  return bytes > LIMITS.maxStringBytes ? bytes : undefined;
}

const limitText = (bytes: number) =>
  `${bytes} bytes (${formatBytes(bytes)}) > limit ${formatBytes(LIMITS.maxStringBytes)}`;

interface Frame {
  value: unknown;
  path: PropertyKey[];
  depth: number;
  /** Set on the marker pushed below a container's children: popping it means the container is done. */
  leave?: true;
}

/**
 * Every place where the input breaks a size limit or is not JSON (NaN, functions, class instances,
 * undefined inside arrays). An object property whose value is undefined counts as absent, as JSON.stringify
 * would treat it. `complete: false` means the input was too big to look at all of it.
 */
export function checkJsonLimits(root: unknown): { issues: ValidationIssue[]; complete: boolean } {
  const issues: ValidationIssue[] = [];
  const add = (path: PropertyKey[], message: string) => issues.push({ path: formatPath(path), message });
  const stack: Frame[] = [{ value: root, path: [], depth: 1 }];
  let seen = 1;
  let tooDeepReported = false;
  // Containers on the current path: meeting one again is a cycle. (A shared, acyclic reference is valid.)
  const ancestors = new Set<unknown>();
  const push = (frame: Frame): boolean => {
    if (++seen > MAX_VALUES) return false;
    stack.push(frame);
    return true;
  };
  while (stack.length > 0) {
    const { value, path, depth, leave } = stack.pop()!;
    if (leave) {
      ancestors.delete(value);
      continue;
    }
    if (typeof value === "string") {
      const bytes = stringTooLong(value);
      if (bytes !== undefined) add(path, `string too long: ${limitText(bytes)}`);
      continue;
    }
    if (value === null || typeof value === "boolean") continue;
    if (typeof value === "number") {
      if (!Number.isFinite(value)) add(path, `not a JSON value: ${String(value)}`);
      continue;
    }
    if (!Array.isArray(value) && !isPlainRecord(value)) {
      add(path, `not a JSON value: ${typeName(value)}`);
      continue;
    }
    if (ancestors.has(value)) {
      add(path, "not a JSON value: circular reference");
      continue;
    }
    if (depth > LIMITS.maxDepth) {
      if (!tooDeepReported)
        add(path, `nesting too deep: more than ${LIMITS.maxDepth} levels (limit ${LIMITS.maxDepth})`);
      tooDeepReported = true;
      continue;
    }
    ancestors.add(value);
    stack.push({ value, path, depth, leave: true });
    let fits = true;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0 && fits; i--)
        fits = push({ value: value[i], path: [...path, i], depth: depth + 1 });
    } else {
      const keys = Object.keys(value);
      for (let k = keys.length - 1; k >= 0 && fits; k--) {
        const key = keys[k]!;
        const keyBytes = stringTooLong(key);
        if (keyBytes !== undefined) add([...path, key], `key too long: ${limitText(keyBytes)}`);
        const child = value[key];
        if (child !== undefined) fits = push({ value: child, path: [...path, key], depth: depth + 1 });
      }
    }
    if (!fits) {
      const message = `too many values: more than ${MAX_VALUES} (the spec file limit is 1 MiB)`;
      return { issues: [{ path: "", message }], complete: false };
    }
  }
  return { issues, complete: true };
}

/**
 * A plain deep copy of a value that checkJsonLimits accepted (so recursion depth is bounded). A `__proto__`
 * key is defined as an own property: assigning it would change the copy's prototype instead.
 */
export function jsonCopy(v: unknown): JsonValue {
  if (v === null || typeof v === "string" || typeof v === "boolean" || typeof v === "number") return v;
  if (Array.isArray(v)) return v.map((x) => jsonCopy(x));
  const out: JsonObject = {};
  for (const key of Object.keys(v as object)) {
    const child = (v as Record<string, unknown>)[key];
    if (child === undefined) continue;
    if (key === "__proto__") {
      Object.defineProperty(out, key, {
        value: jsonCopy(child),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else out[key] = jsonCopy(child);
  }
  return out;
}

/**
 * Where and why JSON.parse failed, as `unexpected "}" at line 3, column 5`. V8's own messages sometimes
 * carry no position at all, so the text is re-scanned (iteratively: a deep `[[[[…` must not overflow).
 */
export function describeJsonError(text: string): string | undefined {
  const found = locateJsonError(text);
  if (found === undefined) return undefined;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < found.at && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${found.message} at line ${line}, column ${found.at - lineStart + 1}`;
}

type State = "value" | "value_or_close" | "key" | "key_or_close" | "colon" | "comma_or_close" | "end";
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

function locateJsonError(t: string): { at: number; message: string } | undefined {
  let i = 0;
  let state = "value" as State;
  let afterComma = false;
  const stack: string[] = [];
  const err = (message: string) => ({ at: i, message });
  const unexpected = () => {
    const what = t[i] === undefined ? "end of input" : JSON.stringify(t[i]);
    return err(
      `unexpected ${what}${afterComma && (t[i] === "]" || t[i] === "}") ? " (trailing comma?)" : ""}`,
    );
  };
  const valueDone = () => {
    state = stack.length > 0 ? "comma_or_close" : "end";
    afterComma = false;
  };
  const readString = (): { at: number; message: string } | undefined => {
    const start = i++;
    for (;;) {
      const c = t.charCodeAt(i);
      if (Number.isNaN(c)) return { at: start, message: "unterminated string" };
      if (c === 34) break;
      if (c < 0x20) return err("control character in string (escape it, e.g. \\n)");
      if (c === 92) {
        const e = t[i + 1] ?? "";
        if (e === "u" && /^[0-9a-fA-F]{4}$/.test(t.slice(i + 2, i + 6))) i += 6;
        else if (ESCAPES.has(e)) i += 2;
        else return err("invalid escape in string");
      } else i++;
    }
    i++;
    return undefined;
  };
  for (;;) {
    while (i < t.length && " \t\n\r".includes(t[i]!)) i++;
    if (i >= t.length) return state === "end" ? undefined : err("unexpected end of input");
    const c = t[i]!;
    if (state === "end") return err(`unexpected ${JSON.stringify(c)} after the end of the document`);
    if (state === "colon") {
      if (c !== ":") return err(`expected ":" after a key, got ${JSON.stringify(c)}`);
      i++;
      state = "value";
    } else if (state === "comma_or_close") {
      const close = stack[stack.length - 1] === "{" ? "}" : "]";
      if (c === ",") {
        i++;
        state = close === "}" ? "key" : "value";
        afterComma = true;
      } else if (c === close) {
        i++;
        stack.pop();
        valueDone();
      } else return err(`expected "," or "${close}", got ${JSON.stringify(c)}`);
    } else if (state === "key" || state === "key_or_close") {
      if (c === "}" && state === "key_or_close") {
        i++;
        stack.pop();
        valueDone();
      } else if (c !== '"')
        return afterComma && c === "}"
          ? unexpected()
          : err(`expected a double-quoted key, got ${JSON.stringify(c)}`);
      else {
        const bad = readString();
        if (bad) return bad;
        state = "colon";
      }
    } else if (c === "]" && state === "value_or_close") {
      i++;
      stack.pop();
      valueDone();
    } else if (c === "{" || c === "[") {
      stack.push(c);
      i++;
      state = c === "{" ? "key_or_close" : "value_or_close";
      afterComma = false;
    } else if (c === '"') {
      const bad = readString();
      if (bad) return bad;
      valueDone();
    } else {
      NUMBER.lastIndex = i;
      const literal = ["true", "false", "null"].find((w) => t.startsWith(w, i));
      if (literal !== undefined) i += literal.length;
      else if (NUMBER.test(t)) i = NUMBER.lastIndex;
      else return unexpected();
      valueDone();
    }
  }
}
