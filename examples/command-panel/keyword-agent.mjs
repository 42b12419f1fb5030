// Style 1: rules over text. Reads the ExecuteRequest from stdin, prints a bare output object on stdout.
let raw = "";
for await (const chunk of process.stdin) raw += chunk;
const { inputs } = JSON.parse(raw);

const text = `${inputs.proposal ?? ""} ${(inputs.risk_notes ?? []).join(" ")}`.toLowerCase();
const alarms = ["unbudgeted", "no rollback", "single vendor", "unaudited"].filter((w) => text.includes(w));
const decision = alarms.length >= 2 ? "REJECT" : "APPROVE";
const answer = alarms.length ? `red flags: ${alarms.join(", ")}` : "no red flags in the text";
console.log(JSON.stringify({ decision, answer, confidence: alarms.length >= 2 ? 0.8 : 0.6 }));
