// The client side of the HTTP runtime protocol (SPEC §8.2). One attempt = at most one /capabilities probe
// (cached), one POST /execute and, for executors registered with verify, one POST /verify. Never retries:
// every failure becomes an outcome and the kernel decides (SPEC §8.4).
import { errorMessage } from "../errors.js";
import type { JsonObject } from "../spec/types.js";
import { isPlainObject } from "../util/json.js";
import { combineSignals, raceAbort } from "../util/signals.js";
import type { ExecutionOutcome } from "../vocab.js";
import { type AttemptFailure, failure } from "./failures.js";
import { classifyFetchError, httpStatusFailure, readBodyCapped } from "./http-response.js";
import { checkOutputLimits, parseJsonObject } from "./output.js";
import { redactOutcome, redactSecret } from "./redact.js";
import type { AttemptContext, ExecuteRequest, Executor, ExecutorCheck } from "./types.js";

export interface HttpExecutorConfig {
  url: string;
  headers?: Record<string, string>;
  /** Name of the env var holding a bearer token, read at call time (the token is never stored). */
  bearer_env?: string;
  verify?: boolean;
  /** Optional cap on each HTTP request, on top of the attempt's own deadline. */
  timeout_ms?: number;
}

export interface HttpExecutorOptions {
  warn?: (message: string) => void;
  /** Clock for the capabilities cache (tests). */
  now?: () => number;
}

export const CAPABILITIES_TTL_MS = 60_000;
/** Timeout of probes that have no attempt deadline: `check()` and the shared /capabilities fetch. */
export const PROBE_TIMEOUT_MS = 10_000;

type Fetched<T> = { ok: true; value: T } | { ok: false; failure: AttemptFailure };

interface Auth {
  headers: Record<string, string>;
  /** The bearer token, kept to redact it from every error text an attempt or a check produces. */
  token?: string | undefined;
}

interface CapabilitiesEntry {
  fetchedAt: number;
  /** null: the runtime has no /capabilities (older runtimes), so nothing is checked. */
  caps: JsonObject | null;
  warned: Set<string>;
}

// Module-level so every executor (and every attempt) pointing at one runtime shares one probe per minute.
const capabilitiesCache = new Map<string, CapabilitiesEntry>();
const capabilitiesInflight = new Map<string, Promise<Fetched<CapabilitiesEntry>>>();

export function clearCapabilitiesCache(): void {
  capabilitiesCache.clear();
  capabilitiesInflight.clear();
}

/** Statuses meaning "this runtime does not implement /capabilities", which skips the check. */
const NO_CAPABILITIES = new Set([404, 405, 501]);
const ABORTED = Symbol("aborted");

function stringList(value: unknown): string[] | null {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : null;
}

function stderrWarn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

export class HttpExecutor implements Executor {
  readonly kind = "http" as const;
  private readonly baseUrl: string;
  private readonly warn: (message: string) => void;
  private readonly now: () => number;

  constructor(
    readonly name: string,
    private readonly config: HttpExecutorConfig,
    options: HttpExecutorOptions = {},
  ) {
    this.baseUrl = config.url.replace(/\/+$/, "");
    this.warn = options.warn ?? stderrWarn;
    this.now = options.now ?? Date.now;
  }

  async execute(
    request: ExecuteRequest,
    ctx: AttemptContext,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    const auth = this.auth();
    if (!auth.ok) return auth.failure;
    // A runtime that echoes the Authorization header in an error body must not get the token stored.
    return redactOutcome(await this.attempt(request, ctx, auth.value, signal), auth.value.token);
  }

  private async attempt(
    request: ExecuteRequest,
    ctx: AttemptContext,
    auth: Auth,
    signal: AbortSignal,
  ): Promise<ExecutionOutcome> {
    const call = combineSignals([signal], this.config.timeout_ms);
    let source = this.source("/capabilities");
    try {
      const incompatible = await this.checkCapabilities(request, auth, call.signal);
      if (incompatible) return incompatible;

      const headers: Record<string, string> = {
        ...auth.headers,
        "content-type": "application/json",
        accept: "application/json",
        "idempotency-key": request.attempt_id,
        "x-wattswarm-deadline-ms": String(ctx.deadline_ms),
      };
      source = this.source("/execute");
      const executed = await this.postJson("/execute", request, headers, call.signal);
      if (!executed.ok) return executed.failure;
      const response = executed.value;
      // Before /verify, which would send it on.
      const overLimits = checkOutputLimits(response, source);
      if (overLimits) return overLimits;
      if (!this.config.verify) return { ok: true, response };

      source = this.source("/verify");
      const rejected = await this.verify(request, response, headers, call.signal);
      return rejected ?? { ok: true, response };
    } catch (err) {
      if (call.signal.aborted) return this.abortedOutcome(signal);
      return classifyFetchError(err, source);
    } finally {
      call.dispose();
    }
  }

  async check(signal?: AbortSignal): Promise<ExecutorCheck> {
    const call = combineSignals([signal], this.config.timeout_ms ?? PROBE_TIMEOUT_MS);
    const problems: string[] = [];
    let health = "unknown";
    let capabilities: JsonObject | null = null;
    const auth = this.auth();
    const token = auth.ok ? auth.value.token : undefined;
    try {
      if (!auth.ok) problems.push(auth.failure.error);
      const headers = { ...(auth.ok ? auth.value.headers : {}), accept: "application/json" };
      try {
        const res = await fetch(`${this.baseUrl}/health`, { headers, signal: call.signal });
        await res.body?.cancel().catch(() => {});
        health = res.ok ? "ok" : `status ${res.status}`;
        if (!res.ok) problems.push(`runtime /health status: ${res.status} (${this.baseUrl})`);
      } catch (err) {
        health = "unreachable";
        problems.push(classifyFetchError(err, this.source("/health")).error);
      }
      if (health !== "unreachable") {
        const fetched = await this.fetchCapabilities({ headers, token }, call.signal);
        if (fetched.ok) capabilities = fetched.value.caps;
        else problems.push(fetched.failure.error);
      }
    } catch (err) {
      problems.push(errorMessage(err));
    } finally {
      call.dispose();
    }
    const result: ExecutorCheck = { ok: problems.length === 0, health, capabilities };
    if (problems.length > 0) result.error = redactSecret(problems.join("; "), token);
    return result;
  }

  private source(path: string): string {
    return `runtime ${path}, ${this.baseUrl}`;
  }

  private abortedOutcome(callerSignal: AbortSignal): AttemptFailure {
    if (callerSignal.aborted) return failure("TIMEOUT", true, "aborted");
    return failure(
      "TIMEOUT",
      true,
      `TIMEOUT: runtime gave no answer within ${this.config.timeout_ms} ms (executor timeout_ms, ${this.baseUrl})`,
    );
  }

  private auth(): Fetched<Auth> {
    const headers: Record<string, string> = { ...this.config.headers };
    const envName = this.config.bearer_env;
    if (envName === undefined) return { ok: true, value: { headers } };
    const token = process.env[envName];
    if (token === undefined || token === "") {
      const message = `env var ${envName} (bearer_env of executor ${this.name}) is not set on this worker`;
      return { ok: false, failure: failure("EXECUTOR_INCOMPATIBLE", false, message) };
    }
    // Lower-case so it replaces, rather than joins, any same-named custom header.
    for (const key of Object.keys(headers)) if (key.toLowerCase() === "authorization") delete headers[key];
    headers.authorization = `Bearer ${token}`;
    return { ok: true, value: { headers, token } };
  }

  private async checkCapabilities(
    request: ExecuteRequest,
    auth: Auth,
    signal: AbortSignal,
  ): Promise<AttemptFailure | null> {
    const entry = await this.cachedCapabilities(auth, signal);
    if (!entry.ok) return entry.failure;
    const caps = entry.value.caps;
    if (!caps) return null;
    const profiles = stringList(caps.profiles);
    if (profiles && profiles.length > 0 && !profiles.includes("*") && !profiles.includes(request.profile)) {
      const message = `profile "${request.profile}" is not offered by runtime ${this.baseUrl} (profiles: ${profiles.join(", ")})`;
      return failure("EXECUTOR_INCOMPATIBLE", false, message);
    }
    const taskTypes = stringList(caps.task_types);
    const listed = !taskTypes || taskTypes.length === 0 || taskTypes.includes("*");
    if (!listed && !taskTypes.includes(request.task_type) && !entry.value.warned.has(request.task_type)) {
      // Once per cache period: a run of 1,000 agents should not print 1,000 identical warnings.
      entry.value.warned.add(request.task_type);
      this.warn(
        `task_type "${request.task_type}" is not listed by runtime ${this.baseUrl} (task_types: ${taskTypes.join(", ")}); executing anyway`,
      );
    }
    return null;
  }

  private async cachedCapabilities(auth: Auth, signal: AbortSignal): Promise<Fetched<CapabilitiesEntry>> {
    const cached = capabilitiesCache.get(this.baseUrl);
    if (cached && this.now() - cached.fetchedAt < CAPABILITIES_TTL_MS) return { ok: true, value: cached };
    let pending = capabilitiesInflight.get(this.baseUrl);
    if (!pending) {
      // The shared probe has its own timeout, not this attempt's signal: one cancelled attempt must not fail
      // the probe that other attempts are waiting on.
      const probe = combineSignals([], this.config.timeout_ms ?? PROBE_TIMEOUT_MS);
      const headers = { ...auth.headers, accept: "application/json" };
      pending = this.fetchCapabilities({ headers, token: auth.token }, probe.signal)
        .then((fetched) => {
          // Cached here, not by a waiter: a probe that outlives every attempt awaiting it still counts.
          if (fetched.ok) capabilitiesCache.set(this.baseUrl, fetched.value);
          return fetched;
        })
        .finally(() => {
          probe.dispose();
          capabilitiesInflight.delete(this.baseUrl);
        });
      capabilitiesInflight.set(this.baseUrl, pending);
    }
    const result = await raceAbort(pending, signal, ABORTED);
    if (result === ABORTED) throw signal.reason;
    return result;
  }

  /**
   * Never throws. A failure is redacted here, with the token of the executor that probed: the probe is shared
   * by every executor pointing at the runtime, and another one's attempt would only redact its own token.
   */
  private async fetchCapabilities(auth: Auth, signal: AbortSignal): Promise<Fetched<CapabilitiesEntry>> {
    const fetched = await this.probeCapabilities(auth.headers, signal);
    return fetched.ok ? fetched : { ok: false, failure: redactOutcome(fetched.failure, auth.token) };
  }

  private async probeCapabilities(
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Fetched<CapabilitiesEntry>> {
    const source = this.source("/capabilities");
    try {
      const res = await fetch(`${this.baseUrl}/capabilities`, { headers, signal });
      if (NO_CAPABILITIES.has(res.status)) {
        await res.body?.cancel().catch(() => {});
        return { ok: true, value: { fetchedAt: this.now(), caps: null, warned: new Set() } };
      }
      if (!res.ok) return { ok: false, failure: await this.statusFailure("/capabilities", res) };
      const body = await readBodyCapped(res, source);
      if (!body.ok) return body;
      const parsed = parseJsonObject(body.text, source);
      if (!parsed.ok) return parsed;
      return { ok: true, value: { fetchedAt: this.now(), caps: parsed.value, warned: new Set() } };
    } catch (err) {
      if (signal.aborted) {
        const message = `TIMEOUT: runtime /capabilities gave no answer (${this.baseUrl})`;
        return { ok: false, failure: failure("TIMEOUT", true, message) };
      }
      return { ok: false, failure: classifyFetchError(err, source) };
    }
  }

  /** Throws on transport errors and aborts; every HTTP-level problem is returned. */
  private async postJson(
    path: string,
    body: unknown,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Fetched<JsonObject>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal,
    });
    if (!res.ok) return { ok: false, failure: await this.statusFailure(path, res) };
    const text = await readBodyCapped(res, this.source(path));
    if (!text.ok) return text;
    return parseJsonObject(text.text, this.source(path));
  }

  private statusFailure(path: string, res: Response): Promise<AttemptFailure> {
    return httpStatusFailure(res, `runtime ${path}`, this.baseUrl, this.now());
  }

  /** The reason to reject the attempt, or null when verification passed. */
  private async verify(
    request: ExecuteRequest,
    response: JsonObject,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<AttemptFailure | null> {
    const wrapped = Object.hasOwn(response, "candidate_output");
    const candidate = wrapped ? (response.candidate_output ?? null) : response;
    const refs = wrapped
      ? response.evidence_refs
      : isPlainObject(candidate)
        ? candidate.evidence_refs
        : undefined;
    const body = {
      task_id: request.task_id,
      execution_id: request.execution_id,
      attempt_id: request.attempt_id,
      task_contract: request.task_contract,
      candidate_output: candidate,
      evidence_refs: Array.isArray(refs) ? refs : [],
    };
    const verified = await this.postJson("/verify", body, headers, signal);
    if (!verified.ok) return verified.failure;
    const { passed, reason_codes } = verified.value;
    if (typeof passed !== "boolean") {
      return failure(
        "BAD_OUTPUT",
        true,
        `verify response: "passed" is not a boolean (${this.source("/verify")})`,
      );
    }
    if (passed) return null;
    const reasons = stringList(reason_codes) ?? [];
    const message = reasons.length > 0 ? `verify failed: ${reasons.join(", ")}` : "verify failed";
    return failure("VERIFY_FAILED", true, message, { details: { reason_codes: reasons } });
  }
}

export function createHttpExecutor(
  name: string,
  config: HttpExecutorConfig,
  options?: HttpExecutorOptions,
): HttpExecutor {
  return new HttpExecutor(name, config, options);
}
