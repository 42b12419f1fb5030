// The store entry point: pick an adapter from a resolved StoreConfig (config.ts) with `openStore`. Importing
// this module loads both drivers (it exports both adapter classes); code that needs only one imports ./open.js,
// and code that needs only types imports ./types.js or ./port.js.

export type { StoreConfig, StoreFlags, StoreSource } from "./config.js";
export {
  DEFAULT_DB_PATH,
  describeStoreConfig,
  extractStoreFlags,
  redactUrl,
  resolveStoreConfig,
} from "./config.js";
export { type OpenStoreOptions, openStore } from "./open.js";
export type { Store } from "./port.js";
export { PostgresStore } from "./postgres/index.js";
export { SqliteStore } from "./sqlite/index.js";
export * from "./types.js";
