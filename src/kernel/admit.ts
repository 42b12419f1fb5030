// What a spec must pass before it is stored (SPEC §2, §8.3): the structural rules plus "each agent's executor
// is registered". Shared by `run submit`/`run exec` and the HTTP API, so both report the same issues.
import { WattswarmError } from "../errors.js";
import type { RunSpec } from "../spec/types.js";
import type { ValidationResult } from "../spec/validate.js";
import type { Store } from "../store/port.js";

export function invalidSpecError(source: string, result: ValidationResult & { ok: false }): WattswarmError {
  const n = result.issues.length;
  return new WattswarmError(
    "SPEC_INVALID",
    `${source} is not a valid run spec (${n} problem${n === 1 ? "" : "s"})`,
    result.issues,
  );
}

/** The defaulted spec and its warnings, or SPEC_INVALID with every issue (paths included). */
export async function admitRunSpec(
  store: Pick<Store, "listExecutors">,
  input: unknown,
  source: string,
): Promise<{ spec: RunSpec; warnings: string[] }> {
  // Loaded on use: the validator (zod) is the largest part of the CLI's startup.
  const { validateRunSpec } = await import("../spec/validate.js");
  const knownExecutors = new Set((await store.listExecutors()).map((e) => e.name));
  const checked = validateRunSpec(input, { knownExecutors });
  if (!checked.ok) throw invalidSpecError(source, checked);
  return { spec: checked.spec, warnings: checked.warnings };
}
