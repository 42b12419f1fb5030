// The quickstart through PgBouncer in transaction mode, as Debian ships it (issue 21): the timeouts must not be
// startup parameters, and named prepared statements need WATTSWARM_PG_PREPARED=off, which the error says.
// The test starts its own pgbouncer (scripts/install-pgbouncer.sh installs it) in front of a database of its
// own; without pgbouncer it is SKIPPED with a notice, unless WATTSWARM_REQUIRE_PGBOUNCER=1.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { expectExit, expectOneLineError, json, seedSpec, writeSpec } from "../e2e/helpers.js";
import { cliIsBuilt, runCli } from "../support/cli.js";
import { pgUnavailable, TEST_PG_URL } from "../support/pg.js";

const PGBOUNCER = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].find((p) => existsSync(p));
const REQUIRED = process.env.WATTSWARM_REQUIRE_PGBOUNCER === "1";
const missing =
  PGBOUNCER === undefined ? "pgbouncer is not installed (scripts/install-pgbouncer.sh)" : pgUnavailable;

if (missing !== null && !REQUIRED) {
  console.warn(
    [
      "",
      "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
      `!! PgBouncer tests SKIPPED: ${missing}.`,
      "!! Set WATTSWARM_REQUIRE_PGBOUNCER=1 to fail instead.",
      "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
      "",
    ].join("\n"),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe.skipIf((missing !== null && !REQUIRED) || !cliIsBuilt())(
  "through pgbouncer in transaction mode",
  () => {
    const database = `wst_pgb_${process.pid}_${randomBytes(4).toString("hex")}`;
    const dir = mkdtempSync(join(tmpdir(), "wattswarm-pgbouncer-"));
    let bouncer: ChildProcess | undefined;
    let log = "";
    let port = 0;
    const url = (alias: string) => `postgres://postgres@127.0.0.1:${port}/${alias}`;

    beforeAll(async () => {
      if (missing !== null) throw new Error(`WATTSWARM_REQUIRE_PGBOUNCER=1 but ${missing}`);
      const upstream = new URL(TEST_PG_URL);
      await admin(`CREATE DATABASE "${database}"`);
      port = await freePort();
      // `wsdb` as shipped (pool_mode transaction, default pool size); `wsone` funnels every client through one
      // server connection, so a second process preparing the same statement on it always collides.
      const target = `host=${upstream.hostname} port=${upstream.port || 5432} dbname=${database}`;
      writeFileSync(
        join(dir, "pgbouncer.ini"),
        [
          "[databases]",
          `wsdb = ${target}`,
          `wsone = ${target} pool_size=1`,
          "[pgbouncer]",
          "listen_addr = 127.0.0.1",
          `listen_port = ${port}`,
          "unix_socket_dir =",
          "auth_type = trust",
          `auth_file = ${join(dir, "userlist.txt")}`,
          "pool_mode = transaction",
          "",
        ].join("\n"),
      );
      writeFileSync(join(dir, "userlist.txt"), '"postgres" ""\n');
      chmodSync(dir, 0o755);
      // pgbouncer refuses to run as root: -u drops to an unprivileged user.
      const asRoot = process.getuid?.() === 0;
      bouncer = spawn(
        PGBOUNCER as string,
        [...(asRoot ? ["-u", "nobody"] : []), join(dir, "pgbouncer.ini")],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      bouncer.stdout?.on("data", (b: Buffer) => {
        log += b.toString();
      });
      bouncer.stderr?.on("data", (b: Buffer) => {
        log += b.toString();
      });
      for (let i = 0; i < 100 && !/listening on 127\.0\.0\.1/.test(log); i++) {
        if (bouncer.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (!/listening on 127\.0\.0\.1/.test(log)) throw new Error(`pgbouncer did not start:\n${log}`);
    }, 30_000);

    afterAll(async () => {
      if (bouncer?.pid !== undefined && bouncer.exitCode === null) {
        const exited = new Promise((r) => bouncer?.once("exit", r));
        bouncer.kill("SIGTERM");
        await exited;
      }
      await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    });

    const off = { WATTSWARM_PG_PREPARED: "off" };

    it("with WATTSWARM_PG_PREPARED=off: run init, submit --kickoff and exec finalize the runs", async () => {
      const pgUrl = ["--pg-url", url("wsdb")];
      expectExit(await runCli(["run", "init", ...pgUrl], { env: off }), 0);
      const kicked = writeSpec(seedSpec("pgb-kicked", "sim"));
      expectExit(await runCli(["run", "submit", kicked.file, "--kickoff", ...pgUrl], { env: off }), 0);
      const exec = writeSpec(seedSpec("pgb-exec", "sim"));
      const res = await runCli(["run", "exec", exec.file, ...pgUrl], { env: off, timeoutMs: 60_000 });
      expectExit(res, 0);
      expect(json<{ status: string }>(res).status).toBe("FINALIZED");
      // The kicked-off run is finished by a worker, also through the pooler.
      const worker = await runCli(["run", "worker", "--exit-when-idle", ...pgUrl], {
        env: off,
        timeoutMs: 60_000,
      });
      expectExit(worker, 0);
      const result = await runCli(["run", "result", "pgb-kicked", ...pgUrl], { env: off });
      expectExit(result, 0);
      expect(json<{ status: string }>(result).status).toBe("FINALIZED");
      expect(log).not.toMatch(/unsupported startup parameter/);
    }, 120_000);

    it("with prepared statements on, the clash says to set WATTSWARM_PG_PREPARED=off", async () => {
      const pgUrl = ["--pg-url", url("wsone")];
      const on = { WATTSWARM_PG_PREPARED: "on" };
      // Each process prepares the same statements; with one server connection the second one collides.
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await runCli(["run", "list", ...pgUrl], { env: on }));
      const failed = results.find((r) => r.code !== 0);
      expect(failed, results.map((r) => r.stderr).join("\n")).toBeDefined();
      expectExit(failed as (typeof results)[number], EXIT_CODES.DB_UNAVAILABLE);
      const line = expectOneLineError(failed as (typeof results)[number]);
      expect(line).toMatch(/prepared statement "ws_[0-9a-f]+" already exists/);
      expect(line).toContain("Set WATTSWARM_PG_PREPARED=off");
      expect(line).not.toMatch(/docker compose|Start one/);
    }, 60_000);
  },
);
