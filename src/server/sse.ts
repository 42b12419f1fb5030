// GET /api/runs/:id/stream: the run's events as Server-Sent Events (SPEC §10). Each event's `id:` is its seq,
// so a client that reconnects with `Last-Event-ID` resumes after the last event it got, with nothing lost or
// repeated. Fed by the same follower as `run events --follow` (NOTIFY nudges on PostgreSQL, a 250 ms poll
// always). Run events use the default `message` type (their data carries event_type). Once the run is
// terminal and every event is sent, an `end` event carries the final RunView and the response ends; clients
// should close then (EventSource would otherwise reconnect). Streams are capped in number (503 over the cap)
// and in lifetime (an `event: reconnect`, then the response ends; EventSource reconnects by itself).
import type { FastifyReply, FastifyRequest } from "fastify";
import { followEvents } from "../kernel/follow.js";
import { getRunView } from "../kernel/queries.js";
import type { Store } from "../store/port.js";
import { ApiError } from "./errors.js";

const KEEPALIVE_MS = 15_000;
const RETRY_MS = 1_000;

/** The seq to resume after: `Last-Event-ID` when present, else `?after=`, else 0. */
export function resumeSeq(req: FastifyRequest, after: number | undefined): number {
  const header = req.headers["last-event-id"];
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw !== undefined && raw.trim() !== "") {
    const n = Number(raw.trim());
    if (!Number.isSafeInteger(n) || n < 0)
      throw new ApiError(400, "BAD_REQUEST", `Last-Event-ID: "${raw}" is not an event seq`);
    return n;
  }
  return after ?? 0;
}

export interface StreamLimits {
  /** Open streams in all (default 64): each one polls the store every 250 ms. */
  maxStreams?: number;
  /** Open streams per client address (default 8). */
  maxStreamsPerClient?: number;
  /** A stream ends after this long with an `event: reconnect` (default 30 min); clients resume by id. */
  maxStreamMs?: number;
}

const DEFAULT_LIMITS: Required<StreamLimits> = {
  maxStreams: 64,
  maxStreamsPerClient: 8,
  maxStreamMs: 30 * 60_000,
};

/** Counts open streams; `acquire` throws 503 TOO_MANY_STREAMS over a cap and returns the release function. */
export class StreamLimiter {
  readonly limits: Required<StreamLimits>;
  private open = 0;
  private readonly perClient = new Map<string, number>();

  constructor(limits: StreamLimits = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  acquire(client: string): () => void {
    const mine = this.perClient.get(client) ?? 0;
    if (this.open >= this.limits.maxStreams || mine >= this.limits.maxStreamsPerClient) {
      const which =
        this.open >= this.limits.maxStreams
          ? `${this.limits.maxStreams} event streams are open (the server's limit)`
          : `this client has ${mine} event streams open (limit ${this.limits.maxStreamsPerClient})`;
      throw new ApiError(503, "TOO_MANY_STREAMS", `${which}; close one or retry later`, undefined, {
        "retry-after": "5",
      });
    }
    this.open += 1;
    this.perClient.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open -= 1;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left <= 0) this.perClient.delete(client);
      else this.perClient.set(client, left);
    };
  }
}

export interface StreamContext {
  req: FastifyRequest;
  reply: FastifyReply;
  /** Aborted when the server closes. */
  closing: AbortSignal;
  streams: StreamLimiter;
}

export async function streamRunEvents(
  store: Store,
  runId: string,
  after: number,
  { req, reply, closing, streams }: StreamContext,
): Promise<void> {
  await getRunView(store, runId); // 404 as JSON before the stream starts
  const release = streams.acquire(req.socket.remoteAddress ?? "unknown");
  try {
    await pump(store, runId, after, reply, closing, streams.limits.maxStreamMs);
  } finally {
    release();
  }
}

async function pump(
  store: Store,
  runId: string,
  after: number,
  reply: FastifyReply,
  closing: AbortSignal,
  maxStreamMs: number,
): Promise<void> {
  const res = reply.raw;
  const stop = new AbortController();
  const abort = () => stop.abort();
  closing.addEventListener("abort", abort, { once: true });
  // The response's close (not the request's, which fires once its body is read) means the client left.
  res.on("close", abort);
  reply.hijack();
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  const write = async (chunk: string): Promise<void> => {
    if (stop.signal.aborted || res.writableEnded) return;
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off("drain", done);
          stop.signal.removeEventListener("abort", done);
          resolve();
        };
        res.once("drain", done);
        stop.signal.addEventListener("abort", done, { once: true });
      });
    }
  };
  const keepalive = setInterval(() => void write(": keepalive\n\n"), KEEPALIVE_MS);
  // A stream does not live forever: at its end the client reconnects with Last-Event-ID and loses nothing.
  let expired = false;
  const lifetime = setTimeout(() => {
    expired = true;
    stop.abort();
  }, maxStreamMs);
  try {
    await write(`retry: ${RETRY_MS}\n\n`);
    for await (const event of followEvents(store, runId, { after, signal: stop.signal })) {
      await write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
    }
    if (!stop.signal.aborted) {
      const view = await getRunView(store, runId);
      await write(`event: end\ndata: ${JSON.stringify(view)}\n\n`);
    }
    if (expired && !res.writableEnded && !res.destroyed) {
      res.write(`event: reconnect\ndata: ${JSON.stringify({ after_ms: RETRY_MS })}\n\n`);
    }
  } catch (err) {
    const message = err instanceof Error && "code" in err ? err.message : "internal error";
    await write(`event: error\ndata: ${JSON.stringify({ message })}\n\n`);
  } finally {
    clearInterval(keepalive);
    clearTimeout(lifetime);
    closing.removeEventListener("abort", abort);
    res.off("close", abort);
    if (!res.writableEnded) res.end();
  }
}
