// The runtime layer: the reference executor runtime and the SDK for writing an agent as one function.
export * from "./server.js";
export * from "./types.js";
export { checkExecuteRequest, checkVerifyRequest, defaultVerify } from "./validate.js";
