// Throw-away SQLite files for tests: each under its own directory in os.tmpdir(), removed after the
// enclosing suite (the -wal and -shm files beside a database go with it).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

/** A new, empty temporary directory; the caller removes it (or uses `useTempSqlite`). */
export function makeTempDir(): string {
  return mkdtempSync(join(tmpdir(), "wattswarm-test-"));
}

/**
 * Call at file or `describe` level. Returns a factory of paths for database files that do not exist yet, each
 * in its own temporary directory; all of them are removed after the suite.
 */
export function useTempSqlite(): (name?: string) => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return (name = "wattswarm.db") => {
    const dir = makeTempDir();
    dirs.push(dir);
    return join(dir, name);
  };
}
