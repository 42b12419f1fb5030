// `executors add|list|check|remove` through the built CLI (SPEC §7): what each prints and its exit code, on top
// of the one executor-admin module (test/kernel/executor-admin.test.ts) under the operator's policy.
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { json, ws } from "../runtime/helpers.js";
import { useTempSqlite } from "../support/sqlite.js";

const tempDb = useTempSqlite();

describe("executors add|list|check|remove", () => {
  it("refuses a bad name before the flags and a bad config on one line, both before the store opens", async () => {
    const db = tempDb();
    const name = await ws(db, ["executors", "add", "a b"]);
    expect(name.code).toBe(2);
    expect(name.stderr).toBe('error: executor name "a b": 1–128 chars of [A-Za-z0-9._:-]\n');
    const config = await ws(db, ["executors", "add", "rt", "--url", "ftp://h", "--bearer-env", "1X"]);
    expect(config.code).toBe(2);
    expect(config.stderr).toBe(
      'error: executor "rt": url: "ftp://h" must use http or https; bearer_env: "1X" must be an env var name like RUNTIME_TOKEN\n',
    );
    expect(existsSync(db)).toBe(false);
  });

  it("the operator may register command executors, any secret name but WattSwarm's own, and any target", async () => {
    const db = tempDb();
    const add = await ws(db, [
      "executors",
      "add",
      "meta",
      "--url",
      "http://169.254.169.254/",
      "--bearer-env",
      "TEAM_TOKEN",
    ]);
    expect(json(add)).toMatchObject({ name: "meta", kind: "http", config: { bearer_env: "TEAM_TOKEN" } });
    expect(json(await ws(db, ["executors", "add", "judge", "--command", "node"]))).toMatchObject({
      kind: "command",
    });
  });

  it("checks (exit 0 healthy, 1 unhealthy, 3 unknown), lists and removes (3 when unknown)", async () => {
    const db = tempDb();
    expect(json(await ws(db, ["executors", "add", "s", "--sim"]))).toMatchObject({ name: "s", kind: "sim" });
    expect(json(await ws(db, ["executors", "check", "s"]))).toMatchObject({
      name: "s",
      kind: "sim",
      ok: true,
    });

    expect((await ws(db, ["executors", "add", "down", "--url", "http://127.0.0.1:1"])).code).toBe(0);
    const down = await ws(db, ["executors", "check", "down"]);
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout)).toMatchObject({ name: "down", kind: "http", ok: false });

    const unknown = await ws(db, ["executors", "check", "ghost"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/^error: executor "ghost" is not registered$/m);

    expect(json<{ name: string }[]>(await ws(db, ["executors", "list"])).map((e) => e.name)).toContain("s");
    expect(json(await ws(db, ["executors", "remove", "s"]))).toEqual({ ok: true, name: "s", removed: true });
    const again = await ws(db, ["executors", "remove", "s"]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/^error: executor "s" is not registered$/m);
  });
});
