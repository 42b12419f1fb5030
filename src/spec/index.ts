// The spec layer's public surface: validation with defaults, step inputs, the JSON Schema, the types.

export { buildStepInputs, SIGNAL_KEY } from "./inputs.js";
export { formatIssue, formatPath } from "./issues.js";
export { runSpecJsonSchema } from "./json-schema.js";
export { isValidId, LIMITS, RunSpecSchema, STIGMERGY_KEYS } from "./schema.js";
export { didYouMean, suggest } from "./suggest.js";
export type * from "./types.js";
export {
  AGGREGATION_MODES,
  MISSING_REPUTATION,
  NULL_RESOLVERS,
  NULL_TRIGGERS,
  TIE_RESOLVERS,
  TIE_TRIGGERS,
  VOTE_ON,
  VOTE_WEIGHTS,
} from "./types.js";
export {
  MAX_ISSUES,
  parseRunSpecText,
  specTooLargeIssue,
  type ValidateOptions,
  type ValidationResult,
  validateRunSpec,
} from "./validate.js";
