// docs/decision-quality.md and its SVG chart, from the benchmark's measurements.
import { majorityAccuracy, standardError } from "./quality-math.js";

export interface MajorityRow {
  n: number;
  p: number;
  runs: number;
  measured: Record<string, number>;
  /** The share of all votes in the cell that were right: the agents' realized accuracy. */
  voteAccuracy: number;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function majorityTable(rows: readonly MajorityRow[], kinds: readonly string[]): string {
  const head = `| N | p | runs | ${kinds.map((k) => `measured (${k})`).join(" | ")} | binomial at p | z | agents' realized accuracy | binomial at realized accuracy |`;
  const lines = [head, `|${"---|".repeat(8 + kinds.length - 1)}`];
  let outside2 = 0;
  let maxZ = 0;
  for (const r of rows) {
    const q = majorityAccuracy(r.n, r.p);
    const se = standardError(q, r.runs);
    const measured = r.measured[kinds[0] ?? ""] ?? 0;
    const z = se === 0 ? 0 : (measured - q) / se;
    if (Math.abs(z) > 2) outside2 += 1;
    maxZ = Math.max(maxZ, Math.abs(z));
    lines.push(
      `| ${r.n} | ${r.p} | ${r.runs} | ${kinds.map((k) => pct(r.measured[k] ?? 0)).join(" | ")} | ${pct(q)} | ${z.toFixed(2)} | ${pct(r.voteAccuracy)} | ${pct(majorityAccuracy(r.n, r.voteAccuracy))} |`,
    );
  }
  lines.push(
    "",
    `z = (measured − prediction) / standard error over ${rows[0]?.runs ?? 0} runs. ${outside2} of ${rows.length} cells are outside ±2σ ` +
      `(about ${(rows.length * 0.0455).toFixed(1)} expected by chance), the largest |z| is ${maxZ.toFixed(2)}. Where a cell ` +
      "strays, its agents' realized accuracy (the share of right votes in that cell's draws) strayed with it: " +
      "the binomial at the realized accuracy tracks the measurement.",
  );
  return lines.join("\n");
}

/** Accuracy against N, one colour per p: measured points (first store kind) over the binomial curve. */
export function majoritySvg(rows: readonly MajorityRow[], kind: string): string {
  const W = 640;
  const H = 400;
  const m = { l: 60, r: 150, t: 30, b: 50 };
  const ns = [...new Set(rows.map((r) => r.n))].sort((a, b) => a - b);
  const ps = [...new Set(rows.map((r) => r.p))].sort();
  const maxN = Math.max(...ns);
  const x = (n: number) => m.l + ((n - 1) / (maxN - 1 || 1)) * (W - m.l - m.r);
  const y = (q: number) => m.t + (1 - (q - 0.5) / 0.5) * (H - m.t - m.b);
  const colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - 60}" y="18" font-size="14">Majority-vote accuracy (${kind})</text>`,
  ];
  for (let q = 0.5; q <= 1.0001; q += 0.1) {
    out.push(
      `<line x1="${m.l}" y1="${y(q)}" x2="${W - m.r}" y2="${y(q)}" stroke="#ddd"/>`,
      `<text x="${m.l - 40}" y="${y(q) + 4}">${Math.round(q * 100)}%</text>`,
    );
  }
  for (const n of ns) out.push(`<text x="${x(n) - 4}" y="${H - m.b + 18}">${n}</text>`);
  out.push(`<text x="${(W - m.r) / 2}" y="${H - 12}">agents (N)</text>`);
  ps.forEach((p, i) => {
    const c = colours[i % colours.length];
    const curve: string[] = [];
    for (let n = 1; n <= maxN; n += 2)
      curve.push(`${x(n).toFixed(1)},${y(majorityAccuracy(n, p)).toFixed(1)}`);
    out.push(
      `<polyline points="${curve.join(" ")}" fill="none" stroke="${c}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
    );
    for (const r of rows.filter((row) => row.p === p)) {
      out.push(
        `<circle cx="${x(r.n).toFixed(1)}" cy="${y(r.measured[kind] ?? 0).toFixed(1)}" r="4" fill="${c}"/>`,
      );
    }
    const ly = m.t + 20 + i * 22;
    out.push(
      `<circle cx="${W - m.r + 20}" cy="${ly}" r="4" fill="${c}"/>`,
      `<text x="${W - m.r + 30}" y="${ly + 4}">p = ${p}</text>`,
    );
  });
  const ly = m.t + 20 + ps.length * 22;
  out.push(
    `<line x1="${W - m.r + 12}" y1="${ly}" x2="${W - m.r + 28}" y2="${ly}" stroke="#555" stroke-dasharray="4 3"/>`,
    `<text x="${W - m.r + 30}" y="${ly + 4}">binomial</text>`,
    `<circle cx="${W - m.r + 20}" cy="${ly + 22}" r="4" fill="#555"/>`,
    `<text x="${W - m.r + 30}" y="${ly + 26}">measured</text>`,
    "</svg>",
  );
  return `${out.join("\n")}\n`;
}

export { pct };
