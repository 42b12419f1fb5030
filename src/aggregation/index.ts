export { checkEarlyStop, decide, needsReputation } from "./decide.js";
export { aggregationKeys, canonicalJson, normalizeBallot } from "./normalize.js";
export { stochasticPick } from "./stochastic.js";
export type * from "./types.js";
