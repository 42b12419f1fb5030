// The state diagrams in docs/architecture.md must be exactly the transition tables of src/kernel/states.ts:
// every edge drawn is legal, and every legal transition is drawn.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RUN_TRANSITIONS, STEP_TRANSITIONS } from "../../src/kernel/states.js";

const doc = readFileSync(new URL("../../docs/architecture.md", import.meta.url), "utf8");

function diagram(heading: string): string[] {
  const section = doc.slice(doc.indexOf(`### ${heading}\n`));
  const block = /```mermaid\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error(`no mermaid block under "### ${heading}"`);
  return block
    .split("\n")
    .map((line) => /^\s*(\w+) --> (\w+): (\w+)\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} -> ${m[2]} (${m[3]})`)
    .sort();
}

function table(transitions: Record<string, { from: readonly string[]; to: string }>): string[] {
  return Object.entries(transitions)
    .flatMap(([name, t]) => t.from.map((from) => `${from} -> ${t.to} (${name})`))
    .sort();
}

describe("docs/architecture.md state diagrams", () => {
  it("draw the run transitions of states.ts", () => {
    expect(diagram("Run")).toEqual(table(RUN_TRANSITIONS));
  });

  it("draw the step transitions of states.ts", () => {
    expect(diagram("Step")).toEqual(table(STEP_TRANSITIONS));
  });
});
