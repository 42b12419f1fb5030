// The console talks only to the HTTP API (DESIGN §2). The optional bearer token lives in sessionStorage; the
// stream, which EventSource cannot give headers, gets it as ?access_token= (docs/api.md).

const TOKEN_KEY = "wattswarm.token";

export interface Issue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Issue[] = [],
  ) {
    super(message);
  }
}

export function getToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? "";
  } catch {
    return "";
  }
}

export function setToken(token: string): void {
  if (token === "") sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

type AuthListener = (message: string) => void;
const authListeners = new Set<AuthListener>();

/** Called with the server's message whenever a request is answered 401 (the app then asks for a token). */
export function onAuthNeeded(fn: AuthListener): () => void {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

export async function api<T = unknown>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (token !== "") headers.authorization = `Bearer ${token}`;
  const req: RequestInit = { method: init.method ?? "GET", headers };
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    req.body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
  }
  let res: Response;
  try {
    res = await fetch(path, req);
  } catch (err) {
    throw new ApiError(0, "NETWORK", `cannot reach the server: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const error = (body as { error?: { code?: string; message?: string; details?: Issue[] } } | undefined)
      ?.error;
    const err = new ApiError(
      res.status,
      error?.code ?? `HTTP_${res.status}`,
      error?.message ?? `${res.status} ${res.statusText}`,
      Array.isArray(error?.details) ? error.details : [],
    );
    if (res.status === 401) for (const fn of authListeners) fn(err.message);
    throw err;
  }
  return body as T;
}

export function streamUrl(runId: string): string {
  const token = getToken();
  const q = token === "" ? "" : `?access_token=${encodeURIComponent(token)}`;
  return `/api/runs/${encodeURIComponent(runId)}/stream${q}`;
}

export const RUN_STATUSES = ["CREATED", "QUEUED", "RUNNING", "CANCELLED", "FINALIZED", "FAILED"] as const;
export const TERMINAL = new Set(["CANCELLED", "FINALIZED", "FAILED"]);

export interface Counts {
  created: number;
  queued: number;
  leased: number;
  succeeded: number;
  failed: number;
  retry_wait: number;
  cancelled: number;
}

export interface RunView {
  run_id: string;
  status: string;
  task_type: string;
  round: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  counts: Counts;
}

export interface Conclusion {
  agent_id: string;
  executor: string;
  profile?: string;
  status: string;
  round: number;
  attempt: number;
  voted?: boolean;
  decision: string | null;
  answer?: string | null;
  confidence: number | null;
  weight?: number;
  error: unknown;
}

export interface TraceEntry {
  bucket: string;
  resolver: string | null;
  outcome: string;
  candidates?: string[];
  winner?: string;
  scores?: Record<string, number>;
  seed?: string;
  index?: number;
}

export interface PolicyReport {
  enabled_on?: string[];
  chain?: string[];
  trace?: TraceEntry[];
}

export interface Aggregation {
  mode?: string;
  vote_on?: string;
  decision_votes?: Record<string, number>;
  answer_votes?: Record<string, number>;
  tally?: { value: string; agents: number; weight: number; eligible: boolean }[];
  resolution_paths?: Record<string, string>;
  tie_policy?: PolicyReport;
  null_policy?: PolicyReport;
  null_resolution?: unknown;
  early_stop?: unknown;
}

export interface RunResult {
  run_id: string;
  status: string;
  task_type?: string;
  round?: number;
  error?: unknown;
  warnings?: unknown[];
  final_decision?: string | null;
  final_answer?: unknown;
  null_resolution?: unknown;
  confidence?: Record<string, unknown> | null;
  conclusions?: Conclusion[];
  aggregation?: Aggregation | null;
  counts?: Counts;
}

export interface RunEvent {
  id: number;
  run_id: string;
  seq: number;
  event_type: string;
  payload: Record<string, unknown>;
  created_at: string;
}

export interface ExecutorEntry {
  name: string;
  kind: string;
  config: Record<string, unknown>;
  created_at?: string;
  updated_at?: string;
}
