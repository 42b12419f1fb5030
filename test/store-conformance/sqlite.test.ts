// The conformance suite on SQLite: every fresh store gets its own temporary file; `sameAs` opens a second
// connection on the same file, as a second process on the machine would.
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { useTempSqlite } from "../support/sqlite.js";
import type { ConformanceStore } from "./suite.js";
import { runConformanceSuite } from "./suite.js";

const tempPath = useTempSqlite();
const pathOf = new WeakMap<ConformanceStore, string>();

runConformanceSuite("sqlite", async (opts = {}) => {
  const path = opts.sameAs ? pathOf.get(opts.sameAs) : tempPath();
  if (path === undefined) throw new Error("sameAs: not a store of this factory");
  // Cast through unknown: the run half of the port is checked by this very suite.
  const store = new SqliteStore({ path, env: {} }) as unknown as ConformanceStore;
  pathOf.set(store, path);
  await store.migrate();
  return store;
});
