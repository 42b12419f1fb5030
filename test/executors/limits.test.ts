import { describe, expect, it } from "vitest";
import {
  classifyFetchError,
  classifyHttpStatus,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  readBodyCapped,
} from "../../src/executors/http-response.js";
import { checkEvidenceLimits, outputTooLarge, parseJsonObject } from "../../src/executors/output.js";

describe("parseRetryAfter", () => {
  const now = Date.UTC(2025, 0, 1, 12, 0, 0);

  it("reads delta-seconds", () => {
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter(" 0 ", now)).toBe(0);
    expect(parseRetryAfter("1.5", now)).toBe(1500);
  });

  it("reads an HTTP-date relative to now", () => {
    expect(parseRetryAfter("Wed, 01 Jan 2025 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("Wed, 01 Jan 2025 11:00:00 GMT", now)).toBe(0);
  });

  it("caps at 10 minutes", () => {
    expect(parseRetryAfter("86400", now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter("Thu, 02 Jan 2025 12:00:00 GMT", now)).toBe(600_000);
  });

  it("ignores absent and malformed values", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter("", now)).toBeUndefined();
    expect(parseRetryAfter("-5", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});

describe("classifyHttpStatus", () => {
  it("retries 5xx and only 408, 425, 429 among 4xx", () => {
    expect(classifyHttpStatus(500)).toEqual({ code: "HTTP_5XX", retryable: true });
    expect(classifyHttpStatus(503)).toEqual({ code: "HTTP_5XX", retryable: true });
    for (const status of [408, 425, 429])
      expect(classifyHttpStatus(status)).toEqual({ code: "HTTP_4XX", retryable: true });
    for (const status of [400, 401, 403, 404, 422]) {
      expect(classifyHttpStatus(status)).toEqual({ code: "HTTP_4XX", retryable: false });
    }
  });
});

describe("classifyFetchError", () => {
  it("names the cause's code", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    const outcome = classifyFetchError(
      new TypeError("fetch failed", { cause }),
      "runtime /execute, http://x",
    );
    expect(outcome).toMatchObject({ ok: false, code: "TRANSPORT", retryable: true });
    expect(outcome.error).toBe("TRANSPORT: connect ECONNREFUSED 127.0.0.1:9 (runtime /execute, http://x)");
  });

  it("adds the code when the message lacks it", () => {
    const cause = Object.assign(new Error("self-signed certificate"), {
      code: "DEPTH_ZERO_SELF_SIGNED_CERT",
    });
    expect(classifyFetchError(new TypeError("fetch failed", { cause })).error).toBe(
      "TRANSPORT: DEPTH_ZERO_SELF_SIGNED_CERT self-signed certificate",
    );
  });
});

describe("body limits", () => {
  it("names the limit", () => {
    expect(outputTooLarge(Math.round(1.3 * 1024 * 1024)).error).toBe("OUTPUT_TOO_LARGE: 1.3 MiB > 1 MiB");
    expect(outputTooLarge(null).error).toBe("OUTPUT_TOO_LARGE: > 1 MiB");
    expect(outputTooLarge(1024 * 1024 + 1).error).toBe("OUTPUT_TOO_LARGE: 1048577 bytes > 1 MiB");
    expect(outputTooLarge(null)).toMatchObject({ code: "OUTPUT_TOO_LARGE", retryable: false });
  });

  it("refuses by Content-Length and by counting the stream", async () => {
    const big = new Response("x".repeat(20), { headers: { "content-length": "20" } });
    expect(await readBodyCapped(big, undefined, 10)).toMatchObject({
      ok: false,
      failure: { code: "OUTPUT_TOO_LARGE" },
    });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(4));
        controller.close();
      },
    });
    const counted = await readBodyCapped(new Response(stream), undefined, 10);
    expect(counted).toMatchObject({ ok: false, failure: { error: "OUTPUT_TOO_LARGE: > 10 bytes" } });
    expect(await readBodyCapped(new Response("0123456789"), undefined, 10)).toEqual({
      ok: true,
      text: "0123456789",
    });
  });

  it("parses JSON objects only", () => {
    expect(parseJsonObject('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    const notJson = parseJsonObject("<html>");
    expect(notJson).toMatchObject({ ok: false, failure: { code: "BAD_OUTPUT", retryable: true } });
    expect(!notJson.ok && notJson.failure.error).toMatch(/^not JSON: /);
    for (const text of ["[1]", "null", "3", '"s"']) {
      const parsed = parseJsonObject(text);
      expect(!parsed.ok && parsed.failure.error).toMatch(/^not an object/);
    }
  });
});

describe("checkEvidenceLimits", () => {
  const refs = (n: number, prefix = "d") =>
    Array.from({ length: n }, (_, i) => ({ digest: `${prefix}${i}` }));

  it("counts digests across every place aggregation reads them", () => {
    const response = {
      evidence_refs: refs(30, "r"),
      candidate_output: {
        evidence_digests: refs(20, "e").map((r) => r.digest),
        evidence_refs: refs(14, "o"),
      },
    };
    expect(checkEvidenceLimits(response)).toBeNull();
    response.candidate_output.evidence_refs = refs(15, "o");
    expect(checkEvidenceLimits(response)?.error).toBe("65 evidence digests > 64 per attempt limit");
  });

  it("reads a bare output object as its own candidate", () => {
    expect(
      checkEvidenceLimits({ decision: "A", evidence_digests: refs(65).map((r) => r.digest) }),
    ).toMatchObject({
      code: "BAD_OUTPUT",
      retryable: true,
    });
  });

  it("limits each digest to 512 chars", () => {
    expect(checkEvidenceLimits({ evidence_digests: ["x".repeat(512)] })).toBeNull();
    expect(checkEvidenceLimits({ evidence_digests: ["x".repeat(513)] })?.error).toBe(
      "evidence digest of 513 chars > 512 chars limit",
    );
  });
});
