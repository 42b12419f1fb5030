// `wattswarm serve [--port 7788] [--host 127.0.0.1] [--token T]` (SPEC §7, §10): the HTTP API over the
// selected store, until SIGINT/SIGTERM (graceful: open event streams end, requests in flight finish).
// docs/operations.md ("Security model") explains each safety option.
import { randomBytes } from "node:crypto";
import type { Command } from "commander";
import { WattswarmError } from "../../errors.js";
import { DEFAULT_METRICS_LAG_MS } from "../../server/metrics.js";
import { isLoopbackHost } from "../../util/http-guard.js";
import { currentStoreConfig } from "../context.js";
import { intOption } from "../options.js";

interface ServeOptions {
  port: number;
  host: string;
  token?: string;
  generateToken?: boolean;
  insecureNoToken?: boolean;
  allowedHost: string[];
  allowCommandExecutors?: boolean;
  allowCommand: string[];
  secretEnv: string[];
  metricsLagMs: number;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Names from a comma-separated env var (WATTSWARM_SECRET_ENV, WATTSWARM_ALLOWED_HOSTS). */
function envList(name: string): string[] {
  return (process.env[name] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/** The token serve requires: given, generated, or none (refused off loopback unless the operator insists). */
function resolveToken(o: ServeOptions): { token: string; generated: boolean } {
  const given = o.token ?? process.env.WATTSWARM_API_TOKEN ?? "";
  if (given !== "") return { token: given, generated: false };
  if (o.generateToken) return { token: randomBytes(24).toString("base64url"), generated: true };
  if (!isLoopbackHost(o.host) && !o.insecureNoToken) {
    throw new WattswarmError(
      "USAGE",
      `serve --host ${o.host} would let anyone who reaches the port use the API without a token; ` +
        "set WATTSWARM_API_TOKEN (or --token, or --generate-token), or pass --insecure-no-token",
    );
  }
  return { token: "", generated: false };
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("serve the HTTP API (and the console's page) over the selected store until SIGINT")
    .option("--port <port>", "port to listen on (0 = any free port)", intOption(0, 65_535), 7788)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option(
      "--token <token>",
      "require Authorization: Bearer <token> (default: $WATTSWARM_API_TOKEN, the better way: argv shows in ps)",
    )
    .option("--generate-token", "without a token, generate one and print it on stderr")
    .option("--insecure-no-token", "allow a non-loopback --host without a token")
    .option(
      "--allowed-host <name>",
      "a Host name to accept besides loopback ones (repeatable; default $WATTSWARM_ALLOWED_HOSTS)",
      collect,
      [],
    )
    .option(
      "--allow-command-executors",
      "accept `command` executors through the API (shell access on workers)",
    )
    .option(
      "--allow-command <program>",
      "accept `command` executors running this program only (repeatable)",
      collect,
      [],
    )
    .option(
      "--secret-env <NAME>",
      "an env var name executors registered through the API may read, besides WATTSWARM_SECRET_* (repeatable; default $WATTSWARM_SECRET_ENV)",
      collect,
      [],
    )
    .option(
      "--metrics-lag-ms <ms>",
      "/metrics counts an attempt whose closing transaction commits within this long of its start (re-read window)",
      intOption(0, 86_400_000),
      DEFAULT_METRICS_LAG_MS,
    )
    .action(async (o: ServeOptions) => {
      const { token, generated } = resolveToken(o);
      const [{ buildApp }, { openStore }, { describeStoreConfig }] = await Promise.all([
        import("../../server/app.js"),
        import("../../store/open.js"),
        import("../../store/config.js"),
      ]);
      const config = currentStoreConfig();
      process.stderr.write(`store: ${describeStoreConfig(config)}\n`);
      const store = await openStore(config);
      const allowedHosts = o.allowedHost.length > 0 ? o.allowedHost : envList("WATTSWARM_ALLOWED_HOSTS");
      const secretEnv = o.secretEnv.length > 0 ? o.secretEnv : envList("WATTSWARM_SECRET_ENV");
      const allowCommandExecutors =
        o.allowCommandExecutors === true ? true : o.allowCommand.length > 0 ? o.allowCommand : false;
      try {
        await store.migrate();
        const app = buildApp(store, {
          token,
          bindHost: o.host,
          allowedHosts,
          allowCommandExecutors,
          secretEnv,
          metrics: { lagMs: o.metricsLagMs },
        });
        let url: string;
        try {
          url = await app.listen({ port: o.port, host: o.host });
        } catch (err) {
          throw new WattswarmError(
            "INTERNAL",
            `cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`,
          );
        }
        const auth = token === "" ? "no token" : "bearer token required";
        process.stderr.write(`serve: listening on ${url} (${auth})\n`);
        if (generated) process.stderr.write(`serve: generated token: ${token}\n`);
        await new Promise<void>((done) => {
          const stop = (signal: string): void => {
            process.off("SIGINT", stop);
            process.off("SIGTERM", stop);
            process.stderr.write(`serve: ${signal}, closing\n`);
            app.close().then(done, done);
          };
          process.on("SIGINT", stop);
          process.on("SIGTERM", stop);
        });
        process.stderr.write("serve: stopped\n");
      } finally {
        await store.close().catch(() => undefined);
      }
    });
}
