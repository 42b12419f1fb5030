// The decision-quality benchmark: real runs of sim agents of known accuracy, through the kernel and an
// in-process worker, on PostgreSQL and SQLite. Writes docs/decision-quality.md and docs/decision-quality.svg.
//   npm run bench:quality            (500 runs per case; a few minutes)
//   npm run bench:quality -- --quick (100 runs per case; a smoke run, not written to docs/ unless --write)
// PostgreSQL: WATTSWARM_BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), in schemas named
// wattswarm_bench_*; SQLite: temporary files.
import { writeFileSync } from "node:fs";
import { reaggregateRun, recordFeedback, type Store } from "../src/index.js";
import { expectedEarlyStopCalls, type PanelAgent, panelAccuracy, standardError } from "./quality-math.js";
import { type MajorityRow, majoritySvg, majorityTable, pct } from "./quality-report.js";
import {
  accuracy,
  freshStore,
  outcomes,
  type RunDraft,
  runAll,
  type SimAgent,
  type StoreKind,
  truthOf,
} from "./quality-runner.js";

const quick = process.argv.includes("--quick");
const write = !quick || process.argv.includes("--write");
const RUNS = quick ? 100 : 500;
const TRAIN = quick ? 60 : 200;
const KINDS: StoreKind[] = process.argv.includes("--sqlite-only") ? ["sqlite"] : ["sqlite", "postgres"];
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const agentsOf = (prefix: string, n: number, p: number): SimAgent[] =>
  Array.from({ length: n }, (_, i) => ({ agent_id: `${prefix}${i + 1}`, accuracy: p }));

async function majorityGrid(kind: StoreKind): Promise<Map<string, { accuracy: number; votes: number }>> {
  const store = await freshStore(kind, `q_majority_${kind}`);
  const drafts: RunDraft[] = [];
  for (const n of [1, 3, 5, 9, 15]) {
    for (const p of [0.6, 0.7, 0.8]) {
      for (let i = 0; i < RUNS; i++) {
        drafts.push({
          run_id: `maj-n${n}-p${p}-${i}`,
          task_type: "majority",
          truth: truthOf(i),
          agents: agentsOf("agent-", n, p),
          aggregation: {},
        });
      }
    }
  }
  const ms = await runAll(store, drafts, 64);
  log(`[${kind}] majority grid: ${drafts.length} runs in ${(ms / 1000).toFixed(1)} s`);
  const byCase = new Map<string, Awaited<ReturnType<typeof outcomes>>>();
  for (const o of await outcomes(store, drafts)) {
    const key = o.run_id.replace(/-\d+$/, "");
    byCase.set(key, [...(byCase.get(key) ?? []), o]);
  }
  await store.close();
  const sum = (v: Awaited<ReturnType<typeof outcomes>>, f: (o: (typeof v)[number]) => number) =>
    v.reduce((s, o) => s + f(o), 0);
  return new Map(
    [...byCase].map(([k, v]) => [
      k,
      { accuracy: accuracy(v), votes: sum(v, (o) => o.votesRight) / sum(v, (o) => o.votes) },
    ]),
  );
}

const STRONG = 0.9;
const WEAK = 0.55;
const MIXED: SimAgent[] = [...agentsOf("strong-", 2, STRONG), ...agentsOf("weak-", 3, WEAK)];
const TIE_PANEL: SimAgent[] = [...agentsOf("strong-", 2, STRONG), ...agentsOf("weak-", 2, WEAK)];

interface MixedRow {
  panel: string;
  policy: string;
  measured: number;
  paired: number | null;
  predicted: number;
}

async function mixedPanel(kind: StoreKind): Promise<{ rows: MixedRow[]; units: Record<string, number> }> {
  const store = await freshStore(kind, `q_mixed_${kind}`);
  const draft = (
    id: string,
    i: number,
    agents: SimAgent[],
    aggregation: Record<string, unknown>,
  ): RunDraft => ({
    run_id: `${id}-${i}`,
    task_type: "mixed",
    truth: truthOf(i),
    agents,
    aggregation,
  });
  const batch = (id: string, agents: SimAgent[], aggregation: Record<string, unknown>, n = RUNS) =>
    Array.from({ length: n }, (_, i) => draft(id, i, agents, aggregation));

  // 1. A track record: earlier runs, then feedback with the true answer for each.
  const train = batch("train", MIXED, {}, TRAIN);
  await runAll(store, train, 64);
  for (const d of train) await recordFeedback(store, d.run_id, d.truth);
  const units: Record<string, number> = {};
  for (const r of await store.listReputation()) if (r.task_type === "mixed") units[r.agent_id] = r.units;
  log(`[${kind}] reputation after ${TRAIN} runs with feedback: ${JSON.stringify(units)}`);

  // 2. The same panel under each policy (independent runs), and the majority runs re-aggregated (same draws).
  const cases: [string, string, SimAgent[], Record<string, unknown>][] = [
    ["5 agents: 2 × 0.9, 3 × 0.55", "majority (vote_weight spec)", MIXED, {}],
    ["5 agents: 2 × 0.9, 3 × 0.55", "vote_weight confidence", MIXED, { vote_weight: "confidence" }],
    ["5 agents: 2 × 0.9, 3 × 0.55", "vote_weight reputation (store)", MIXED, { vote_weight: "reputation" }],
    ["4 agents: 2 × 0.9, 2 × 0.55", "ties → STOCHASTIC", TIE_PANEL, {}],
    [
      "4 agents: 2 × 0.9, 2 × 0.55",
      "ties → CONFIDENCE_WEIGHTED",
      TIE_PANEL,
      {
        tie_policy: { chain: ["CONFIDENCE_WEIGHTED", "STOCHASTIC"] },
      },
    ],
    [
      "4 agents: 2 × 0.9, 2 × 0.55",
      "ties → REPUTATION_WEIGHTED (store)",
      TIE_PANEL,
      {
        tie_policy: { chain: ["REPUTATION_WEIGHTED", "STOCHASTIC"] },
      },
    ],
  ];
  const rows: MixedRow[] = [];
  const baseline = new Map<string, RunDraft[]>();
  for (const [panel, policy, agents, aggregation] of cases) {
    const drafts = batch(`${panel.startsWith("5") ? "mix" : "tie"}-${rows.length}`, agents, aggregation);
    await runAll(store, drafts, 64);
    const measured = accuracy(await outcomes(store, drafts));
    if (!baseline.has(panel)) baseline.set(panel, drafts);
    const base = baseline.get(panel) ?? drafts;
    let paired: number | null = null;
    if (base !== drafts) {
      const replays = [];
      for (const d of base) {
        const r = await reaggregateRun(store, d.run_id, { policy: aggregation, liveReputation: true });
        replays.push({ truth: d.truth, decision: r.final_decision as string | null });
      }
      paired = accuracy(replays);
    }
    rows.push({ panel, policy, measured, paired, predicted: predict(agents, aggregation, units) });
  }
  await store.close();
  return { rows, units };
}

function predict(
  agents: SimAgent[],
  aggregation: Record<string, unknown>,
  units: Record<string, number>,
): number {
  const repOf = (a: SimAgent) => (units[a.agent_id] ?? 500) / 1000;
  const weight = (a: SimAgent) =>
    aggregation.vote_weight === "confidence"
      ? a.accuracy
      : aggregation.vote_weight === "reputation"
        ? repOf(a)
        : 1;
  const chain = ((aggregation.tie_policy as { chain?: string[] } | undefined)?.chain ?? [])[0];
  const panel: PanelAgent[] = agents.map((a) => ({
    p: a.accuracy,
    weight: weight(a),
    tieScore: chain === "CONFIDENCE_WEIGHTED" ? a.accuracy : repOf(a),
  }));
  return panelAccuracy(panel, chain === "CONFIDENCE_WEIGHTED" || chain === "REPUTATION_WEIGHTED");
}

interface EarlyStopRow {
  mode: string;
  accuracy: number;
  calls: number;
  saved: number;
}

async function earlyStop(kind: StoreKind): Promise<{ rows: EarlyStopRow[]; agree: number }> {
  const drafts = (mode: string): RunDraft[] =>
    Array.from({ length: RUNS }, (_, i) => ({
      run_id: `es-${i}`,
      task_type: "early-stop",
      truth: truthOf(i),
      agents: agentsOf("agent-", 9, 0.8),
      aggregation: { mode },
    }));
  const results: Record<string, Awaited<ReturnType<typeof outcomes>>> = {};
  for (const mode of ["all_done", "early_stop"]) {
    const store: Store = await freshStore(kind, `q_es_${mode}_${kind}`);
    // One call at a time, as a panel answering in sequence: what early stop can save is then visible.
    const ms = await runAll(store, drafts(mode), mode === "early_stop" ? 1 : 64);
    log(`[${kind}] ${mode}: ${RUNS} runs in ${(ms / 1000).toFixed(1)} s`);
    results[mode] = await outcomes(store, drafts(mode));
    await store.close();
  }
  const all = results.all_done ?? [];
  const stop = results.early_stop ?? [];
  const total = (xs: typeof all) => xs.reduce((s, o) => s + o.calls, 0);
  const rows = [
    { mode: "all_done", accuracy: accuracy(all), calls: total(all), saved: 0 },
    { mode: "early_stop", accuracy: accuracy(stop), calls: total(stop), saved: 1 - total(stop) / total(all) },
  ];
  const agree = stop.filter((o, i) => o.decision === all[i]?.decision).length;
  return { rows, agree };
}

async function main(): Promise<void> {
  const started = Date.now();
  const grid: Record<string, Map<string, { accuracy: number; votes: number }>> = {};
  const mixed: Record<string, Awaited<ReturnType<typeof mixedPanel>>> = {};
  const es: Record<string, Awaited<ReturnType<typeof earlyStop>>> = {};
  for (const kind of KINDS) {
    grid[kind] = await majorityGrid(kind);
    mixed[kind] = await mixedPanel(kind);
    es[kind] = await earlyStop(kind);
  }
  const majorityRows: MajorityRow[] = [];
  for (const n of [1, 3, 5, 9, 15]) {
    for (const p of [0.6, 0.7, 0.8]) {
      const measured: Record<string, number> = {};
      for (const kind of KINDS) measured[kind] = grid[kind]?.get(`maj-n${n}-p${p}`)?.accuracy ?? 0;
      const voteAccuracy = grid[KINDS[0] ?? "sqlite"]?.get(`maj-n${n}-p${p}`)?.votes ?? 0;
      majorityRows.push({ n, p, runs: RUNS, measured, voteAccuracy });
    }
  }
  const predictedSaved = 1 - expectedEarlyStopCalls(9, 0.8) / 9;
  const doc = [
    "# Decision quality: measured",
    "",
    `Generated by \`bench/decision-quality.ts\` (${new Date().toISOString().slice(0, 10)}, ${((Date.now() - started) / 1000).toFixed(0)} s${quick ? ", --quick" : ""}).`,
    "Every number comes from real runs: specs submitted to the store, `sim` agents (SPEC §8.1) of known accuracy",
    "called by an in-process worker, results aggregated and finalized by the kernel, on both stores. Two options",
    "(`A`, `B`); the truth alternates between them; sim draws are deterministic per (run_id, agent, round, attempt).",
    "",
    "Reproduce (PostgreSQL at `WATTSWARM_BENCH_PG_URL`, default `postgres://postgres@127.0.0.1:5432/test`, in",
    "`wattswarm_bench_*` schemas; SQLite in temp files):",
    "",
    "```sh",
    "npm ci",
    "npm run bench:quality            # writes docs/decision-quality.md and docs/decision-quality.svg",
    "npm run bench:quality -- --quick # 100 runs per case, prints only",
    "```",
    "",
    `## Majority vote against the binomial (Condorcet) prediction`,
    "",
    `N agents of accuracy p, plain majority (\`vote_weight: spec\`), ${RUNS} runs per cell. Prediction:`,
    "P(more than N/2 of N are right). Both stores process the same run_ids, so they see the same draws.",
    "",
    majorityTable(majorityRows, KINDS),
    "",
    "![Majority accuracy against N](decision-quality.svg)",
    "",
    "## Weighting by confidence and by reputation, when agents differ",
    "",
    `Two strong agents (accuracy ${STRONG}, reported confidence ${STRONG}) and weak ones (${WEAK}). Reputation:`,
    `${TRAIN} earlier runs of the same panel, each followed by \`run feedback --correct <truth>\`; units then`,
    "come from the knowledge store (no `agent_reputation_units` in the spec). *Measured*: independent runs",
    "under that policy. *Same draws*: the majority runs re-aggregated under that policy with",
    "`run reaggregate --policy … --live-reputation` (no agent called). *Predicted*: exact enumeration of the",
    "panel's outcomes with those weights.",
    "",
    ...KINDS.flatMap((kind) => {
      const m = mixed[kind];
      if (!m) return [];
      return [
        `### ${kind}`,
        "",
        `Learned units (task type \`mixed\`): ${Object.entries(m.units)
          .map(([a, u]) => `${a} ${u}`)
          .join(", ")}.`,
        "",
        "| panel | policy | measured | same draws, re-aggregated | predicted |",
        "|---|---|---|---|---|",
        ...m.rows.map(
          (r) =>
            `| ${r.panel} | ${r.policy} | ${pct(r.measured)} | ${r.paired === null ? "—" : pct(r.paired)} | ${pct(r.predicted)} |`,
        ),
        "",
      ];
    }),
    "Tie resolvers act only on ties (SPEC §5.2): on the five-agent panel (no ties with two options) only",
    "`vote_weight` lets confidence or reputation outweigh the majority; on the four-agent panel a 2–2 split is",
    "a tie, and the chain decides it.",
    "",
    "## Early stop against all_done",
    "",
    `N = 9 agents of accuracy 0.8, ${RUNS} runs, the same run_ids (so the same votes) in two stores. The early-stop`,
    "worker takes one call at a time (concurrency 1), like a panel answering in sequence; all_done runs every",
    `agent. Predicted saving ("first to 5 of 9"): ${pct(predictedSaved)} of the calls.`,
    "",
    "| store | mode | accuracy | completed agent calls | saved | same decision as all_done |",
    "|---|---|---|---|---|---|",
    ...KINDS.flatMap((kind) =>
      (es[kind]?.rows ?? []).map(
        (r) =>
          `| ${kind} | ${r.mode} | ${pct(r.accuracy)} | ${r.calls} | ${r.mode === "all_done" ? "—" : pct(r.saved)} | ${r.mode === "all_done" ? "—" : `${es[kind]?.agree}/${RUNS}`} |`,
      ),
    ),
    "",
    "Early stop never changes the decision: it stops only when the leader can be neither overtaken nor tied.",
    `Standard error of the accuracy at ${RUNS} runs: about ${pct(standardError(0.98, RUNS))}.`,
    "",
  ].join("\n");
  process.stdout.write(`${doc}\n`);
  if (write) {
    writeFileSync(new URL("../docs/decision-quality.md", import.meta.url), doc);
    writeFileSync(
      new URL("../docs/decision-quality.svg", import.meta.url),
      majoritySvg(majorityRows, KINDS[0] ?? "sqlite"),
    );
    log("wrote docs/decision-quality.md and docs/decision-quality.svg");
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
