import { describe, expect, it } from "vitest";
import type { ExecutorKind } from "../../src/vocab.js";
import { describePg } from "../support/pg.js";
import { type DialectHarness, postgresHarness, sqliteHarness } from "./dialects.js";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function registrySuite(h: () => DialectHarness): void {
  async function migrated(clock?: () => number) {
    const store = h().open(h().freshTarget(), clock ? { clock } : {});
    await store.migrate();
    return store;
  }

  it("adds, reads back and lists executors ordered by name (byte order)", async () => {
    const store = await migrated();
    const added = await store.upsertExecutor({
      name: "Zeta",
      kind: "command",
      config: { argv: ["node", "agent.js"], env: ["OPENAI_API_KEY"], nested: { ok: true, n: 1.5, s: "é…" } },
    });
    expect(added).toMatchObject({
      name: "Zeta",
      kind: "command",
      config: { argv: ["node", "agent.js"], env: ["OPENAI_API_KEY"], nested: { ok: true, n: 1.5, s: "é…" } },
    });
    expect(added.created_at).toMatch(ISO);
    expect(added.updated_at).toBe(added.created_at);
    await store.upsertExecutor({ name: "alpha", kind: "openai", config: { model: "m", api_key_env: "KEY" } });
    expect(await store.getExecutor("Zeta")).toEqual(added);
    expect((await store.listExecutors()).map((e) => e.name)).toEqual(["Zeta", "alpha", "rt", "sim"]);
  });

  it("replacing an executor keeps created_at and moves updated_at", async () => {
    let now = Date.parse("2026-01-02T03:04:05.678Z");
    const store = await migrated(() => now);
    const first = await store.upsertExecutor({ name: "x", kind: "http", config: { url: "http://a" } });
    now += 1_500;
    await new Promise((r) => setTimeout(r, 5)); // PostgreSQL's now() must move too
    const second = await store.upsertExecutor({ name: "x", kind: "sim", config: { accuracy: 0.9 } });
    expect(second).toMatchObject({ name: "x", kind: "sim", config: { accuracy: 0.9 } });
    expect(second.created_at).toBe(first.created_at);
    expect(Date.parse(second.updated_at)).toBeGreaterThan(Date.parse(first.updated_at));
    if (h().kind === "sqlite") {
      expect(first.created_at).toBe("2026-01-02T03:04:05.678Z");
      expect(second.updated_at).toBe("2026-01-02T03:04:07.178Z");
    }
    expect(await store.listExecutors()).toContainEqual(second);
  });

  it("removes executors and reports whether one was there", async () => {
    const store = await migrated();
    expect(await store.removeExecutor("sim")).toBe(true);
    expect(await store.removeExecutor("sim")).toBe(false);
    expect(await store.removeExecutor("never-existed")).toBe(false);
    expect(await store.getExecutor("sim")).toBeNull();
    expect((await store.listExecutors()).map((e) => e.name)).toEqual(["rt"]);
  });

  it("returns null for an unknown name", async () => {
    const store = await migrated();
    expect(await store.getExecutor("nope")).toBeNull();
  });

  it("rejects an unknown kind, an empty name or a non-object config as usage errors", async () => {
    const store = await migrated();
    await expect(
      store.upsertExecutor({ name: "x", kind: "grpc" as ExecutorKind, config: {} }),
    ).rejects.toMatchObject({ code: "USAGE" });
    await expect(store.upsertExecutor({ name: " ", kind: "sim", config: {} })).rejects.toMatchObject({
      code: "USAGE",
    });
    await expect(
      store.upsertExecutor({ name: "x", kind: "sim", config: [] as unknown as Record<string, never> }),
    ).rejects.toMatchObject({ code: "USAGE" });
    expect(await store.getExecutor("x")).toBeNull();
  });

  it("now() is a Date near the process clock", async () => {
    const store = await migrated();
    const now = await store.now();
    expect(now).toBeInstanceOf(Date);
    expect(Math.abs(now.getTime() - Date.now())).toBeLessThan(5_000);
  });
}

describe("sqlite executor registry", () => {
  const harness = sqliteHarness();
  registrySuite(() => harness);
});

describePg("postgres executor registry", (pg) => {
  const harness = postgresHarness(pg);
  registrySuite(() => harness);
});
