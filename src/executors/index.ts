// The executors layer (SPEC §8): the contract, the four kinds (http, command, openai, sim), shared limits and the
// attempt runner the worker calls.
export * from "./command.js";
export * from "./config-checks.js";
export * from "./failures.js";
export * from "./http.js";
export * from "./http-response.js";
export * from "./llm-prompt.js";
export * from "./openai.js";
export * from "./output.js";
export * from "./redact.js";
export * from "./registry.js";
export * from "./request.js";
export * from "./run-attempt.js";
export * from "./secrets.js";
export * from "./sim.js";
export * from "./types.js";
