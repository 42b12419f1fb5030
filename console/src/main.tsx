// The WattSwarm web console: runs, run detail, submit, executors. Hash routes, so `serve` only has to serve
// index.html and its assets.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { getToken, onAuthNeeded, setToken } from "./api.js";
import { ExecutorsPage } from "./executors.js";
import { RunPage } from "./run.js";
import { RunsPage } from "./runs.js";
import { SubmitPage } from "./submit.js";
import { useHashRoute } from "./ui.js";
import "./style.css";

function TokenPrompt({ message, onDone }: { message: string; onDone: () => void }) {
  const [value, setValue] = useState(getToken());
  return (
    <div class="overlay">
      <form
        class="token-box"
        data-testid="token-form"
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value.trim());
          onDone();
        }}
      >
        <h2>API token</h2>
        <p class="muted">{message}</p>
        <p class="muted">It is kept in this tab's session storage only.</p>
        <input
          type="password"
          name="token"
          value={value}
          onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          placeholder="bearer token"
        />
        <div class="row">
          <button type="submit">Use token</button>
        </div>
      </form>
    </div>
  );
}

function App() {
  const route = useHashRoute();
  const [authMessage, setAuthMessage] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);
  useEffect(() => onAuthNeeded((m) => setAuthMessage(m)), []);

  let page: preact.ComponentChildren;
  let section = "runs";
  const runMatch = /^\/runs\/(.+)$/.exec(route);
  if (runMatch) page = <RunPage runId={decodeURIComponent(runMatch[1] ?? "")} />;
  else if (route === "/submit") {
    section = "submit";
    page = <SubmitPage />;
  } else if (route === "/executors") {
    section = "executors";
    page = <ExecutorsPage />;
  } else page = <RunsPage />;

  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          ⚡ WattSwarm
        </a>
        <nav>
          <a href="#/" class={section === "runs" ? "active" : ""}>
            Runs
          </a>
          <a href="#/submit" class={section === "submit" ? "active" : ""}>
            Submit
          </a>
          <a href="#/executors" class={section === "executors" ? "active" : ""}>
            Executors
          </a>
        </nav>
        <button type="button" class="link" onClick={() => setAuthMessage("Set or change the API token.")}>
          {getToken() === "" ? "Token" : "Token ✓"}
        </button>
      </header>
      <main key={generation}>{page}</main>
      {authMessage !== null && (
        <TokenPrompt
          message={authMessage}
          onDone={() => {
            setAuthMessage(null);
            setGeneration((g) => g + 1);
          }}
        />
      )}
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
