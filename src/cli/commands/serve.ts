// `wattswarm serve [--port 7788] [--host 127.0.0.1] [--token T]` (SPEC §7, §10): the HTTP API over the
// selected store, until SIGINT/SIGTERM (graceful: open event streams end, requests in flight finish).
import type { Command } from "commander";
import { WattswarmError } from "../../errors.js";
import { currentStoreConfig } from "../context.js";
import { intOption } from "../options.js";

interface ServeOptions {
  port: number;
  host: string;
  token?: string;
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("serve the HTTP API (and the console's page) over the selected store until SIGINT")
    .option("--port <port>", "port to listen on (0 = any free port)", intOption(0, 65_535), 7788)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--token <token>", "require Authorization: Bearer <token> (default: $WATTSWARM_API_TOKEN)")
    .action(async (o: ServeOptions) => {
      const [{ buildApp }, { loadStore }, { describeStoreConfig }] = await Promise.all([
        import("../../server/app.js"),
        import("../../store/open.js"),
        import("../../store/config.js"),
      ]);
      const config = currentStoreConfig();
      process.stderr.write(`store: ${describeStoreConfig(config)}\n`);
      const store = await loadStore(config);
      const token = o.token ?? process.env.WATTSWARM_API_TOKEN ?? "";
      try {
        await store.migrate();
        const app = buildApp(store, { token });
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
