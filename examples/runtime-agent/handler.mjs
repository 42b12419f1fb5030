// The same kind of agent as a module for `wattswarm runtime --handler examples/runtime-agent/handler.mjs`:
// export execute (required), verify and capabilities (optional).
export const capabilities = { provider_family: "example", model_id: "length-agent" };

export async function execute(request) {
  const prompt = String(request.inputs.prompt ?? "");
  const decision = prompt.length % 2 === 0 ? "YES" : "NO";
  return { decision, answer: `${decision} (prompt of ${prompt.length} chars)`, confidence: 0.7 };
}

export function verify(request) {
  const ok = ["YES", "NO"].includes(request.candidate_output?.decision);
  return ok ? { passed: true } : { passed: false, reason_codes: ["UNKNOWN_DECISION"] };
}
