// An agent as one async function, served with createRuntime. Start it with `node examples/runtime-agent/agent.mjs`
// (PORT defaults to 8787, the default `rt` executor's URL). Inside this repository "wattswarm" resolves to the
// package itself (build it first); elsewhere `npm install wattswarm`.
import { createRuntime, RuntimeError } from "wattswarm";

/** @type {import("wattswarm").ExecuteHandler} */
async function execute(request, { signal }) {
  const { question = "", prompt = "", decision_options: options = ["YES", "NO"] } = request.inputs;
  if (signal.aborted) throw new RuntimeError("gave up", { status: 503 });
  // A stand-in for real work: a stable choice from the question and this agent's prompt.
  const score = [...`${question}|${prompt}`].reduce((sum, ch) => sum + ch.charCodeAt(0), 0);
  const decision = options[score % options.length];
  return { decision, answer: `${decision}: chosen for "${prompt}"`, confidence: 0.6 + (score % 4) / 10 };
}

const runtime = createRuntime({
  execute,
  capabilities: { provider_family: "example", model_id: "checksum-agent" },
});
const url = await runtime.listen(Number(process.env.PORT ?? 8787), process.env.HOST ?? "127.0.0.1");
console.error(`runtime-agent: listening on ${url}`);
for (const signal of ["SIGINT", "SIGTERM"])
  process.once(signal, () => runtime.close().then(() => process.exit(0)));
