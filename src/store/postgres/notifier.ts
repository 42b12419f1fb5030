// One LISTEN connection per store, owned here. NOTIFY is only a nudge: waiters also wake on their own timeout,
// so a lost connection costs latency, never correctness. Reconnects with capped backoff.
import { createHash } from "node:crypto";
import pg from "pg";
import type { NudgeFilter, NudgeKind } from "../run-port.js";

/**
 * The payload of one NOTIFY: one `kind:run_id` line per nudge of the transaction. PostgreSQL caps payloads at
 * 8000 bytes; a list that does not fit is sent as `*`, which wakes every waiter (as does any payload this
 * version cannot read), so nothing is ever missed, only woken needlessly.
 */
const PAYLOAD_MAX_BYTES = 7900;
const EVERYONE = "*";
const KIND_CODES: Record<NudgeKind, string> = { work: "w", revoke: "x", run: "r" };
const KIND_OF_CODE = new Map<string, NudgeKind>(
  Object.entries(KIND_CODES).map(([kind, code]) => [code, kind as NudgeKind]),
);

export function nudgeEntry(kind: NudgeKind, runId: string): string {
  return `${KIND_CODES[kind]}:${runId}`;
}

export function nudgePayload(entries: Iterable<string>): string {
  const payload = [...entries].join("\n");
  return Buffer.byteLength(payload) <= PAYLOAD_MAX_BYTES ? payload : EVERYONE;
}

interface Nudge {
  kind: NudgeKind;
  runId: string;
}

/** The nudges of a payload; null means "everyone" (`*`, or a payload this version cannot read). */
export function parseNudges(payload: string | undefined): Nudge[] | null {
  if (payload === undefined || payload === EVERYONE) return null;
  const nudges: Nudge[] = [];
  for (const line of payload.split("\n")) {
    const kind = KIND_OF_CODE.get(line.slice(0, 1));
    if (kind === undefined || line[1] !== ":") return null;
    nudges.push({ kind, runId: line.slice(2) });
  }
  return nudges;
}

function wakes(filter: NudgeFilter | undefined, nudges: readonly Nudge[] | null): boolean {
  if (nudges === null || filter === undefined) return true;
  return nudges.some(
    (n) =>
      (filter.runId === undefined || n.runId === filter.runId) &&
      (filter.kinds === undefined || filter.kinds.includes(n.kind)),
  );
}

/** PostgreSQL's identifier limit (NAMEDATALEN − 1): a longer channel makes pg_notify fail. */
const CHANNEL_MAX_BYTES = 63;

/**
 * The NOTIFY channel of a schema: one per schema, so stores in different schemas of one database do not wake
 * each other. `wattswarm_<schema>` while it fits in 63 bytes; a longer one keeps a readable prefix and ends in
 * a hash of the whole name. Both LISTEN and pg_notify use this one name.
 */
export function notifyChannel(schema = "public"): string {
  const plain = `wattswarm_${schema}`;
  if (Buffer.byteLength(plain) <= CHANNEL_MAX_BYTES) return plain;
  const hash = createHash("sha256").update(schema).digest("hex").slice(0, 16);
  // 10 + 36 + 1 + 16 = 63 bytes; the prefix keeps only ASCII identifier characters (one byte each).
  return `wattswarm_${schema.replace(/[^A-Za-z0-9_]/g, "").slice(0, 36)}_${hash}`;
}

export class PgNotifier {
  private client: pg.Client | null = null;
  private connecting: Promise<void> | null = null;
  private waiters = new Map<() => void, NudgeFilter | undefined>();
  private retryAt = 0;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly clientConfig: pg.ClientConfig,
    readonly channel: string,
  ) {}

  /**
   * Resolves on the next NOTIFY on the channel that `filter` accepts (any without one), after `timeoutMs`, or
   * when `signal` aborts.
   */
  wait(timeoutMs: number, signal?: AbortSignal, filter?: NudgeFilter): Promise<void> {
    this.ensureListening();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      if (signal?.aborted) return resolve();
      this.waiters.set(done, filter);
      timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private wakeAll(): void {
    for (const w of [...this.waiters.keys()]) w();
  }

  private wake(payload: string | undefined): void {
    const nudges = parseNudges(payload);
    for (const [w, filter] of [...this.waiters]) if (wakes(filter, nudges)) w();
  }

  private ensureListening(): void {
    if (this.closed || this.client || this.connecting || Date.now() < this.retryAt) return;
    this.connecting = this.connect().finally(() => {
      this.connecting = null;
    });
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.clientConfig);
    client.on("error", () => this.drop(client));
    client.on("end", () => this.drop(client));
    client.on("notification", (msg) => {
      if (msg.channel === this.channel) this.wake(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
      if (this.closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.client = client;
      this.failures = 0;
      // Anything may have happened while we were not listening: wake everyone to re-read.
      this.wakeAll();
    } catch {
      this.failures += 1;
      this.retryAt = Date.now() + Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7));
      await client.end().catch(() => undefined);
    }
  }

  private drop(client: pg.Client): void {
    if (this.client === client) this.client = null;
    this.failures += 1;
    this.retryAt = Date.now() + Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wakeAll();
    await this.connecting;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }
}
