// Hostile specs (issue 9 item 3, SPEC §2), generated: a limit broken at a random place — a string over 64 KiB,
// nesting over 32 levels (up to hundreds of thousands, which must not overflow the stack), prototype keys,
// a wrong type at any field, over 1000 agents, a text over 1 MiB. Validation never throws, always fails, and
// names the path and the limit. (property.test.ts covers arbitrary values; malformed.test.ts one case per rule.)
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRunSpecText, type ValidationResult, validateRunSpec } from "../../src/spec/index.js";

const base = () => ({
  run_id: "r-1",
  shared_inputs: { topic: "t" },
  agents: [
    { agent_id: "a", prompt: "p", executor: "rt" },
    { agent_id: "b", prompt: "p", executor: "rt", inputs: { k: 1 } },
  ],
  retry: { max_attempts: 2, backoff_ms: 10 },
  aggregation: { mode: "all_done", tie_policy: { chain: ["STOCHASTIC"] }, null_policy: {} },
});

/** Where a free-form value may go (any JSON is allowed there, so only the limits can break). */
const FREE = ["shared_inputs", "shared_inputs.topic", "agents.0.inputs", "agents.1.inputs.k"];
/** Typed fields, each with the JSON type it expects. */
const TYPED: [string, string][] = [
  ["run_id", "string"],
  ["task_type", "string"],
  ["agents", "array"],
  ["agents.0", "object"],
  ["agents.0.agent_id", "string"],
  ["agents.0.prompt", "string"],
  ["agents.0.executor", "string"],
  ["agents.0.profile", "string"],
  ["agents.0.weight", "number"],
  ["agents.0.priority", "number"],
  ["agents.0.timeout_ms", "number"],
  ["agents.1.inputs", "object"],
  ["retry", "object"],
  ["retry.max_attempts", "number"],
  ["retry.backoff_ms", "number"],
  ["aggregation", "object"],
  ["aggregation.mode", "string"],
  ["aggregation.vote_on", "string"],
  ["aggregation.quorum", "number"],
  ["aggregation.tie_policy", "object"],
  ["aggregation.tie_policy.chain", "array"],
  ["aggregation.null_policy.enabled_on", "array"],
  ["aggregation.null_policy.reexplore", "object"],
];
/** The validator's path text for a dotted path: `agents[0].inputs`. */
const shown = (dotted: string) => dotted.replace(/\.(\d+)/g, "[$1]");

function setAt(root: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split(".");
  let cur = root as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  Object.defineProperty(cur, keys[keys.length - 1]!, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

const jsonTypeOf = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

function nested(levels: number, arrays: boolean, key: string): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) {
    if (arrays) v = [v];
    else {
      const o: Record<string, unknown> = {};
      Object.defineProperty(o, key, { value: v, enumerable: true, writable: true, configurable: true });
      v = o;
    }
  }
  return v;
}

function issuesOf(r: ValidationResult): { path: string; message: string }[] {
  expect(r.ok).toBe(false);
  if (r.ok) return [];
  for (const i of r.issues) expect(i.message).not.toMatch(/could not be (validated|read)/);
  return r.issues;
}

const short = (s: string) => (s.length > 120 ? `${s.slice(0, 120)}…` : s);
function expectIssue(r: ValidationResult, pathPrefix: string, limit: string): void {
  const issues = issuesOf(r);
  const hit = issues.some((i) => i.path.startsWith(pathPrefix) && i.message.includes(limit));
  if (!hit) {
    const got = issues.map((i) => `${short(i.path)}: ${short(i.message)}`).join(" | ");
    throw new Error(`no issue under ${pathPrefix} naming ${limit}; got ${got}`);
  }
}

const PROTO_KEYS = ["__proto__", "constructor", "prototype"];
const polluted = () =>
  (({}) as Record<string, unknown>).polluted !== undefined ||
  (Object.prototype as Record<string, unknown>).polluted !== undefined;

describe("hostile specs", () => {
  it("a string over 64 KiB anywhere (value or key): an issue at its path naming 64 KiB", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FREE, ...TYPED.filter(([, t]) => t === "string").map(([p]) => p)),
        fc.integer({ min: 64 * 1024 + 1, max: 160 * 1024 }),
        fc.constantFrom("x", "é", "😀"),
        fc.boolean(),
        fc.boolean(),
        (where, bytes, ch, asKey, viaText) => {
          const huge = ch.repeat(Math.ceil(bytes / Buffer.byteLength(ch)));
          const spec = base();
          setAt(spec, where, asKey ? { [huge]: 1 } : huge);
          const r = viaText ? parseRunSpecText(JSON.stringify(spec), "s.json") : validateRunSpec(spec);
          expectIssue(r, shown(where), "64 KiB");
        },
      ),
      { numRuns: 100 },
    );
  });

  it("nesting over 32 levels, up to 200,000, anywhere: an issue naming 32, and no stack overflow", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FREE, ...TYPED.map(([p]) => p)),
        fc.oneof(fc.integer({ min: 32, max: 40 }), fc.integer({ min: 1000, max: 200_000 })),
        fc.boolean(),
        fc.constantFrom("x", ...PROTO_KEYS),
        fc.boolean(),
        (where, levels, arrays, key, viaText) => {
          const spec = base();
          let text = "";
          if (viaText) {
            // Built as text: JSON.stringify itself recurses.
            setAt(spec, where, "<deep>");
            const deep = arrays
              ? `${"[".repeat(levels)}1${"]".repeat(levels)}`
              : `${`{${JSON.stringify(key)}:`.repeat(levels)}1${"}".repeat(levels)}`;
            text = JSON.stringify(spec).replace('"<deep>"', deep);
          } else setAt(spec, where, nested(levels, arrays, key));
          const r = viaText ? parseRunSpecText(text, "s.json") : validateRunSpec(spec);
          if (viaText && text.length > 1024 * 1024) expectIssue(r, "", "1 MiB");
          else expectIssue(r, shown(where), "32");
          expect(polluted()).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("10,000 levels in shared_inputs, as text and as an object", () => {
    const text = `{"run_id":"r","agents":[{"agent_id":"a","prompt":"","executor":"e"}],"shared_inputs":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    expectIssue(parseRunSpecText(text, "s.json"), "shared_inputs[0]", "more than 32 levels (limit 32)");
    const spec = { ...base(), shared_inputs: nested(10_000, false, "__proto__") };
    expectIssue(validateRunSpec(spec), "shared_inputs.__proto__", "more than 32 levels (limit 32)");
    expect(polluted()).toBe(false);
  });

  it("`__proto__`/`constructor`/`prototype` keys anywhere: no pollution; unknown keys where fields are fixed", () => {
    const fixed = [
      "",
      "agents.0",
      "retry",
      "aggregation",
      "aggregation.tie_policy",
      "aggregation.null_policy",
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...fixed, "shared_inputs", "agents.1.inputs"),
        fc.constantFrom(...PROTO_KEYS),
        fc.jsonValue({ maxDepth: 2 }),
        (where, key, value) => {
          const payload = { polluted: value ?? true, prototype: { polluted: true } };
          const spec = JSON.parse(JSON.stringify(base())) as Record<string, unknown>;
          const target =
            where === ""
              ? spec
              : (() => {
                  const keys = where.split(".");
                  let cur = spec as Record<string, unknown>;
                  for (const k of keys) cur = cur[k] as Record<string, unknown>;
                  return cur;
                })();
          Object.defineProperty(target, key, {
            value: payload,
            enumerable: true,
            writable: true,
            configurable: true,
          });
          // Both as an object and as text, where JSON.parse makes `__proto__` an own key.
          for (const r of [validateRunSpec(spec), parseRunSpecText(JSON.stringify(spec), "s.json")]) {
            if (fixed.includes(where)) {
              const path = where === "" ? key : `${shown(where)}.${key}`;
              expect(issuesOf(r)).toContainEqual({ path, message: "unknown key" });
            } else {
              // Free-form: accepted, the key kept as a plain own key of a plain object.
              if (!r.ok) throw new Error(JSON.stringify(r.issues));
              const stored = JSON.parse(JSON.stringify(r.spec)) as Record<string, unknown>;
              const keys = where.split(".");
              let cur = stored as Record<string, unknown>;
              for (const k of keys) cur = cur[k] as Record<string, unknown>;
              expect(Object.hasOwn(cur, key)).toBe(true);
            }
            expect(polluted()).toBe(false);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("a wrong type at every typed field: an issue at that path", () => {
    const wrong = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true }),
      fc.string({ maxLength: 4 }),
      fc.array(fc.integer(), { maxLength: 2 }),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...TYPED), wrong, fc.boolean(), ([where, type], value, viaText) => {
        // null is a valid quorum (none): every other field must reject a value of the wrong type.
        fc.pre(jsonTypeOf(value) !== type && !(where === "aggregation.quorum" && value === null));
        const spec = base();
        setAt(spec, where, value);
        const r = viaText ? parseRunSpecText(JSON.stringify(spec), "s.json") : validateRunSpec(spec);
        const issues = issuesOf(r);
        const path = shown(where);
        // The issue is at the field, or (an emptied agents array) the field itself.
        expect(
          issues.some(
            (i) => i.path === path || i.path.startsWith(`${path}.`) || i.path.startsWith(`${path}[`),
          ),
        ).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("more than 1000 agents: an issue naming 1000, however big the array", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1001, max: 50_000 }), fc.boolean(), (n, valid) => {
        const agents = Array.from({ length: n }, (_, i) =>
          valid ? { agent_id: `a${i}`, prompt: "", executor: "rt" } : i,
        );
        expectIssue(validateRunSpec({ ...base(), agents }), "agents", "(max 1000)");
      }),
      { numRuns: 20 },
    );
  });

  it("a text over 1 MiB, whatever it holds: one issue naming 1 MiB, before parsing", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 * 1024 }),
        fc.constantFrom("x", "é", "[", "{"),
        (extra, ch) => {
          const n = Math.ceil((1024 * 1024 + extra) / Buffer.byteLength(ch));
          const text = ch.repeat(n);
          const r = parseRunSpecText(text, "big.json");
          const issues = issuesOf(r);
          expect(issues).toHaveLength(1);
          expect(issues[0]!.message).toMatch(/^big\.json: spec too large: \d+ bytes .*> limit 1 MiB$/);
        },
      ),
      { numRuns: 20 },
    );
  });
});
