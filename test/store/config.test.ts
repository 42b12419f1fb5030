import { describe, expect, it } from "vitest";
import {
  describeStoreConfig,
  extractStoreFlags,
  redactUrl,
  resolveStoreConfig,
  type StoreFlags,
} from "../../src/store/config.js";

const CWD = "/home/user/project";
const PG = "postgres://u:pw@db:5432/ws";

function resolve(flags: StoreFlags, env: Record<string, string> = {}) {
  return resolveStoreConfig({ flags, env, cwd: CWD });
}

function usage(fn: () => unknown, message: string | RegExp): void {
  expect(fn).toThrow(expect.objectContaining({ code: "USAGE" }));
  expect(fn).toThrow(message);
}

describe("resolveStoreConfig precedence (SPEC §7)", () => {
  const everything = {
    WATTSWARM_PG_URL: "postgres://env/a",
    DATABASE_URL: "postgresql://dburl/b",
    WATTSWARM_DB: "/var/lib/ws.db",
  };

  it("--pg-url wins over every environment variable", () => {
    expect(resolve({ pgUrl: PG }, everything)).toEqual({ kind: "postgres", url: PG, source: "flag" });
  });

  it("--db wins over every environment variable", () => {
    expect(resolve({ db: "data/x.db" }, everything)).toEqual({
      kind: "sqlite",
      path: "/home/user/project/data/x.db",
      source: "flag",
    });
  });

  it("--pg-url and --db together are a usage error", () => {
    usage(() => resolve({ pgUrl: PG, db: "x.db" }), "use either --pg-url or --db, not both");
  });

  it("WATTSWARM_PG_URL comes next", () => {
    expect(resolve({}, everything)).toEqual({
      kind: "postgres",
      url: "postgres://env/a",
      source: "WATTSWARM_PG_URL",
    });
  });

  it("then DATABASE_URL, for postgres:// and postgresql:// URLs only", () => {
    const { WATTSWARM_PG_URL: _, ...env } = everything;
    expect(resolve({}, env)).toEqual({
      kind: "postgres",
      url: "postgresql://dburl/b",
      source: "DATABASE_URL",
    });
    expect(resolve({}, { DATABASE_URL: "postgres://x/y" })).toMatchObject({
      kind: "postgres",
      source: "DATABASE_URL",
    });
    for (const other of ["mysql://x/y", "sqlite:///tmp/x.db", "file:x.db", "redis://r"]) {
      expect(resolve({}, { DATABASE_URL: other, WATTSWARM_DB: "/x.db" })).toEqual({
        kind: "sqlite",
        path: "/x.db",
        source: "WATTSWARM_DB",
      });
    }
  });

  it("then SQLite at WATTSWARM_DB, resolved against cwd", () => {
    expect(resolve({}, { WATTSWARM_DB: "rel/ws.db" })).toEqual({
      kind: "sqlite",
      path: "/home/user/project/rel/ws.db",
      source: "WATTSWARM_DB",
    });
  });

  it("else ./.wattswarm/wattswarm.db under cwd", () => {
    expect(resolve({}, {})).toEqual({
      kind: "sqlite",
      path: "/home/user/project/.wattswarm/wattswarm.db",
      source: "default",
    });
    expect(resolveStoreConfig({ flags: {}, env: {} })).toMatchObject({
      path: `${process.cwd()}/.wattswarm/wattswarm.db`,
    });
  });

  it("treats empty variables as unset", () => {
    expect(resolve({}, { WATTSWARM_PG_URL: "", DATABASE_URL: " ", WATTSWARM_DB: "" })).toMatchObject({
      source: "default",
    });
  });

  it("a non-PostgreSQL --pg-url or WATTSWARM_PG_URL is a usage error that hides the password", () => {
    usage(
      () => resolve({ pgUrl: "mysql://u:pw@h/d" }),
      '--pg-url must be a postgres:// or postgresql:// URL, got "mysql://u@h/d"',
    );
    usage(() => resolve({}, { WATTSWARM_PG_URL: "localhost:5432" }), /^WATTSWARM_PG_URL must be/);
  });

  it("--pg-schema, else WATTSWARM_PG_SCHEMA, sets the schema of a PostgreSQL store", () => {
    expect(resolve({ pgUrl: PG, pgSchema: "flag_s" }, { WATTSWARM_PG_SCHEMA: "env_s" })).toEqual({
      kind: "postgres",
      url: PG,
      schema: "flag_s",
      source: "flag",
    });
    expect(resolve({}, { WATTSWARM_PG_URL: PG, WATTSWARM_PG_SCHEMA: "env_s" })).toMatchObject({
      schema: "env_s",
    });
  });

  it("validates schema names", () => {
    usage(() => resolve({ pgUrl: PG, pgSchema: "bad-name" }), /--pg-schema: invalid schema name "bad-name"/);
    usage(() => resolve({ pgUrl: PG, pgSchema: "1abc" }), /invalid schema name/);
    usage(() => resolve({ pgUrl: PG, pgSchema: "a".repeat(64) }), /invalid schema name/);
    expect(resolve({ pgUrl: PG, pgSchema: `_${"a".repeat(62)}` })).toMatchObject({
      schema: `_${"a".repeat(62)}`,
    });
    usage(
      () => resolve({}, { WATTSWARM_PG_URL: PG, WATTSWARM_PG_SCHEMA: "x y" }),
      /^WATTSWARM_PG_SCHEMA: invalid/,
    );
  });

  it("--pg-schema with a SQLite store is a usage error; WATTSWARM_PG_SCHEMA is ignored there", () => {
    usage(() => resolve({ db: "/x.db", pgSchema: "s" }), /--pg-schema needs a PostgreSQL store/);
    expect(resolve({}, { WATTSWARM_PG_SCHEMA: "s" })).toEqual({
      kind: "sqlite",
      path: "/home/user/project/.wattswarm/wattswarm.db",
      source: "default",
    });
  });

  it("WATTSWARM_SQLITE_BUSY_MS sets a SQLite store's wait for the write lock; PostgreSQL ignores it", () => {
    expect(resolve({ db: "/x.db" }, { WATTSWARM_SQLITE_BUSY_MS: "250" })).toEqual({
      kind: "sqlite",
      path: "/x.db",
      source: "flag",
      busyWaitMs: 250,
    });
    expect(resolve({ pgUrl: PG }, { WATTSWARM_SQLITE_BUSY_MS: "250" })).not.toHaveProperty("busyWaitMs");
    for (const bad of ["-1", "1.5", "5s", "1e3"]) {
      usage(() => resolve({ db: "/x.db" }, { WATTSWARM_SQLITE_BUSY_MS: bad }), /WATTSWARM_SQLITE_BUSY_MS/);
    }
  });

  it("keeps absolute paths and :memory: as given", () => {
    expect(resolve({ db: "/abs/x.db" })).toMatchObject({ path: "/abs/x.db" });
    expect(resolve({ db: ":memory:" })).toMatchObject({ path: ":memory:" });
  });
});

describe("redactUrl", () => {
  it("drops the password and keeps everything else", () => {
    expect(redactUrl("postgres://postgres:postgres@127.0.0.1:55432/wattswarm")).toBe(
      "postgres://postgres@127.0.0.1:55432/wattswarm",
    );
    expect(redactUrl("postgresql://u:p%40ss@h/d?sslmode=require&password=x")).toBe(
      "postgresql://u@h/d?sslmode=require",
    );
    expect(redactUrl("postgres://h/d")).toBe("postgres://h/d");
  });

  it("drops password and sslpassword query parameters in any case, keeping paths such as sslkey", () => {
    expect(
      redactUrl("postgres://u@h/d?sslmode=verify-full&SSLPassword=k3y&sslkey=/etc/ws/client.key&PASSWORD=pw"),
    ).toBe("postgres://u@h/d?sslmode=verify-full&sslkey=%2Fetc%2Fws%2Fclient.key");
  });

  it("still hides credentials in something that is not a URL", () => {
    expect(redactUrl("postgres://u:p w@h/d")).not.toContain("p w");
    const odd = redactUrl("postgres://u:p w@h/d?sslmode=require&sslpassword=k3y&Password=pw");
    expect(odd).not.toContain("k3y");
    expect(odd).not.toContain("pw");
    expect(odd).toBe("postgres://u@h/d?sslmode=require");
  });

  it("describeStoreConfig notes DATABASE_URL as the source", () => {
    expect(describeStoreConfig({ kind: "postgres", url: PG, source: "DATABASE_URL" })).toBe(
      "postgres://u@db:5432/ws (from DATABASE_URL)",
    );
    expect(describeStoreConfig({ kind: "sqlite", path: "/x.db", source: "default" })).toBe("/x.db");
  });
});

describe("extractStoreFlags", () => {
  it("finds the flags anywhere on the line, in both spellings", () => {
    for (const argv of [
      ["--pg-url", "U", "run", "init"],
      ["run", "--pg-url", "U", "init"],
      ["run", "init", "--pg-url", "U"],
      ["run", "init", "--pg-url=U"],
      ["--pg-url=U", "run", "init"],
    ]) {
      expect(extractStoreFlags(argv)).toEqual({ argv: ["run", "init"], flags: { pgUrl: "U" } });
    }
  });

  it("extracts --db and --pg-schema and leaves every other token in order", () => {
    expect(
      extractStoreFlags(["run", "--db", "x.db", "worker", "--concurrency", "4", "--pg-schema=s", "--once"]),
    ).toEqual({
      argv: ["run", "worker", "--concurrency", "4", "--once"],
      flags: { db: "x.db", pgSchema: "s" },
    });
  });

  it("keeps '=' inside values", () => {
    expect(extractStoreFlags(["--pg-url=postgres://h/d?options=-c%20a=b"]).flags).toEqual({
      pgUrl: "postgres://h/d?options=-c%20a=b",
    });
  });

  it("passes both --pg-url and --db through for resolveStoreConfig to refuse", () => {
    expect(extractStoreFlags(["--pg-url", "U", "--db", "P"]).flags).toEqual({ pgUrl: "U", db: "P" });
  });

  it("a flag given twice is a usage error", () => {
    usage(() => extractStoreFlags(["--db", "a", "run", "--db=b"]), "--db given more than once");
  });

  it("a flag without a value is a usage error", () => {
    usage(() => extractStoreFlags(["run", "init", "--pg-url"]), "--pg-url needs a value");
    usage(() => extractStoreFlags(["--db="]), "--db needs a value");
    usage(() => extractStoreFlags(["--pg-schema", "--once"]), "--pg-schema needs a value");
  });

  it("stops at -- and --command, whose words belong to another program", () => {
    expect(extractStoreFlags(["executors", "add", "x", "--command", "prog", "--db", "theirs"])).toEqual({
      argv: ["executors", "add", "x", "--command", "prog", "--db", "theirs"],
      flags: {},
    });
    expect(extractStoreFlags(["--db", "ours", "a", "--", "--db", "theirs"])).toEqual({
      argv: ["a", "--", "--db", "theirs"],
      flags: { db: "ours" },
    });
  });

  it("does not confuse look-alike flags", () => {
    expect(extractStoreFlags(["--pg-urls", "x", "--dbx=y"])).toEqual({
      argv: ["--pg-urls", "x", "--dbx=y"],
      flags: {},
    });
  });
});
