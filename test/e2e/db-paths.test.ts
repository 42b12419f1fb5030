// A `--db` path that cannot be created fails at once with DB_UNAVAILABLE (exit 1), one `error:` line naming the
// path and the OS reason (issue 21: Node 20's recursive mkdir loops forever on a path under /proc).
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { cliIsBuilt, runCli } from "../support/cli.js";
import { useTempSqlite } from "../support/sqlite.js";
import { expectExit, expectOneLineError } from "./helpers.js";

const FAIL_WITHIN_MS = 5_000;

async function listRuns(db: string) {
  const started = Date.now();
  // The child is killed after 15 s: a hang shows as a null exit code rather than a stuck test.
  const res = await runCli(["run", "list", "--db", db], { timeoutMs: 15_000 });
  return { res, elapsed: Date.now() - started };
}

describe.skipIf(!cliIsBuilt())("--db paths whose directory cannot be created", () => {
  const tempPath = useTempSqlite();

  it.skipIf(!existsSync("/proc/self"))(
    "a path under /proc fails at once with DB_UNAVAILABLE",
    async () => {
      const db = "/proc/nope/x.db";
      const { res, elapsed } = await listRuns(db);
      expectExit(res, EXIT_CODES.DB_UNAVAILABLE);
      expect(elapsed).toBeLessThan(FAIL_WITHIN_MS);
      const line = expectOneLineError(res, /^error: cannot open SQLite database at \/proc\/nope\/x\.db: /);
      expect(line).toContain("/proc/nope");
      expect(line).toMatch(/ENOENT|no such file or directory/);
    },
    20_000,
  );

  it.skipIf(!existsSync("/etc/hostname"))(
    "a regular file in the path fails with ENOTDIR naming it",
    async () => {
      const { res, elapsed } = await listRuns("/etc/hostname/x.db");
      expectExit(res, EXIT_CODES.DB_UNAVAILABLE);
      expect(elapsed).toBeLessThan(FAIL_WITHIN_MS);
      const line = expectOneLineError(res, /^error: cannot open SQLite database at \/etc\/hostname\/x\.db: /);
      expect(line).toMatch(/ENOTDIR: not a directory.*'\/etc\/hostname'/);
    },
    20_000,
  );

  it("missing levels are created one at a time, and an existing directory is reused", async () => {
    const db = tempPath().replace(/wattswarm\.db$/, "a/b/c/x.db");
    const first = await listRuns(db);
    expectExit(first.res, 0);
    expect(existsSync(db)).toBe(true);
    expectExit((await listRuns(db)).res, 0);
  }, 30_000);
});
