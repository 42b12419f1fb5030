// validateRunSpec: untrusted JSON in, either the fully defaulted RunSpec or every problem at once.
// Order of work: size limits (so nothing else walks a hostile input), zod for structure and per-field rules,
// then the cross-field rules zod cannot see. It never throws: any surprise becomes an issue.

import type { ValidationIssue } from "../errors.js";
import { errorMessage } from "../errors.js";
import { isPlainRecord } from "../util/json.js";
import { formatPath, fromZodIssue, show, sortByDocumentOrder, typeName } from "./issues.js";
import { checkJsonLimits, describeJsonError, formatBytes, jsonCopy, utf8Length } from "./limits.js";
import { LIMITS, type RunSpecParsed, RunSpecSchema } from "./schema.js";
import {
  type AgentSpec,
  type JsonObject,
  NULL_RESOLVERS,
  NULL_TRIGGERS,
  type RunSpec,
  TIE_RESOLVERS,
  TIE_TRIGGERS,
} from "./types.js";

export interface ValidateOptions {
  /** When given, every agent's executor must be one of these names (SPEC §8.3). */
  knownExecutors?: ReadonlySet<string>;
}

export type ValidationResult =
  | { ok: true; spec: RunSpec; warnings: string[] }
  | { ok: false; issues: ValidationIssue[] };

/** More issues than this are noise; the rest is summarized in one last issue. */
export const MAX_ISSUES = 100;

type Raw = Record<string, unknown>;

function fail(issues: ValidationIssue[]): ValidationResult {
  if (issues.length <= MAX_ISSUES) return { ok: false, issues };
  const shown = issues.slice(0, MAX_ISSUES);
  shown.push({ path: "", message: `… and ${issues.length - MAX_ISSUES} more problems` });
  return { ok: false, issues: shown };
}

export function validateRunSpec(input: unknown, opts: ValidateOptions = {}): ValidationResult {
  try {
    return validate(input, opts);
  } catch (err) {
    const reason = errorMessage(err);
    return { ok: false, issues: [{ path: "", message: `the run spec could not be validated: ${reason}` }] };
  }
}

function validate(input: unknown, opts: ValidateOptions): ValidationResult {
  if (!isPlainRecord(input)) {
    return fail([{ path: "", message: `the run spec must be a JSON object, got ${typeName(input)}` }]);
  }
  const limits = checkJsonLimits(input);
  if (!limits.complete) return fail(limits.issues);
  const issues = limits.issues;
  // Where a limit was broken, zod's complaint about the same value would only repeat it.
  const limitPaths = new Set(issues.map((i) => i.path));
  const parsed = RunSpecSchema.safeParse(boundedView(input), { reportInput: true });
  if (!parsed.success) {
    const rawAt = (path: PropertyKey[]) => valueAt(input, path);
    for (const iss of parsed.error.issues) {
      for (const issue of fromZodIssue(iss, rawAt)) if (!limitPaths.has(issue.path)) issues.push(issue);
    }
  }
  // zod takes a present-but-undefined key as given; for us it is as missing as an absent one.
  if (input.shared_inputs === undefined && !issues.some((i) => i.path === "shared_inputs")) {
    issues.push({ path: "shared_inputs", message: "required" });
  }
  crossFieldIssues(input, opts, issues);
  if (!parsed.success || issues.length > 0) return fail(sortByDocumentOrder(input, issues));
  return { ok: true, spec: buildSpec(parsed.data, input), warnings: warningsFor(parsed.data, input) };
}

// zod would create one issue per entry of a million-entry array; no rule needs more than limit + 1 entries
// to be broken, and counts in messages are read from the raw input.
function boundedView(input: Raw): Raw {
  const agents = input.agents;
  if (!Array.isArray(agents) || agents.length <= LIMITS.maxAgents + 1) return input;
  return { ...input, agents: agents.slice(0, LIMITS.maxAgents + 1) };
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === "number") cur = cur[seg];
    else if (isPlainRecord(cur) && typeof seg === "string" && Object.hasOwn(cur, seg)) cur = cur[seg];
    else return undefined;
  }
  return cur;
}

function crossFieldIssues(input: Raw, opts: ValidateOptions, issues: ValidationIssue[]): void {
  const agents = Array.isArray(input.agents) ? input.agents.slice(0, LIMITS.maxAgents + 1) : [];
  const ids = new Set<string>();
  agents.forEach((agent, i) => {
    if (!isPlainRecord(agent)) return;
    const id = agent.agent_id;
    if (typeof id === "string" && id !== "" && id.length <= LIMITS.maxIdLength) {
      if (ids.has(id)) issues.push({ path: `agents[${i}].agent_id`, message: `duplicate ${show(id)}` });
      ids.add(id);
    }
    const executor = agent.executor;
    if (
      opts.knownExecutors &&
      typeof executor === "string" &&
      executor !== "" &&
      !opts.knownExecutors.has(executor)
    ) {
      issues.push({
        path: `agents[${i}].executor`,
        message: `${show(executor)} is not registered; run: wattswarm executors add ${executor} --url <url>`,
      });
    }
  });

  const agg = input.aggregation;
  if (!isPlainRecord(agg)) return;
  const q = agg.quorum;
  const n = Array.isArray(input.agents) ? input.agents.length : 0;
  if (Number.isSafeInteger(q) && (q as number) > n && n >= 1 && n <= LIMITS.maxAgents) {
    issues.push({
      path: "aggregation.quorum",
      message: `must be at most the number of agents (${n}), got ${q}`,
    });
  }
  const tie = agg.tie_policy;
  if (isPlainRecord(tie)) {
    const base = "aggregation.tie_policy";
    checkDistinct(tie.enabled_on, `${base}.enabled_on`, TIE_TRIGGERS, issues);
    checkChain(tie.chain, `${base}.chain`, TIE_RESOLVERS, "STOCHASTIC", "always resolves", issues);
    const rep = tie.reputation_weighted;
    const units = isPlainRecord(rep) ? rep.agent_reputation_units : undefined;
    // zod's record parser skips a `__proto__` key entirely, so its value is checked here.
    if (isPlainRecord(units) && Object.hasOwn(units, "__proto__")) {
      const v: unknown = Object.getOwnPropertyDescriptor(units, "__proto__")?.value;
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
        const path = formatPath([
          "aggregation",
          "tie_policy",
          "reputation_weighted",
          "agent_reputation_units",
          "__proto__",
        ]);
        const message =
          typeof v === "number" ? `must be >= 0, got ${v}` : `expected number, got ${typeName(v)}`;
        issues.push({ path, message });
      }
    }
  }
  const nul = agg.null_policy;
  if (isPlainRecord(nul)) {
    const base = "aggregation.null_policy";
    checkDistinct(nul.enabled_on, `${base}.enabled_on`, NULL_TRIGGERS, issues);
    checkChain(nul.chain, `${base}.chain`, NULL_RESOLVERS, "FINALIZE_NULL", "always finalizes", issues);
  }
}

/** Duplicates among the known values of a list (unknown ones are zod's to report). */
function checkDistinct(
  list: unknown,
  path: string,
  allowed: readonly string[],
  issues: ValidationIssue[],
): void {
  if (!Array.isArray(list)) return;
  const seen = new Set<string>();
  list.slice(0, 64).forEach((v, i) => {
    if (typeof v !== "string" || !allowed.includes(v)) return;
    if (seen.has(v)) issues.push({ path: `${path}[${i}]`, message: `duplicate ${show(v)}` });
    seen.add(v);
  });
}

/** A resolver chain: no duplicates, and nothing after the resolver that always ends the chain. */
function checkChain(
  list: unknown,
  path: string,
  allowed: readonly string[],
  terminal: string,
  why: string,
  issues: ValidationIssue[],
): void {
  if (!Array.isArray(list)) return;
  const seen = new Set<string>();
  let ended = false;
  list.slice(0, 64).forEach((v, i) => {
    if (typeof v !== "string" || !allowed.includes(v)) return;
    if (seen.has(v)) issues.push({ path: `${path}[${i}]`, message: `duplicate ${show(v)}` });
    else if (ended) {
      issues.push({
        path: `${path}[${i}]`,
        message: `${show(v)} is unreachable: nothing runs after ${terminal}, which ${why}`,
      });
    }
    seen.add(v);
    if (v === terminal) ended = true;
  });
}

function buildSpec(p: RunSpecParsed, raw: Raw): RunSpec {
  const rawAgents = raw.agents as unknown[];
  const agents: AgentSpec[] = p.agents.map((a, i) => {
    const rawInputs = (rawAgents[i] as Raw).inputs;
    return {
      agent_id: a.agent_id,
      prompt: a.prompt,
      executor: a.executor,
      profile: a.profile,
      weight: a.weight,
      priority: a.priority,
      timeout_ms: a.timeout_ms,
      // Free-form objects come from the raw input: zod's record output drops a `__proto__` key.
      inputs: (rawInputs === undefined ? {} : jsonCopy(rawInputs)) as JsonObject,
    };
  });
  const { tie_policy: tie, null_policy: nul } = p.aggregation;
  const rawUnits = valueAt(raw, [
    "aggregation",
    "tie_policy",
    "reputation_weighted",
    "agent_reputation_units",
  ]);
  return {
    run_id: p.run_id,
    task_type: p.task_type,
    shared_inputs: jsonCopy(raw.shared_inputs),
    agents,
    retry: { max_attempts: p.retry.max_attempts, backoff_ms: p.retry.backoff_ms },
    aggregation: {
      mode: p.aggregation.mode,
      vote_on: p.aggregation.vote_on,
      vote_weight: p.aggregation.vote_weight,
      quorum: p.aggregation.quorum === 0 ? null : p.aggregation.quorum,
      tie_policy: {
        enabled_on: [...tie.enabled_on],
        chain: [...tie.chain],
        reexplore: { ...tie.reexplore },
        confidence_weighted: { ...tie.confidence_weighted },
        reputation_weighted: {
          ...(rawUnits === undefined
            ? {}
            : { agent_reputation_units: jsonCopy(rawUnits) as Record<string, number> }),
          missing_reputation: tie.reputation_weighted.missing_reputation,
        },
        stochastic: tie.stochastic.seed === undefined ? {} : { seed: tie.stochastic.seed },
      },
      null_policy: {
        enabled_on: [...nul.enabled_on],
        chain: [...nul.chain],
        reexplore: { ...nul.reexplore },
      },
    },
  };
}

function warningsFor(p: RunSpecParsed, raw: Raw): string[] {
  const warnings: string[] = [];
  if (p.aggregation.quorum === 0) {
    warnings.push("aggregation.quorum: 0 is read as no quorum (null); omit the field or set it to null");
  }
  const units = valueAt(raw, ["aggregation", "tie_policy", "reputation_weighted", "agent_reputation_units"]);
  if (isPlainRecord(units)) {
    const ids = new Set(p.agents.map((a) => a.agent_id));
    for (const id of Object.keys(units)) {
      if (ids.has(id)) continue;
      const path = formatPath([
        "aggregation",
        "tie_policy",
        "reputation_weighted",
        "agent_reputation_units",
        id,
      ]);
      warnings.push(`${path}: ${show(id)} is not an agent of this run; its units are never used`);
    }
  }
  return warnings;
}

/** The issue for a spec text over the 1 MiB limit (the CLI uses it without reading a huge file). */
export function specTooLargeIssue(source: string, bytes: number): ValidationIssue {
  const limit = formatBytes(LIMITS.maxSpecBytes);
  return {
    path: "",
    message: `${source}: spec too large: ${bytes} bytes (${formatBytes(bytes)}) > limit ${limit}`,
  };
}

/** Validates a spec given as text (a file, stdin, a request body): size limit, JSON syntax, then the spec. */
export function parseRunSpecText(text: string, source: string, opts: ValidateOptions = {}): ValidationResult {
  try {
    const bytes = utf8Length(text);
    if (bytes > LIMITS.maxSpecBytes) return fail([specTooLargeIssue(source, bytes)]);
    // Editors on Windows like to start files with a byte-order mark; JSON.parse does not accept it.
    const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (err) {
      const where = body.trim() === "" ? "empty input" : (describeJsonError(body) ?? (err as Error).message);
      return fail([{ path: "", message: `${source}: invalid JSON: ${where}` }]);
    }
    return validateRunSpec(value, opts);
  } catch (err) {
    const reason = errorMessage(err);
    return fail([{ path: "", message: `${source}: could not be read as a run spec: ${reason}` }]);
  }
}
