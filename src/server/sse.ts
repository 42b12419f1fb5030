// GET /api/runs/:id/stream: the run's events as Server-Sent Events (SPEC §10). Each event's `id:` is its seq,
// so a client that reconnects with `Last-Event-ID` resumes after the last event it got, with nothing lost or
// repeated. Fed by the same follower as `run events --follow` (NOTIFY nudges on PostgreSQL, a 250 ms poll
// always). Run events use the default `message` type (their data carries event_type). Once the run is
// terminal and every event is sent, an `end` event carries the final RunView and the response ends; clients
// should close then (EventSource would otherwise reconnect).
import type { FastifyReply, FastifyRequest } from "fastify";
import { followEvents } from "../kernel/follow.js";
import { getRunView } from "../kernel/queries.js";
import { ApiError } from "./errors.js";
import type { ApiStore } from "./store.js";

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

export async function streamRunEvents(
  store: ApiStore,
  runId: string,
  after: number,
  reply: FastifyReply,
  closing: AbortSignal,
): Promise<void> {
  await getRunView(store, runId); // 404 as JSON before the stream starts
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
  try {
    await write(`retry: ${RETRY_MS}\n\n`);
    for await (const event of followEvents(store, runId, { after, signal: stop.signal })) {
      await write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
    }
    if (!stop.signal.aborted) {
      const view = await getRunView(store, runId);
      await write(`event: end\ndata: ${JSON.stringify(view)}\n\n`);
    }
  } catch (err) {
    const message = err instanceof Error && "code" in err ? err.message : "internal error";
    await write(`event: error\ndata: ${JSON.stringify({ message })}\n\n`);
  } finally {
    clearInterval(keepalive);
    closing.removeEventListener("abort", abort);
    res.off("close", abort);
    if (!res.writableEnded) res.end();
  }
}
