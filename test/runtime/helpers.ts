// Helpers for end-to-end runtime tests: the built CLI on a temp SQLite file, `wattswarm runtime` as a real
// child process on a free port, a raw dump of every stored row, and one HTTP request with any headers.
import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import Database from "better-sqlite3";
import { CLI_PATH, type CliOptions, type CliResult, REPO_ROOT, runCli } from "../support/cli.js";

export function ws(db: string, args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return runCli(["--db", db, ...args], opts);
}

export function json<T = Record<string, unknown>>(res: CliResult): T {
  if (res.code !== 0 && res.code !== 5) throw new Error(`exit ${res.code}: ${res.stderr}`);
  return JSON.parse(res.stdout) as T;
}

export function writeFile(dir: string, name: string, content: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return file;
}

export interface CliRuntime {
  url: string;
  child: ChildProcess;
  stderr(): string;
  /** SIGTERM, then resolves to the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const started: CliRuntime[] = [];

/** `wattswarm runtime --port 0 …`; resolves once it prints the URL it listens on. */
export function startCliRuntime(
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<CliRuntime> {
  const child = spawn(process.execPath, [CLI_PATH, "runtime", "--port", "0", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  // "close", not "exit": stderr is read to its end before a test looks at it.
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`runtime did not start: ${stderr}`)), 10_000);
    child.on("exit", () => reject(new Error(`runtime exited early: ${stderr}`)));
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (!match?.[1]) return;
      clearTimeout(timer);
      const runtime: CliRuntime = {
        url: match[1],
        child,
        stderr: () => stderr,
        stop(signal = "SIGTERM") {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      };
      started.push(runtime);
      resolve(runtime);
    });
  });
}

/** Stops every runtime this file started (by its own pid). */
export async function stopAllRuntimes(): Promise<void> {
  await Promise.all(started.splice(0).map((rt) => rt.stop()));
}

/** Every row of every table, as one JSON text per row, to search stored data for what must not be there. */
export function allRows(db: string): string[] {
  const conn = new Database(db, { readonly: true });
  try {
    const tables = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    return tables.flatMap(({ name }) =>
      (conn.prepare(`SELECT * FROM "${name}"`).all() as unknown[]).map(
        (row) => `${name}: ${JSON.stringify(row)}`,
      ),
    );
  } finally {
    conn.close();
  }
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** One request with node:http, so that Host can be set freely; always connects to 127.0.0.1. */
export function send(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} }),
        );
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}
