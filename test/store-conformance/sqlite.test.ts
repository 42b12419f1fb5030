// The conformance suite on SQLite: every fresh store gets its own temporary file; `sameAs` opens a second
// connection on the same file, as a second process on the machine would.
import type { Store } from "../../src/store/port.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { useTempSqlite } from "../support/sqlite.js";
import { runConformanceSuite } from "./suite.js";

const tempPath = useTempSqlite();
const pathOf = new WeakMap<Store, string>();

runConformanceSuite("sqlite", async (opts = {}) => {
  const path = opts.sameAs ? pathOf.get(opts.sameAs) : tempPath();
  if (path === undefined) throw new Error("sameAs: not a store of this factory");
  const store = new SqliteStore({ path, env: {} });
  pathOf.set(store, path);
  await store.migrate();
  return store;
});
