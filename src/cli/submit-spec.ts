// Loading a spec for submission: the structural checks of `spec validate` plus "is each executor registered".
import { admitRunSpec, invalidSpecError } from "../kernel/admit.js";
import type { RunSpec } from "../spec/types.js";
import type { Store } from "../store/port.js";
import { loadRunSpec } from "./commands/spec.js";
import { printWarning } from "./output.js";

/** Reads, validates (registered executors included) and returns a spec, or throws SPEC_INVALID (exit 2). */
export async function loadSubmittableSpec(store: Store, file: string): Promise<RunSpec> {
  const { source, result } = await loadRunSpec(file);
  if (!result.ok) throw invalidSpecError(source, result);
  const { spec } = await admitRunSpec(store, result.spec, source);
  for (const warning of result.warnings) printWarning(warning);
  return spec;
}
