// Style 2: numbers and arguments. `node budget-agent.mjs --max-ratio 0.9` reads cost and budget from the
// shared inputs and answers with a full ExecuteResponse, citing its evidence.
import { createHash } from "node:crypto";

const at = process.argv.indexOf("--max-ratio");
const maxRatio = at > 0 ? Number(process.argv[at + 1]) : 1;

let raw = "";
for await (const chunk of process.stdin) raw += chunk;
const { inputs } = JSON.parse(raw);

const ratio = Number(inputs.cost) / Number(inputs.budget);
if (!Number.isFinite(ratio)) {
  console.error("budget-agent: inputs.cost and inputs.budget must be numbers");
  process.exit(65); // bad input: retrying cannot help, so the kernel does not retry
}
const decision = ratio <= maxRatio ? "APPROVE" : "REJECT";
const evidence = `cost=${inputs.cost} budget=${inputs.budget} max_ratio=${maxRatio}`;
console.log(
  JSON.stringify({
    candidate_output: {
      decision,
      answer: `cost is ${(ratio * 100).toFixed(0)}% of budget (limit ${(maxRatio * 100).toFixed(0)}%)`,
      confidence: Math.min(1, 0.5 + Math.abs(maxRatio - ratio)),
    },
    evidence_refs: [
      { digest: `sha256:${createHash("sha256").update(evidence).digest("hex")}`, note: evidence },
    ],
  }),
);
