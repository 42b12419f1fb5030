// docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs where this project is built
// and tested): the services SPEC §11 names, with the ports, credentials and wiring it gives, and every command a
// service runs is a real `wattswarm` command line (its --help exits 0).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cliIsBuilt, runCli } from "../support/cli.js";

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const root = new URL("../../", import.meta.url);
const compose = parse(readFileSync(new URL("docker-compose.yml", root), "utf8"), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const service = (name: string): Service => {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
};
const PG_URL = "postgres://postgres:postgres@postgres:5432/wattswarm";

describe("docker-compose.yml", () => {
  it("has PostgreSQL on host port 55432 with user/password postgres, database wattswarm and a health check", () => {
    const pg = service("postgres");
    expect(pg.ports).toContain("127.0.0.1:55432:5432");
    expect(pg.environment).toMatchObject({
      POSTGRES_USER: "postgres",
      POSTGRES_PASSWORD: "postgres",
      POSTGRES_DB: "wattswarm",
    });
    expect(pg.healthcheck?.test.join(" ")).toContain("pg_isready");
  });

  it("runs init once, then a worker, the API and the runtime, all against that database", () => {
    expect(service("init").command).toEqual(["run", "init"]);
    expect(service("init").depends_on?.postgres?.condition).toBe("service_healthy");
    expect(service("init").environment?.WATTSWARM_RUNTIME_URL).toBe("http://runtime:8787");
    expect(service("worker").command).toEqual(["run", "worker", "--concurrency", "16"]);
    expect(service("api").command).toEqual([
      "serve",
      "--host",
      "0.0.0.0",
      "--port",
      "7788",
      "--generate-token",
    ]);
    expect(service("api").ports).toContain("127.0.0.1:7788:7788");
    expect(service("runtime").command).toEqual(["runtime", "--host", "0.0.0.0", "--port", "8787"]);
    for (const name of ["init", "worker", "api"]) {
      expect(service(name).environment?.WATTSWARM_PG_URL).toBe(PG_URL);
      expect(service(name).depends_on).toBeDefined();
    }
  });

  it("is safe by default: ports on loopback only, the API behind a token (given or generated)", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const port of s.ports ?? [])
        expect({ name, port }).toEqual({ name, port: expect.stringMatching(/^127\.0\.0\.1:/) });
    }
    expect(service("api").environment?.WATTSWARM_API_TOKEN).toBe(["$", "{WATTSWARM_API_TOKEN:-}"].join(""));
    expect(service("api").command).toContain("--generate-token");
    expect(service("api").command).not.toContain("--insecure-no-token");
  });

  it.skipIf(!cliIsBuilt())("every service command is a valid wattswarm command line", async () => {
    const commands = Object.values(services)
      .map((s) => s.command)
      .filter((c): c is string[] => c !== undefined);
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const command of commands) {
      const { code, stderr } = await runCli([...command, "--help"]);
      expect({ command, code, stderr }).toEqual({ command, code: 0, stderr: "" });
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = readFileSync(new URL("Dockerfile", root), "utf8");

  it("builds in one stage and runs as a non-root user from Node 20 in another", () => {
    const stages = dockerfile.match(/^FROM .*/gm) ?? [];
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const from of stages) expect(from).toMatch(/node:20/);
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    expect(runtimeStage).toMatch(/^USER node$/m);
    expect(runtimeStage).toMatch(/ENTRYPOINT \["wattswarm"\]/);
  });

  it("installs from the lock file and downloads no prebuilt binaries", () => {
    expect(dockerfile).toMatch(/npm ci/);
    expect(dockerfile).toMatch(/npm_config_build_from_source=true/);
  });
});
