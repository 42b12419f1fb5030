// Runs list: newest first, filtered by status, refreshed every second.
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, RUN_STATUSES, type RunView } from "./api.js";
import { fmtTime, StatusBadge } from "./ui.js";

const POLL_MS = 1000;

function readFilter(): string {
  return sessionStorage.getItem("wattswarm.filter") ?? "";
}

export function RunsPage() {
  const [status, setStatus] = useState(readFilter);
  const [runs, setRuns] = useState<RunView[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      try {
        const q = new URLSearchParams({ limit: "100" });
        if (status !== "") q.set("status", status);
        const list = await api<RunView[]>(`/api/runs?${q}`);
        if (!stopped) {
          setRuns(list);
          setError(null);
        }
      } catch (err) {
        if (!stopped) setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
      }
      if (!stopped) timer = setTimeout(load, POLL_MS);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [status]);

  return (
    <section>
      <div class="page-head">
        <h1>Runs</h1>
        <label>
          Status{" "}
          <select
            name="status"
            data-testid="status-filter"
            value={status}
            onChange={(e) => {
              const v = (e.target as HTMLSelectElement).value;
              sessionStorage.setItem("wattswarm.filter", v);
              setStatus(v);
            }}
          >
            <option value="">all</option>
            {RUN_STATUSES.map((s) => (
              <option value={s} key={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <span class="muted live-dot" title="refreshed every second">
          live
        </span>
      </div>
      {error && <p class="error">{error}</p>}
      {runs === null ? (
        <p class="muted">loading…</p>
      ) : runs.length === 0 ? (
        <p class="muted" data-testid="no-runs">
          No runs{status ? ` with status ${status}` : ""}. <a href="#/submit">Submit one.</a>
        </p>
      ) : (
        <table class="grid" data-testid="runs-table">
          <thead>
            <tr>
              <th>run</th>
              <th>status</th>
              <th>task type</th>
              <th>round</th>
              <th>steps done</th>
              <th>created</th>
              <th>finished</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => {
              const c = r.counts;
              const total =
                c.created + c.queued + c.leased + c.succeeded + c.failed + c.retry_wait + c.cancelled;
              return (
                <tr key={r.run_id} data-run-id={r.run_id}>
                  <td>
                    <a href={`#/runs/${encodeURIComponent(r.run_id)}`}>{r.run_id}</a>
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{r.task_type}</td>
                  <td>{r.round}</td>
                  <td>
                    <progress max={total || 1} value={c.succeeded + c.failed + c.cancelled} /> {c.succeeded}/
                    {total}
                    {c.failed ? <span class="error"> ({c.failed} failed)</span> : null}
                  </td>
                  <td>{fmtTime(r.created_at)}</td>
                  <td>{fmtTime(r.finished_at)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
