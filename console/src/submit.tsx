// Submit a run spec: a JSON editor, the API's validation issues inline ({path, message} from a 400).
import { useState } from "preact/hooks";
import { ApiError, api, type Issue } from "./api.js";

function exampleSpec(): string {
  const runId = `console-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "")}`;
  const agent = (id: string, truth: string, confidence: number) => ({
    agent_id: id,
    prompt: `Review the proposal (${id}).`,
    executor: "sim",
    inputs: { _sim: { truth, accuracy: 1, confidence, latency_ms: 400 } },
  });
  return JSON.stringify(
    {
      run_id: runId,
      task_type: "swarm",
      shared_inputs: { question: "Approve the proposal?", decision_options: ["APPROVE", "REJECT"] },
      agents: [
        agent("cost-reviewer", "REJECT", 0.6),
        agent("revenue-reviewer", "APPROVE", 0.9),
        agent("delivery-reviewer", "APPROVE", 0.7),
      ],
      aggregation: { mode: "all_done", vote_on: "decision", quorum: 2 },
    },
    null,
    2,
  );
}

interface Submitted {
  run_id: string;
  kicked_off: boolean;
  created: boolean;
  warnings?: string[];
}

export function SubmitPage() {
  const [text, setText] = useState(() => sessionStorage.getItem("wattswarm.draft") ?? exampleSpec());
  const [kickoff, setKickoff] = useState(true);
  const [issues, setIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<Submitted | null>(null);
  const [sending, setSending] = useState(false);

  const submit = async () => {
    setIssues([]);
    setError(null);
    setDone(null);
    let spec: unknown;
    try {
      spec = JSON.parse(text);
    } catch (err) {
      setError(`not JSON: ${(err as Error).message}`);
      return;
    }
    setSending(true);
    try {
      setDone(await api<Submitted>("/api/runs", { method: "POST", body: { spec, kickoff } }));
    } catch (err) {
      if (err instanceof ApiError) {
        setError(`${err.code}: ${err.message}`);
        setIssues(err.details);
      } else setError(String(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <section>
      <div class="page-head">
        <h1>Submit a run</h1>
        <span class="muted">
          the run spec as JSON (<code>wattswarm spec schema</code> prints its JSON Schema)
        </span>
      </div>
      <textarea
        class="editor"
        name="spec"
        data-testid="spec-editor"
        spellcheck={false}
        value={text}
        onInput={(e) => {
          const v = (e.target as HTMLTextAreaElement).value;
          setText(v);
          sessionStorage.setItem("wattswarm.draft", v);
        }}
      />
      <div class="actions">
        <label>
          <input
            type="checkbox"
            name="kickoff"
            checked={kickoff}
            onChange={(e) => setKickoff((e.target as HTMLInputElement).checked)}
          />{" "}
          kick off at once
        </label>
        <button type="button" data-action="submit" disabled={sending} onClick={() => void submit()}>
          Submit
        </button>
        <button
          type="button"
          class="link"
          onClick={() => {
            const v = exampleSpec();
            setText(v);
            sessionStorage.setItem("wattswarm.draft", v);
          }}
        >
          new example
        </button>
      </div>
      {error && (
        <div class="card errors" data-testid="spec-errors">
          <p class="error">{error}</p>
          {issues.length > 0 && (
            <ul>
              {issues.map((i, n) => (
                <li key={n} data-path={i.path}>
                  <code>{i.path || "(root)"}</code> {i.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {done && (
        <div class="card" data-testid="submitted">
          <p class="ok">
            {done.created ? "Submitted" : "Already submitted (identical spec)"}{" "}
            <a href={`#/runs/${encodeURIComponent(done.run_id)}`}>{done.run_id}</a>
            {done.kicked_off ? ", kicked off" : ", not kicked off yet"}.
          </p>
          {done.warnings && done.warnings.length > 0 && (
            <ul>
              {done.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
        </div>
      )}
    </section>
  );
}
