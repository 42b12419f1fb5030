// GET /api/runs/:id/stream: live events over SSE, a disconnect mid-run and a resume with Last-Event-ID
// without losing or repeating an event, and the end of the stream once the run is terminal.
import { expect, it } from "vitest";
import { startWorker } from "../../src/index.js";
import { describeServer, simSpec, type TestServer } from "./helpers.js";

interface Frame {
  id?: string;
  event: string;
  data: string;
}

/** Reads SSE frames until `stopAfter` returns true (then aborts) or the server ends the stream. */
async function readStream(
  s: TestServer,
  runId: string,
  opts: { lastEventId?: string; stopAfter?: (frames: Frame[]) => boolean } = {},
): Promise<{ frames: Frame[]; ended: boolean; status: number; contentType: string | null }> {
  const controller = new AbortController();
  const headers: Record<string, string> = {};
  if (opts.lastEventId !== undefined) headers["last-event-id"] = opts.lastEventId;
  const res = await fetch(`${s.url}/api/runs/${runId}/stream`, { headers, signal: controller.signal });
  const frames: Frame[] = [];
  if (!res.body) throw new Error("no body");
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done)
      return { frames, ended: true, status: res.status, contentType: res.headers.get("content-type") };
    buffer += decoder.decode(value, { stream: true });
    let cut = buffer.indexOf("\n\n");
    while (cut >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      cut = buffer.indexOf("\n\n");
      const frame: Frame = { event: "message", data: "" };
      let any = false;
      for (const line of block.split("\n")) {
        const [field, ...rest] = line.split(":");
        const value = rest.join(":").replace(/^ /, "");
        if (field === "id") frame.id = value;
        else if (field === "event") frame.event = value;
        else if (field === "data") {
          frame.data += value;
          any = true;
        }
      }
      if (any) frames.push(frame);
    }
    if (opts.stopAfter?.(frames)) {
      controller.abort();
      await reader.cancel().catch(() => undefined);
      return { frames, ended: false, status: res.status, contentType: res.headers.get("content-type") };
    }
  }
}

const seqs = (frames: Frame[]) => frames.filter((f) => f.event === "message").map((f) => Number(f.id));

async function slowRun(s: TestServer, runId: string): Promise<void> {
  await s.store.upsertExecutor({ name: "slow", kind: "sim", config: { latency_ms: 150, accuracy: 1 } });
  const res = await s.call("/api/runs", {
    method: "POST",
    json: { spec: simSpec(runId, 5, "slow"), kickoff: true },
  });
  expect(res.status).toBe(201);
}

describeServer("SSE stream", (suite) => {
  it("resumes after a disconnect with Last-Event-ID: no event lost or repeated, and ends after the run is terminal", async () => {
    const s = await suite.start();
    await slowRun(s, "sse-1");
    const worker = startWorker(s.store, { runId: "sse-1", concurrency: 1, pollMs: 20, exitWhenIdle: true });
    const first = await readStream(s, "sse-1", { stopAfter: (f) => seqs(f).length >= 4 });
    expect(first.status).toBe(200);
    expect(first.contentType).toMatch(/^text\/event-stream/);
    expect(first.ended).toBe(false);
    const before = seqs(first.frames);
    const last = String(before.at(-1));
    // The run is still going when we come back.
    expect((await s.call("/api/runs/sse-1")).body.status).not.toBe("FINALIZED");
    const second = await readStream(s, "sse-1", { lastEventId: last });
    expect(second.ended).toBe(true);
    await worker.done;
    const after = seqs(second.frames);
    const all = [...before, ...after];
    const run = await s.store.getRun("sse-1");
    expect(run?.status).toBe("FINALIZED");
    expect(all).toEqual(Array.from({ length: run?.event_seq ?? 0 }, (_, i) => i + 1));
    const payloads = [...first.frames, ...second.frames]
      .filter((f) => f.event === "message")
      .map((f) => JSON.parse(f.data));
    const listed = (await s.call("/api/runs/sse-1/events?limit=1000")).body;
    expect(payloads).toEqual(listed);
    const end = second.frames.at(-1);
    expect(end?.event).toBe("end");
    expect(JSON.parse(end?.data ?? "{}")).toMatchObject({ run_id: "sse-1", status: "FINALIZED" });
    expect(payloads.at(-1).event_type).toBe("RUN_FINALIZED");
  });

  it("a terminal run's stream sends the rest at once and ends; ?after= and bad Last-Event-ID", async () => {
    const s = await suite.start();
    await s.call("/api/runs", { method: "POST", json: simSpec("sse-2", 2) });
    await s.call("/api/runs/sse-2/cancel", { method: "POST" });
    const all = await readStream(s, "sse-2");
    expect(all.ended).toBe(true);
    const total = (await s.store.getRun("sse-2"))?.event_seq ?? 0;
    expect(seqs(all.frames)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(all.frames.at(-1)?.event).toBe("end");
    const tail = await readStream(s, "sse-2", { lastEventId: String(total - 1) });
    expect(seqs(tail.frames)).toEqual([total]);
    const nothing = await readStream(s, "sse-2", { lastEventId: String(total) });
    expect(seqs(nothing.frames)).toEqual([]);
    expect(nothing.frames.map((f) => f.event)).toEqual(["end"]);
    const res = await fetch(`${s.url}/api/runs/sse-2/stream?after=2`);
    expect((await res.text()).includes("id: 2\n")).toBe(false);
    const bad = await s.call("/api/runs/sse-2/stream", { headers: { "last-event-id": "abc" } });
    expect(bad.status).toBe(400);
  });

  it("closing the server ends open streams (graceful shutdown does not hang)", async () => {
    const s = await suite.start();
    await s.call("/api/runs", { method: "POST", json: simSpec("sse-3", 1) });
    const reading = readStream(s, "sse-3");
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    await s.close();
    const out = await reading;
    expect(out.ended).toBe(true);
    expect(seqs(out.frames)).toEqual([1]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
