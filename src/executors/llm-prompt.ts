// What an OpenAI-compatible model is asked and how its reply becomes a candidate output (SPEC §8.1 `openai`).
// Pure functions: the same step inputs always give the same messages, so prompts are testable and reviewable.
import type { JsonObject, JsonValue } from "../spec/types.js";
import { isPlainObject } from "../util/json.js";

export interface ChatMessage {
  role: "system" | "user";
  content: string;
}

/** Input keys that are instructions to the kernel or the prompt itself, not context for the model. */
const NOT_CONTEXT = new Set(["prompt", "agent_id", "decision_options", "_aggregation_signal", "_sim"]);
/** Context beyond this is cut: a prompt is not a place for a 1 MiB document. */
export const MAX_CONTEXT_CHARS = 32_000;

export const SYSTEM_PROMPT = [
  "You are one agent in a panel of independent agents; your answer is counted as one vote.",
  "Think about the task, then reply with one JSON object and nothing else:",
  '{"decision": "<short label of your choice>", "answer": "<your answer in one or two sentences>",',
  '"confidence": <number from 0 to 1, how sure you are>}',
].join("\n");

export function decisionOptions(inputs: JsonObject): string[] | null {
  const listed = inputs.decision_options;
  if (!Array.isArray(listed)) return null;
  const options = listed.filter((o): o is string => typeof o === "string" && o.trim() !== "");
  return options.length > 0 ? options : null;
}

function contextOf(inputs: JsonObject): JsonObject {
  const context: JsonObject = {};
  for (const [key, value] of Object.entries(inputs)) if (!NOT_CONTEXT.has(key)) context[key] = value;
  return context;
}

function signalText(signal: JsonValue | undefined): string | null {
  if (!isPlainObject(signal)) return null;
  const path =
    signal.path === "TIE_PATH" ? "the panel was split (a tie)" : "the panel reached no usable answer";
  const lines = [
    `This is a new round: in the previous round ${path}.`,
    `Signal from the aggregator: ${JSON.stringify(signal)}`,
  ];
  if (signal.require_new_evidence === true)
    lines.push("Look for new evidence rather than repeating yourself.");
  lines.push("Reconsider carefully and give your best single answer.");
  return lines.join("\n");
}

/** The chat messages for one step: the agent's prompt, the shared context, the options and any re-explore signal. */
export function buildChatMessages(inputs: JsonObject, systemPrompt = SYSTEM_PROMPT): ChatMessage[] {
  const parts: string[] = [];
  const prompt = typeof inputs.prompt === "string" ? inputs.prompt.trim() : "";
  parts.push(prompt === "" ? "Task: decide based on the context below." : `Task: ${prompt}`);
  const context = contextOf(inputs);
  if (Object.keys(context).length > 0) {
    let text = JSON.stringify(context, null, 2);
    if (text.length > MAX_CONTEXT_CHARS) text = `${text.slice(0, MAX_CONTEXT_CHARS)}\n… (context cut)`;
    parts.push(`Context:\n${text}`);
  }
  const options = decisionOptions(inputs);
  if (options) {
    parts.push(`"decision" must be exactly one of: ${options.map((o) => JSON.stringify(o)).join(", ")}.`);
  }
  const signal = signalText(inputs._aggregation_signal);
  if (signal) parts.push(signal);
  parts.push('Reply with the JSON object {"decision", "answer", "confidence"} only.');
  return [
    { role: "system", content: systemPrompt },
    { role: "user", content: parts.join("\n\n") },
  ];
}

function tryObject(text: string): JsonObject | null {
  try {
    const value: unknown = JSON.parse(text);
    return isPlainObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** The first JSON object in a reply: the whole text, a ```json fence, or the outermost braces. */
export function extractJsonObject(content: string): JsonObject | null {
  const text = content.trim();
  const whole = tryObject(text);
  if (whole) return whole;
  for (const fence of text.matchAll(/```(?:json|JSON)?\s*\n?([\s\S]*?)```/g)) {
    const inner = tryObject((fence[1] ?? "").trim());
    if (inner) return inner;
  }
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  return start >= 0 && end > start ? tryObject(text.slice(start, end + 1)) : null;
}

export type ModelOutput = { ok: true; output: JsonObject } | { ok: false; reason: string };

function asText(value: JsonValue | undefined): string | undefined {
  if (typeof value === "string") return value.trim();
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

/**
 * `{decision, answer, confidence}` from the model's text. A decision is matched to `options` ignoring case;
 * confidence is clamped to [0, 1]. Fails when there is no object, no decision or answer, or an unlisted decision.
 */
export function parseModelOutput(content: string, options: string[] | null): ModelOutput {
  const raw = extractJsonObject(content);
  if (!raw) return { ok: false, reason: "the model's reply holds no JSON object" };
  const output: JsonObject = { ...raw };
  let decision = asText(raw.decision);
  const answer = asText(raw.answer);
  if ((decision === undefined || decision === "") && (answer === undefined || answer === "")) {
    return { ok: false, reason: 'the model\'s JSON has neither "decision" nor "answer"' };
  }
  if (decision !== undefined && options) {
    const wanted = decision.toLowerCase();
    const match = options.find((o) => o.toLowerCase() === wanted);
    if (match === undefined) {
      return {
        ok: false,
        reason: `decision ${JSON.stringify(decision)} is not one of ${options.join(", ")}`,
      };
    }
    decision = match;
  }
  if (decision !== undefined) output.decision = decision;
  if (answer !== undefined) output.answer = answer;
  const confidence = typeof raw.confidence === "string" ? Number(raw.confidence) : raw.confidence;
  if (typeof confidence === "number" && Number.isFinite(confidence)) {
    output.confidence = Math.min(
      1,
      Math.max(0, confidence > 1 && confidence <= 100 ? confidence / 100 : confidence),
    );
  } else {
    delete output.confidence;
  }
  return { ok: true, output };
}
