// Walks over untrusted JSON (request bodies, agent output) that must never overflow the stack: iterative, with
// the depth kept as data. Importable from every layer: it depends on nothing.

/** SPEC §8.4: an agent's candidate output nests at most this many levels (its root object is level 1). */
export const MAX_OUTPUT_DEPTH = 64;

interface DepthFrame {
  value: unknown;
  key: PropertyKey;
  parent: DepthFrame | undefined;
  depth: number;
}

/** The path of the first container nested deeper than `limit` (the root is level 1), found iteratively. */
export function tooDeepAt(root: unknown, limit: number): PropertyKey[] | undefined {
  const stack: DepthFrame[] = [{ value: root, key: "", parent: undefined, depth: 1 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { value, depth } = frame;
    if (value === null || typeof value !== "object") continue;
    if (depth > limit) {
      const path: PropertyKey[] = [];
      for (let f: DepthFrame | undefined = frame; f?.parent; f = f.parent) path.unshift(f.key);
      return path;
    }
    const entries: [PropertyKey, unknown][] = Array.isArray(value)
      ? value.map((v, i) => [i, v])
      : Object.entries(value);
    for (const [key, child] of entries) stack.push({ value: child, key, parent: frame, depth: depth + 1 });
  }
  return undefined;
}

/**
 * Where an executor response nests deeper than SPEC §8.4 allows, or undefined. Its candidate output (the
 * `candidate_output` member, else the response itself) has at most MAX_OUTPUT_DEPTH levels; the envelope
 * around it adds one, and nothing else in it may go deeper.
 */
export function responseTooDeepAt(response: unknown): PropertyKey[] | undefined {
  const envelope =
    typeof response === "object" &&
    response !== null &&
    !Array.isArray(response) &&
    Object.hasOwn(response, "candidate_output");
  return tooDeepAt(response, MAX_OUTPUT_DEPTH + (envelope ? 1 : 0));
}
