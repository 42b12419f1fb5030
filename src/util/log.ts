// Logs go to stderr (stdout carries command output only). JSON lines for machines; a short human line
// format when stderr is a terminal.
import { type Logger, pino } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  level?: string;
  /** Force JSON lines even on a TTY. */
  json?: boolean;
}

function humanLine(obj: Record<string, unknown>): string {
  const { level, time, msg, pid: _pid, hostname: _host, ...rest } = obj;
  const names: Record<number, string> = {
    10: "trace",
    20: "debug",
    30: "info",
    40: "warn",
    50: "error",
    60: "fatal",
  };
  const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : "";
  const stamp = typeof time === "number" ? new Date(time).toISOString().slice(11, 23) : "";
  return `${stamp} ${names[level as number] ?? level} ${String(msg ?? "")}${extra}\n`;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.WATTSWARM_LOG_LEVEL ?? "info";
  if (process.stderr.isTTY && !opts.json) {
    return pino(
      { level, base: null },
      {
        write(line: string) {
          try {
            process.stderr.write(humanLine(JSON.parse(line) as Record<string, unknown>));
          } catch {
            process.stderr.write(line);
          }
        },
      },
    );
  }
  return pino({ level, base: null }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (library use and tests). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
