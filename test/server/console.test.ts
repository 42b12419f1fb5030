// `serve` serves the built console: `/` is its index.html, `/assets/*` its bundles (no token needed, even when
// the API has one); without a build `/` is a placeholder page that says how to build it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/server/app.js";
import { SqliteStore } from "../../src/store/index.js";
import type { Store } from "../../src/store/port.js";
import { makeTempDir, useTempSqlite } from "../support/sqlite.js";

describe("console static files", () => {
  const tempDb = useTempSqlite();
  const stores: Store[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
  });
  const app = (consoleDir: string, token?: string) => {
    const store = new SqliteStore({ path: tempDb() });
    stores.push(store);
    return buildApp(store, { consoleDir, token });
  };

  it("serves index.html at / and hashed assets with their content types; nothing outside assets/", async () => {
    const dir = makeTempDir();
    mkdirSync(join(dir, "assets"));
    writeFileSync(
      join(dir, "index.html"),
      '<!doctype html><div id="app"></div><script src="/assets/a-1.js"></script>',
    );
    writeFileSync(join(dir, "assets", "a-1.js"), "console.log(1)");
    writeFileSync(join(dir, "assets", "a-1.css"), "body{}");
    writeFileSync(join(dir, "secret.js"), "nope");
    const a = app(dir, "tok");
    const page = await a.inject({ url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.body).toContain('<div id="app">');
    const js = await a.inject({ url: "/assets/a-1.js" });
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(js.headers["cache-control"]).toContain("immutable");
    expect(js.body).toBe("console.log(1)");
    expect((await a.inject({ url: "/assets/a-1.css" })).headers["content-type"]).toMatch(/^text\/css/);
    expect((await a.inject({ url: "/assets/missing.js" })).statusCode).toBe(404);
    // Both normalised to /secret.js: no route, so the token is needed as for every unknown path (deny by default).
    expect((await a.inject({ url: "/assets/../secret.js" })).statusCode).toBe(401);
    expect((await a.inject({ url: "/assets/%2e%2e/secret.js" })).statusCode).toBe(401);
    expect(
      (await a.inject({ url: "/assets/%2e%2e/secret.js", headers: { authorization: "Bearer tok" } }))
        .statusCode,
    ).toBe(404);
    expect((await a.inject({ url: "/api/runs" })).statusCode).toBe(401);
    await a.close();
  });

  it("without a build, / is a placeholder page pointing at the API and at npm run build", async () => {
    const a = app(join(makeTempDir(), "none"));
    const page = await a.inject({ url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain("not built yet");
    expect(page.body).toContain("npm run build");
    expect(page.body).toContain('href="/api/openapi.json"');
    expect((await a.inject({ url: "/assets/x.js" })).statusCode).toBe(404);
    await a.close();
  });
});
