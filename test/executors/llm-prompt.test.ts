import { describe, expect, it } from "vitest";
import { buildChatMessages, extractJsonObject, parseModelOutput } from "../../src/executors/llm-prompt.js";

describe("buildChatMessages", () => {
  it("keeps the prompt, the context and the options apart, and leaves kernel keys out of the context", () => {
    const [system, user] = buildChatMessages({
      prompt: "Pick the safer plan.",
      agent_id: "a1",
      plans: ["x", "y"],
      decision_options: ["X", "Y"],
      _sim: { accuracy: 1 },
    });
    expect(system?.role).toBe("system");
    expect(system?.content).toMatch(/"decision".*"answer".*"confidence"/s);
    expect(user?.content).toContain("Task: Pick the safer plan.");
    expect(user?.content).toContain('"plans"');
    expect(user?.content).not.toContain("agent_id");
    expect(user?.content).not.toContain("_sim");
    expect(user?.content).toContain('"decision" must be exactly one of: "X", "Y".');
    expect(user?.content).not.toContain("new round");
  });

  it("is deterministic", () => {
    const inputs = { prompt: "p", b: 1, a: 2 };
    expect(buildChatMessages(inputs)).toEqual(buildChatMessages(inputs));
  });
});

describe("parsing the model's reply", () => {
  it("finds the object in plain JSON, a fence or surrounding prose", () => {
    expect(extractJsonObject('{"decision":"A"}')).toEqual({ decision: "A" });
    expect(extractJsonObject('```\n{"decision":"A"}\n```')).toEqual({ decision: "A" });
    expect(extractJsonObject('My answer: {"decision": "A"} — done.')).toEqual({ decision: "A" });
    expect(extractJsonObject("no braces here")).toBeNull();
    expect(extractJsonObject("[1, 2]")).toBeNull();
  });

  it("normalizes decision, answer and confidence", () => {
    expect(parseModelOutput('{"decision": " a ", "answer": 42, "confidence": "0.7"}', ["A", "B"])).toEqual({
      ok: true,
      output: { decision: "A", answer: "42", confidence: 0.7 },
    });
    expect(parseModelOutput('{"answer": "yes", "confidence": "high"}', null)).toEqual({
      ok: true,
      output: { answer: "yes" },
    });
    expect(parseModelOutput('{"confidence": 0.5}', null)).toMatchObject({ ok: false });
    expect(parseModelOutput('{"decision": "C"}', ["A", "B"])).toEqual({
      ok: false,
      reason: 'decision "C" is not one of A, B',
    });
  });
});
