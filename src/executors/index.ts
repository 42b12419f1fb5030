// The executors layer (SPEC §8): the contract, the kinds available now (http, sim), shared limits and the
// attempt runner the worker calls.
export * from "./http.js";
export * from "./limits.js";
export * from "./registry.js";
export * from "./request.js";
export * from "./run-attempt.js";
export * from "./signals.js";
export * from "./sim.js";
export * from "./types.js";
