// Runs the LLM panel against any OpenAI-compatible endpoint, or explains what to set when none is configured.
//   node examples/llm-panel/run.mjs [--db path | --pg-url url]
// Endpoint: WATTSWARM_LLM_BASE_URL + WATTSWARM_LLM_MODEL (+ WATTSWARM_LLM_API_KEY), else OPENAI_BASE_URL +
// OPENAI_MODEL (+ OPENAI_API_KEY), else OpenAI itself when OPENAI_API_KEY is set (model gpt-4o-mini).
// LLM_PANEL_MODELS="m1,m2,m3" gives each agent its own model.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const env = process.env;
function endpoint() {
  if (env.WATTSWARM_LLM_BASE_URL && env.WATTSWARM_LLM_MODEL) {
    return {
      base: env.WATTSWARM_LLM_BASE_URL,
      model: env.WATTSWARM_LLM_MODEL,
      keyVar: "WATTSWARM_LLM_API_KEY",
    };
  }
  if (env.OPENAI_BASE_URL && env.OPENAI_MODEL) {
    return { base: env.OPENAI_BASE_URL, model: env.OPENAI_MODEL, keyVar: "OPENAI_API_KEY" };
  }
  if (env.OPENAI_API_KEY) {
    return {
      base: "https://api.openai.com/v1",
      model: env.OPENAI_MODEL ?? "gpt-4o-mini",
      keyVar: "OPENAI_API_KEY",
    };
  }
  return null;
}

const found = endpoint();
if (!found) {
  console.error(`llm-panel: no OpenAI-compatible endpoint is configured, so there is nothing to run.

Set one of:
  WATTSWARM_LLM_BASE_URL + WATTSWARM_LLM_MODEL [+ WATTSWARM_LLM_API_KEY]
  OPENAI_BASE_URL + OPENAI_MODEL [+ OPENAI_API_KEY]
  OPENAI_API_KEY alone (OpenAI, model gpt-4o-mini)
For example, with a local Ollama:
  WATTSWARM_LLM_BASE_URL=http://127.0.0.1:11434/v1 WATTSWARM_LLM_MODEL=llama3.1 node examples/llm-panel/run.mjs
Optionally LLM_PANEL_MODELS="model-a,model-b,model-c" gives each of the three agents its own model.
The key is read from its env var by the worker at call time; only the variable's NAME is stored.`);
  process.exit(0);
}

const cli = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const storeArgs = process.argv.slice(2);
function wattswarm(args, input) {
  const res = spawnSync(process.execPath, [cli, ...storeArgs, ...args], {
    input,
    stdio: ["pipe", "inherit", "inherit"],
  });
  if (res.status !== 0) process.exit(res.status ?? 1);
}

const models = (env.LLM_PANEL_MODELS ?? "")
  .split(",")
  .map((m) => m.trim())
  .filter(Boolean);
for (let i = 1; i <= 3; i++) {
  const model = models[i - 1] ?? found.model;
  const args = ["executors", "add", `llm-panel-${i}`, "--openai", "--model", model, "--base-url", found.base];
  if (env[found.keyVar]) args.push("--api-key-env", found.keyVar);
  wattswarm(args);
}
const spec = JSON.parse(readFileSync(new URL("./run-spec.json", import.meta.url), "utf8"));
spec.run_id = `llm-panel-${new Date()
  .toISOString()
  .replace(/[^0-9]/g, "")
  .slice(0, 14)}`;
wattswarm(["run", "exec", "-"], JSON.stringify(spec));
