// End to end: `wattswarm serve --port 0` (the BUILT CLI) next to a `run worker`, driven over HTTP only.
import { expect, it } from "vitest";
import {
  type BackgroundCli,
  describeStores,
  expectExit,
  expectOneLineError,
  seedSpec,
  spawnCli,
  startWorker,
  until,
  ws,
} from "../e2e/helpers.js";

async function listeningUrl(serve: BackgroundCli): Promise<string> {
  const line = await until(
    () => /listening on (http:\/\/\S+)/.exec(serve.stderr())?.[1],
    15_000,
    "serve to listen",
  );
  return line;
}

describeStores("wattswarm serve (e2e)", (suite) => {
  it("a run submitted over HTTP is FINALIZED by a worker; the token guards /api; SIGTERM stops serve", async () => {
    const store = suite.fresh();
    const serve = spawnCli(store, ["serve", "--port", "0"], { WATTSWARM_API_TOKEN: "tok" });
    const url = await listeningUrl(serve);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const auth = { authorization: "Bearer tok", "content-type": "application/json" };
    expect((await fetch(`${url}/api/runs`)).status).toBe(401);
    expect((await fetch(`${url}/api/health`)).status).toBe(200);

    const submit = await fetch(`${url}/api/runs`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ spec: seedSpec("http-1", "sim"), kickoff: true }),
    });
    expect(submit.status).toBe(201);
    const worker = startWorker(store);
    const view = await until(
      async () => {
        const res = await fetch(`${url}/api/runs/http-1`, { headers: auth });
        const body = (await res.json()) as { status: string };
        return body.status === "FINALIZED" ? body : null;
      },
      20_000,
      "the run to finalize",
    );
    expect(view).toMatchObject({ run_id: "http-1", status: "FINALIZED", counts: { succeeded: 3 } });
    const result = await (await fetch(`${url}/api/runs/http-1/result`, { headers: auth })).json();
    expect(result).toMatchObject({ status: "FINALIZED" });
    expect(typeof (result as { final_decision: unknown }).final_decision).toBe("string");
    const stream = await (await fetch(`${url}/api/runs/http-1/stream`, { headers: auth })).text();
    expect(stream).toContain('"event_type":"RUN_FINALIZED"');
    expect(stream).toContain("event: end");

    worker.child.kill("SIGTERM");
    serve.child.kill("SIGTERM");
    expect((await serve.exited).code).toBe(0);
    expect(serve.stderr()).toContain("serve: stopped");
    await worker.exited;
  });

  it("refuses a non-loopback --host without a token (exit 2); --generate-token makes and prints one", async () => {
    const store = suite.fresh();
    const refused = await ws(store, ["serve", "--host", "0.0.0.0", "--port", "0"], {
      env: { WATTSWARM_API_TOKEN: "" },
    });
    expectExit(refused, 2);
    expectOneLineError(refused, /without a token.*--insecure-no-token/);

    const serve = spawnCli(store, ["serve", "--host", "0.0.0.0", "--port", "0", "--generate-token"], {
      WATTSWARM_API_TOKEN: "",
    });
    const port = new URL(await listeningUrl(serve)).port;
    const token = await until(
      () => /generated token: (\S+)/.exec(serve.stderr())?.[1],
      15_000,
      "the generated token",
    );
    expect(token.length).toBeGreaterThanOrEqual(32);
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/api/runs`)).status).toBe(401);
    expect((await fetch(`${url}/api/runs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
    serve.child.kill("SIGTERM");
    expect((await serve.exited).code).toBe(0);
  });
});
