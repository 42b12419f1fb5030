// A local OpenAI-compatible server for tests: POST /v1/chat/completions answers from a script of replies (the
// last one repeats), GET /v1/models answers a model list. Built on the recording test runtime, so tests see
// exactly what the executor sent (headers, messages, response_format).
import { type RecordedRequest, type Reply, startTestRuntime, type TestRuntime } from "./http-runtime.js";

export interface FakeOpenAI {
  /** The base URL to register: `<server>/v1`. */
  baseUrl: string;
  server: TestRuntime;
  /** The chat requests received, in order. */
  calls(): RecordedRequest[];
  close(): Promise<void>;
}

export const USAGE = { prompt_tokens: 42, completion_tokens: 7, total_tokens: 49 };

/** A 200 chat completion whose message content is `content` (an object is sent as its JSON text). */
export function completion(content: unknown, usage: unknown = USAGE): Reply {
  const text = typeof content === "string" ? content : JSON.stringify(content);
  return {
    body: {
      id: "chatcmpl-test",
      object: "chat.completion",
      model: "fake-model-001",
      choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
      usage,
    },
  };
}

export type ChatScript = (Reply | ((body: unknown, req: RecordedRequest) => Reply))[];

export async function startFakeOpenAI(script: ChatScript): Promise<FakeOpenAI> {
  let next = 0;
  const server = await startTestRuntime({
    routes: {
      "/v1/chat/completions": (body, req) => {
        const step = script[Math.min(next++, script.length - 1)];
        if (!step) return { status: 500, body: { error: "empty script" } };
        return typeof step === "function" ? step(body, req) : step;
      },
      "/v1/models": { body: { object: "list", data: [{ id: "fake-model-001" }] } },
    },
  });
  return {
    baseUrl: `${server.url}/v1`,
    server,
    calls: () => server.requestsTo("/v1/chat/completions"),
    close: () => server.close(),
  };
}
