// Run detail: decision and confidence, vote bars, resolution path and traces, steps, and the live event
// timeline (SSE, resumed by the browser with Last-Event-ID; closed on `event: end`).
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import {
  ApiError,
  api,
  type Conclusion,
  type PolicyReport,
  type RunEvent,
  type RunResult,
  type RunView,
  streamUrl,
  TERMINAL,
} from "./api.js";
import { fmtNum, fmtTime, StatusBadge, show } from "./ui.js";

const MAX_EVENTS = 500;
const POLL_MS = 1000;

interface Bar {
  value: string;
  agents: number;
  weight: number;
  eligible: boolean;
}

/** Final tally when the run has one; otherwise the votes cast so far, from the conclusions. */
function votesOf(result: RunResult | null): { bars: Bar[]; final: boolean } {
  const agg = result?.aggregation;
  if (agg?.tally && agg.tally.length > 0) return { bars: agg.tally, final: true };
  if (agg?.decision_votes && Object.keys(agg.decision_votes).length > 0)
    return {
      bars: Object.entries(agg.decision_votes).map(([value, n]) => ({
        value,
        agents: n,
        weight: n,
        eligible: true,
      })),
      final: true,
    };
  const counts = new Map<string, number>();
  for (const c of result?.conclusions ?? [])
    if (c.decision !== null && c.decision !== undefined && c.status === "SUCCEEDED")
      counts.set(c.decision, (counts.get(c.decision) ?? 0) + (c.weight ?? 1));
  const bars = [...counts].map(([value, n]) => ({ value, agents: n, weight: n, eligible: true }));
  bars.sort((a, b) => b.weight - a.weight || a.value.localeCompare(b.value));
  return { bars, final: false };
}

function VoteBars({ result }: { result: RunResult | null }) {
  const { bars, final } = votesOf(result);
  const total = bars.reduce((s, b) => s + b.weight, 0);
  const winner = result?.final_decision ?? null;
  return (
    <div class="card" data-testid="votes">
      <h2>Votes {final ? "" : <span class="muted">(so far)</span>}</h2>
      {bars.length === 0 ? (
        <p class="muted">No votes yet.</p>
      ) : (
        bars.map((b) => {
          const pct = total > 0 ? (100 * b.weight) / total : 0;
          return (
            <div class={`vote ${b.value === winner ? "winner" : ""}`} key={b.value} data-candidate={b.value}>
              <span class="vote-label">{b.value}</span>
              <span class="vote-track">
                <span class="vote-fill" style={{ width: `${pct}%` }} />
              </span>
              <span class="vote-num">
                {b.agents} vote{b.agents === 1 ? "" : "s"}
                {b.weight !== b.agents ? ` · weight ${fmtNum(b.weight)}` : ""}
                {b.eligible ? "" : " · ineligible"}
              </span>
            </div>
          );
        })
      )}
    </div>
  );
}

function DecisionBlock({ result, view }: { result: RunResult | null; view: RunView | null }) {
  const conf = result?.confidence ?? null;
  const status = view?.status ?? result?.status ?? "…";
  return (
    <div class="card decision" data-testid="decision">
      <h2>Decision</h2>
      {status === "FINALIZED" ? (
        <div class="final" data-testid="final-decision">
          {result?.final_decision ?? <span class="muted">null</span>}
        </div>
      ) : (
        <div class="final muted">{TERMINAL.has(status) ? status : "pending…"}</div>
      )}
      {result?.final_answer !== undefined &&
        result.final_answer !== null &&
        result.final_answer !== result.final_decision && (
          <p>
            answer: <code>{show(result.final_answer)}</code>
          </p>
        )}
      {result?.null_resolution ? (
        <p>
          null resolution: <code>{show(result.null_resolution)}</code>
        </p>
      ) : null}
      {result?.error ? <p class="error">{show(result.error)}</p> : null}
      {conf && (
        <dl class="kv" data-testid="confidence">
          <dt>agreement</dt>
          <dd>{fmtNum(conf.agreement)}</dd>
          <dt>margin</dt>
          <dd>{fmtNum(conf.margin)}</dd>
          <dt>votes</dt>
          <dd>
            {show(conf.votes_for)} / {show(conf.votes_cast)}
          </dd>
          <dt>quorum</dt>
          <dd>
            {show(conf.quorum)} {conf.quorum_met === false ? "(not met)" : conf.quorum_met ? "(met)" : ""}
          </dd>
          <dt>entropy</dt>
          <dd>{fmtNum(conf.entropy_bits)} bits</dd>
        </dl>
      )}
    </div>
  );
}

function TraceTable({ name, policy }: { name: string; policy: PolicyReport | undefined }) {
  if (!policy) return null;
  const trace = policy.trace ?? [];
  return (
    <div class="trace" data-testid={`trace-${name}`}>
      <h3>
        {name} <span class="muted">chain: {(policy.chain ?? []).join(" → ") || "–"}</span>
      </h3>
      {trace.length === 0 ? (
        <p class="muted">not used</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>bucket</th>
              <th>resolver</th>
              <th>outcome</th>
              <th>winner</th>
              <th>scores / candidates</th>
              <th>stochastic seed · index</th>
            </tr>
          </thead>
          <tbody>
            {trace.map((t, i) => (
              <tr key={i}>
                <td>{t.bucket}</td>
                <td>{t.resolver ?? "–"}</td>
                <td>{t.outcome}</td>
                <td>{t.winner ?? "–"}</td>
                <td>
                  {t.scores
                    ? Object.entries(t.scores)
                        .map(([k, v]) => `${k}: ${fmtNum(v, 3)}`)
                        .join(", ")
                    : (t.candidates ?? []).join(", ")}
                </td>
                <td>
                  {t.seed !== undefined ? (
                    <code data-testid="stochastic-seed">
                      {t.seed} · {t.index ?? "–"}
                    </code>
                  ) : (
                    "–"
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function Resolution({ result }: { result: RunResult | null }) {
  const agg = result?.aggregation;
  if (!agg) return null;
  const paths = Object.entries(agg.resolution_paths ?? {});
  return (
    <div class="card" data-testid="resolution">
      <h2>Resolution</h2>
      <p>
        mode <code>{agg.mode ?? "–"}</code>, vote on <code>{agg.vote_on ?? "–"}</code>; path:{" "}
        {paths.length === 0
          ? "–"
          : paths.map(([bucket, p]) => (
              <code key={bucket} data-testid="resolution-path">
                {bucket}: {p}{" "}
              </code>
            ))}
      </p>
      <TraceTable name="tie_policy" policy={agg.tie_policy} />
      <TraceTable name="null_policy" policy={agg.null_policy} />
      {agg.early_stop ? (
        <p>
          early stop: <code>{show(agg.early_stop)}</code>
        </p>
      ) : null}
    </div>
  );
}

function StepsTable({ conclusions, view }: { conclusions: Conclusion[]; view: RunView | null }) {
  const c = view?.counts;
  return (
    <div class="card" data-testid="steps">
      <h2>Steps</h2>
      {c && (
        <p class="muted counts">
          created {c.created} · queued {c.queued} · leased {c.leased} · succeeded {c.succeeded} · failed{" "}
          {c.failed} · retry wait {c.retry_wait} · cancelled {c.cancelled}
        </p>
      )}
      <table class="grid">
        <thead>
          <tr>
            <th>agent</th>
            <th>state</th>
            <th>round</th>
            <th>attempt</th>
            <th>executor</th>
            <th>decision</th>
            <th>confidence</th>
            <th>error</th>
          </tr>
        </thead>
        <tbody>
          {conclusions.map((s) => (
            <tr key={`${s.agent_id}:${s.round}`} data-agent={s.agent_id}>
              <td>{s.agent_id}</td>
              <td>
                <StatusBadge status={s.status} />
              </td>
              <td>{s.round}</td>
              <td>{s.attempt}</td>
              <td>{s.executor}</td>
              <td>{s.decision ?? "–"}</td>
              <td>{fmtNum(s.confidence)}</td>
              <td class="error">{show(s.error)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function eventSummary(e: RunEvent): string {
  const p = e.payload ?? {};
  const parts: string[] = [];
  for (const k of ["agent_id", "round", "attempt", "status", "error_code", "final_decision", "steps_queued"])
    if (p[k] !== undefined && p[k] !== null) parts.push(`${k}=${show(p[k])}`);
  return parts.join(" ");
}

function Timeline({ events, stream }: { events: RunEvent[]; stream: string }) {
  return (
    <div class="card" data-testid="timeline">
      <h2>
        Events <span class={`muted stream-${stream}`}>{stream}</span>
      </h2>
      <ol class="timeline">
        {[...events].reverse().map((e) => (
          <li key={e.seq} data-seq={e.seq}>
            <span class="seq">#{e.seq}</span> <span class="muted">{fmtTime(e.created_at)}</span>{" "}
            <b>{e.event_type}</b> <span class="muted">{eventSummary(e)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

export function RunPage({ runId }: { runId: string }) {
  const [view, setView] = useState<RunView | null>(null);
  const [result, setResult] = useState<RunResult | null>(null);
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [stream, setStream] = useState("connecting");
  const [streamGen, setStreamGen] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [action, setAction] = useState<{ ok: boolean; text: string } | null>(null);
  const [correct, setCorrect] = useState("");
  const lastSeq = useRef(0);
  const busy = useRef(false);
  const again = useRef(false);

  const refresh = useCallback(async () => {
    if (busy.current) {
      again.current = true;
      return;
    }
    busy.current = true;
    try {
      do {
        again.current = false;
        const [v, r] = await Promise.all([
          api<RunView>(`/api/runs/${encodeURIComponent(runId)}`),
          api<RunResult>(`/api/runs/${encodeURIComponent(runId)}/result`),
        ]);
        setView(v);
        setResult(r);
        setError(null);
      } while (again.current);
    } catch (err) {
      setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
    } finally {
      busy.current = false;
    }
  }, [runId]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  // Leases are recorded as events only when the attempt ends, so the counts are also polled while it runs.
  const status = view?.status ?? "";
  const terminal = TERMINAL.has(status);
  useEffect(() => {
    if (terminal) return;
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => clearInterval(timer);
  }, [refresh, terminal]);

  useEffect(() => {
    const after = lastSeq.current;
    const url =
      streamUrl(runId) + (after > 0 ? `${streamUrl(runId).includes("?") ? "&" : "?"}after=${after}` : "");
    const es = new EventSource(url);
    setStream("connecting");
    es.onopen = () => setStream("live");
    es.onmessage = (m) => {
      const e = JSON.parse(m.data) as RunEvent;
      if (e.seq <= lastSeq.current) return;
      lastSeq.current = e.seq;
      setEvents((prev) => [...prev.slice(-(MAX_EVENTS - 1)), e]);
      setStream("live");
      void refresh();
    };
    es.addEventListener("end", () => {
      es.close();
      setStream("ended");
      void refresh();
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) setStream("closed");
      else setStream("reconnecting");
    };
    return () => es.close();
  }, [runId, streamGen, refresh]);

  const act = async (name: string, body?: unknown) => {
    setAction(null);
    try {
      const out = await api<Record<string, unknown>>(`/api/runs/${encodeURIComponent(runId)}/${name}`, {
        method: "POST",
        body: body ?? {},
      });
      const extra =
        out.steps_requeued !== undefined
          ? `, ${show(out.steps_requeued)} step(s) requeued`
          : out.changed !== undefined
            ? `, correct = ${show(out.correct)}`
            : "";
      setAction({ ok: true, text: `${name}: ok${out.status ? ` (${show(out.status)})` : ""}${extra}` });
    } catch (err) {
      setAction({
        ok: false,
        text: err instanceof ApiError ? `${name}: ${err.code}: ${err.message}` : String(err),
      });
    }
    await refresh();
    if (name !== "feedback") setStreamGen((g) => g + 1);
  };

  const candidates = [...new Set(votesOf(result).bars.map((b) => b.value))];

  return (
    <section>
      <div class="page-head">
        <h1>
          <a href="#/" class="muted">
            Runs
          </a>{" "}
          / <span data-testid="run-id">{runId}</span>
        </h1>
        {status && <StatusBadge status={status} />}
        {view && (
          <span class="muted">
            {view.task_type} · round {view.round} · created {fmtTime(view.created_at)}
            {view.finished_at ? ` · finished ${fmtTime(view.finished_at)}` : ""}
          </span>
        )}
      </div>
      {error && <p class="error">{error}</p>}
      <div class="actions">
        <button
          type="button"
          data-action="kickoff"
          disabled={status !== "CREATED"}
          onClick={() => act("kickoff")}
        >
          Kickoff
        </button>
        <button
          type="button"
          data-action="cancel"
          class="danger"
          disabled={terminal}
          onClick={() => act("cancel")}
        >
          Cancel
        </button>
        <button
          type="button"
          data-action="retry"
          disabled={status === "FINALIZED" || status === "CANCELLED"}
          onClick={() => act("retry")}
        >
          Retry
        </button>
        <form
          class="feedback"
          onSubmit={(e) => {
            e.preventDefault();
            if (correct.trim() !== "") void act("feedback", { correct: correct.trim() });
          }}
        >
          <input
            list="candidates"
            name="correct"
            placeholder="correct value"
            value={correct}
            disabled={status !== "FINALIZED"}
            onInput={(e) => setCorrect((e.target as HTMLInputElement).value)}
          />
          <datalist id="candidates">
            {candidates.map((c) => (
              <option value={c} key={c} />
            ))}
          </datalist>
          <button
            type="submit"
            data-action="feedback"
            disabled={status !== "FINALIZED" || correct.trim() === ""}
          >
            Feedback
          </button>
        </form>
        {action && (
          <span class={action.ok ? "ok" : "error"} data-testid="action-result">
            {action.text}
          </span>
        )}
      </div>
      <div class="cols">
        <DecisionBlock result={result} view={view} />
        <VoteBars result={result} />
      </div>
      <Resolution result={result} />
      <StepsTable conclusions={result?.conclusions ?? []} view={view} />
      <Timeline events={events} stream={stream} />
    </section>
  );
}
