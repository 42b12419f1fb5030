// `executors add` for the command and openai kinds through the built CLI: argv after --command is the
// program's, whatever it looks like; flags of another kind are refused.
import { describe, expect, it } from "vitest";
import { json, ws } from "../runtime/helpers.js";
import { useTempSqlite } from "../support/sqlite.js";

const tempDb = useTempSqlite();

describe("executors add --command / --openai", () => {
  it("keeps every word after --command as argv, including our own flag names", async () => {
    const db = tempDb();
    const res = await ws(db, [
      "executors",
      "add",
      "judge",
      "--env",
      "TOKEN",
      "--env",
      "MODE=strict",
      "--timeout-ms",
      "5000",
      "--command",
      "python3",
      "judge.py",
      "--json",
      "--db",
      "other.db",
      "--help",
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(json(res)).toMatchObject({
      name: "judge",
      kind: "command",
      config: {
        argv: ["python3", "judge.py", "--json", "--db", "other.db", "--help"],
        env: ["TOKEN", "MODE=strict"],
        timeout_ms: 5000,
      },
    });
  });

  it("stores the openai config with env-var names only", async () => {
    const res = await ws(tempDb(), [
      "executors",
      "add",
      "gpt",
      "--openai",
      "--model",
      "gpt-4o-mini",
      "--api-key-env",
      "TEAM_KEY",
    ]);
    expect(res.code, res.stderr).toBe(0);
    expect(json(res)).toMatchObject({
      kind: "openai",
      config: { model: "gpt-4o-mini", api_key_env: "TEAM_KEY" },
    });
  });

  it.each([
    [["x", "--command"], /--command needs the program to run/],
    [["x", "--openai"], /--openai needs --model/],
    [["x", "--sim", "--command", "node"], /use one of --sim or --command, not both/],
    [["x", "--env", "A", "--url", "http://h"], /--env applies only to command executors, not http/],
    [["x", "--model", "m", "--command", "node"], /--model applies only to openai executors, not command/],
    [["x", "--env", "1BAD", "--command", "node"], /env: "1BAD" must be NAME or NAME=value/],
    [
      ["x", "--url", "http://h", "--bearer-env", "WATTSWARM_API_TOKEN"],
      /bearer_env: WATTSWARM_API_TOKEN is WattSwarm's own secret and cannot be sent to an executor/,
    ],
    [["x", "--url", "http://h", "--header", "X-Api-Key=k"], /headers\.X-Api-Key: reserved .*use bearer_env/],
  ])("usage error for %j", async (args, message) => {
    const res = await ws(tempDb(), ["executors", "add", ...args]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(message);
  });
});
