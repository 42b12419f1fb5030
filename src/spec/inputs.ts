// A step's inputs (SPEC §2.1). Built from null-prototype objects because the keys come from users: on a
// plain object, assigning `__proto__` would swap the prototype instead of storing the value.

import { isPlainObject } from "../util/json.js";
import type { JsonObject, JsonValue, RunSpec } from "./types.js";

/** The key under which re-explore rounds pass the aggregation signal (SPEC §5.4). */
export const SIGNAL_KEY = "_aggregation_signal";

/** A deep copy made of null-prototype objects, so the caller can change it without touching the spec. */
function copy(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(copy);
  if (!isPlainObject(v)) return v;
  const out = Object.create(null) as JsonObject;
  for (const key of Object.keys(v)) out[key] = copy(v[key]!);
  return out;
}

/**
 * The inputs for agent `agentIndex`, in SPEC order: `shared_inputs` (an object is spread; any other value is
 * kept as `{shared_inputs: v}`), then the agent's own `inputs` (top-level keys win), then `prompt` and
 * `agent_id` from the agent spec, then `_aggregation_signal` when a signal is given. Nested values are
 * replaced, not merged.
 */
export function buildStepInputs(spec: RunSpec, agentIndex: number, signal?: JsonObject | null): JsonObject {
  const agent = spec.agents[agentIndex];
  if (agent === undefined) {
    throw new RangeError(
      `agent index ${agentIndex} is out of range (the run has ${spec.agents.length} agents)`,
    );
  }
  const out = Object.create(null) as JsonObject;
  const shared = spec.shared_inputs;
  if (isPlainObject(shared)) {
    for (const key of Object.keys(shared)) out[key] = copy(shared[key]!);
  } else {
    out.shared_inputs = copy(shared);
  }
  for (const key of Object.keys(agent.inputs)) out[key] = copy(agent.inputs[key]!);
  // Deleted first so the agent's own fields always come last, whatever the shared inputs held.
  delete out.prompt;
  delete out.agent_id;
  out.prompt = agent.prompt;
  out.agent_id = agent.agent_id;
  if (signal !== undefined && signal !== null) {
    delete out[SIGNAL_KEY];
    out[SIGNAL_KEY] = copy(signal);
  }
  return out;
}
