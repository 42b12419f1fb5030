// Executors: the registry, with a health check per entry (GET /api/executors/:name/check).
import { useEffect, useState } from "preact/hooks";
import { ApiError, api, type ExecutorEntry } from "./api.js";
import { show } from "./ui.js";

type Check = { state: "checking" } | { state: "done"; ok: boolean; body: Record<string, unknown> };

function checkSummary(body: Record<string, unknown>): string {
  const rest = Object.entries(body).filter(([k]) => !["name", "kind", "ok"].includes(k));
  return rest.map(([k, v]) => `${k}: ${show(v)}`).join(" · ");
}

export function ExecutorsPage() {
  const [list, setList] = useState<ExecutorEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [checks, setChecks] = useState<Record<string, Check>>({});

  const check = async (name: string) => {
    setChecks((c) => ({ ...c, [name]: { state: "checking" } }));
    try {
      const body = await api<Record<string, unknown>>(`/api/executors/${encodeURIComponent(name)}/check`);
      setChecks((c) => ({ ...c, [name]: { state: "done", ok: body.ok === true, body } }));
    } catch (err) {
      const message = err instanceof ApiError ? `${err.code}: ${err.message}` : String(err);
      setChecks((c) => ({ ...c, [name]: { state: "done", ok: false, body: { error: message } } }));
    }
  };

  useEffect(() => {
    api<ExecutorEntry[]>("/api/executors").then(
      (l) => {
        setList(l);
        for (const e of l) void check(e.name);
      },
      (err) => setError(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err)),
    );
  }, []);

  return (
    <section>
      <div class="page-head">
        <h1>Executors</h1>
        <span class="muted">
          register with <code>wattswarm executors add</code> or <code>POST /api/executors</code>
        </span>
      </div>
      {error && <p class="error">{error}</p>}
      {list === null ? (
        <p class="muted">loading…</p>
      ) : list.length === 0 ? (
        <p class="muted">No executors registered (the built-in sim executor needs none).</p>
      ) : (
        <table class="grid" data-testid="executors-table">
          <thead>
            <tr>
              <th>name</th>
              <th>kind</th>
              <th>config</th>
              <th>health</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((e) => {
              const c = checks[e.name];
              return (
                <tr key={e.name} data-executor={e.name}>
                  <td>{e.name}</td>
                  <td>{e.kind}</td>
                  <td>
                    <code class="config">{JSON.stringify(e.config)}</code>
                  </td>
                  <td data-testid="health">
                    {!c ? (
                      "–"
                    ) : c.state === "checking" ? (
                      <span class="muted">checking…</span>
                    ) : (
                      <>
                        <span class={`badge ${c.ok ? "st-finalized" : "st-failed"}`}>
                          {c.ok ? "healthy" : "unhealthy"}
                        </span>{" "}
                        <span class="muted">{checkSummary(c.body)}</span>
                      </>
                    )}
                  </td>
                  <td>
                    <button type="button" onClick={() => void check(e.name)}>
                      Check
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
