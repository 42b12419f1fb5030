// Style 3: configured by the environment and aware of re-explore rounds. CAUTION (passed with
// `--env CAUTION=high`) makes it reject anything with open risks; in a re-explore round it reads
// `_aggregation_signal` and says what changed. Diagnostics go to stderr, which the kernel keeps on failure.
let raw = "";
for await (const chunk of process.stdin) raw += chunk;
const { inputs } = JSON.parse(raw);

const caution = process.env.CAUTION ?? "normal";
const risks = Array.isArray(inputs.risk_notes) ? inputs.risk_notes : [];
const signal = inputs._aggregation_signal;
console.error(
  `cautious-agent: caution=${caution}, ${risks.length} risk notes, round signal: ${signal ? signal.type : "none"}`,
);

const limit = caution === "high" ? 0 : 2;
const decision = risks.length > limit ? "REJECT" : "APPROVE";
const why =
  risks.length > limit ? `${risks.length} open risks (tolerance ${limit})` : "risks within tolerance";
const answer = signal ? `${why}; re-examined after ${signal.path}` : why;
process.stdout.write(JSON.stringify({ decision, answer, confidence: caution === "high" ? 0.9 : 0.7 }));
