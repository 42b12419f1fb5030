// Turning executor output into ballots, confidences and evidence (SPEC §5.1).

import type { ConfidenceWeightedConfig, JsonObject, JsonValue, VoteOn } from "../spec/types.js";
import { isPlainObject } from "../util/json.js";
import { compareUtf8 } from "./stochastic.js";

/**
 * Keys in code-point order, no spaces: the same value always gives the same text. Iterative, so that no
 * nesting overflows the stack: the work list holds values still to write and text already decided.
 */
export function canonicalJson(value: JsonValue): string {
  const out: string[] = [];
  const work: ({ text: string } | { value: JsonValue })[] = [{ value }];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    if ("text" in item) {
      out.push(item.text);
      continue;
    }
    const v = item.value;
    if (v === null || typeof v !== "object") {
      out.push(JSON.stringify(v));
    } else if (Array.isArray(v)) {
      // Pushed in reverse: popped as "[", v[0], ",", v[1], …, "]".
      work.push({ text: "]" });
      for (let i = v.length - 1; i >= 0; i--) {
        work.push({ value: v[i] as JsonValue });
        if (i > 0) work.push({ text: "," });
      }
      work.push({ text: "[" });
    } else {
      // Code-point order is UTF-8 byte order (UTF-16 unit order differs beyond the BMP).
      const keys = Object.keys(v)
        .filter((key) => v[key] !== undefined)
        .sort(compareUtf8);
      work.push({ text: "}" });
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        work.push({ value: v[key] as JsonValue });
        work.push({ text: `${i > 0 ? "," : ""}${JSON.stringify(key)}:` });
      }
      work.push({ text: "{" });
    }
  }
  return out.join("");
}

function normalizeText(text: string): string {
  return text.normalize("NFC").trim().replace(/\s+/gu, " ").toUpperCase();
}

/**
 * The ballot value of a raw field, or null for "no vote" (`""`, `{}`, `[]`, null, missing).
 * Strings, numbers and booleans are case-folded text; objects and arrays are canonical JSON.
 */
export function normalizeBallot(value: JsonValue | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    const text = normalizeText(value);
    return text === "" ? null : text;
  }
  if (typeof value === "number" || typeof value === "boolean") {
    if (typeof value === "number" && !Number.isFinite(value)) return null;
    return normalizeText(JSON.stringify(value));
  }
  if (Array.isArray(value)) return value.length === 0 ? null : canonicalJson(value);
  if (isPlainObject(value)) return Object.keys(value).length === 0 ? null : canonicalJson(value);
  return null;
}

/**
 * Every key of a response, and of its candidate_output, that aggregation reads (the extract* functions below
 * and the ballots' decision and answer): a store can hand over just these instead of whole outputs.
 */
export function aggregationKeys(config: ConfidenceWeightedConfig): string[] {
  const keys = [
    "candidate_output",
    "decision",
    "answer",
    "evidence_digests",
    "evidence_refs",
    config.decision_confidence_field,
    config.answer_confidence_field,
    config.confidence_field,
  ];
  return [...new Set(keys)];
}

/** The candidate output of a response: `candidate_output` when present, else the response itself. */
export function extractOutput(response: JsonValue | null): JsonObject | null {
  if (!isPlainObject(response)) return null;
  if (Object.hasOwn(response, "candidate_output")) {
    const inner = response.candidate_output;
    return isPlainObject(inner) ? inner : null;
  }
  return response;
}

function digestsFrom(refs: JsonValue | undefined, into: string[]): void {
  if (!Array.isArray(refs)) return;
  for (const ref of refs) {
    if (isPlainObject(ref)) pushDigest(ref.digest, into);
  }
}

function pushDigest(value: JsonValue | undefined, into: string[]): void {
  if (typeof value !== "string") return;
  const digest = value.trim();
  if (digest !== "" && !into.includes(digest)) into.push(digest);
}

/** Evidence digests of a step: the response's evidence_refs and the output's evidence_digests/evidence_refs. */
export function extractEvidence(response: JsonValue | null, output: JsonObject | null): string[] {
  const digests: string[] = [];
  if (isPlainObject(response)) digestsFrom(response.evidence_refs, digests);
  if (output) {
    const listed = output.evidence_digests;
    if (Array.isArray(listed)) for (const d of listed) pushDigest(d, digests);
    if (output !== response) digestsFrom(output.evidence_refs, digests);
  }
  return digests;
}

/** The first JSON number among the configured fields, else the default; clamped to [0, 1]. */
export function extractConfidence(
  output: JsonObject | null,
  voteOn: VoteOn,
  config: ConfidenceWeightedConfig,
): number {
  const fields = [
    voteOn === "decision" ? config.decision_confidence_field : config.answer_confidence_field,
    config.confidence_field,
  ];
  let value = config.default_confidence;
  if (output) {
    for (const field of fields) {
      const v = output[field];
      if (typeof v === "number" && Number.isFinite(v)) {
        value = v;
        break;
      }
    }
  }
  return Math.min(1, Math.max(0, value));
}

/** True when the output carries the field at all (drives the "no executor returned" warning). */
export function hasField(output: JsonObject | null, field: string): boolean {
  return output !== null && Object.hasOwn(output, field) && output[field] !== null;
}
