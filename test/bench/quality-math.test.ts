import { describe, expect, it } from "vitest";
import {
  expectedEarlyStopCalls,
  majorityAccuracy,
  panelAccuracy,
  standardError,
} from "../../bench/quality-math.js";

describe("decision-quality predictions", () => {
  it("majority accuracy is the binomial tail; even panels split ties evenly", () => {
    expect(majorityAccuracy(1, 0.7)).toBeCloseTo(0.7, 12);
    expect(majorityAccuracy(3, 0.7)).toBeCloseTo(0.784, 12); // 3·0.49·0.3 + 0.343
    expect(majorityAccuracy(2, 0.7)).toBeCloseTo(0.49 + 0.42 / 2, 12);
    expect(majorityAccuracy(9, 0.8)).toBeCloseTo(0.980419, 6);
    expect(majorityAccuracy(15, 0.5)).toBeCloseTo(0.5, 12);
  });

  it("a weighted panel with equal weights is plain majority", () => {
    const agents = Array.from({ length: 5 }, () => ({ p: 0.6, weight: 1 }));
    expect(panelAccuracy(agents)).toBeCloseTo(majorityAccuracy(5, 0.6), 12);
  });

  it("weights and tie scores matter: two strong agents outvote three weak ones when heavy enough", () => {
    const strong = { p: 0.9, weight: 0.9, tieScore: 0.9 };
    const weak = { p: 0.55, weight: 0.55, tieScore: 0.55 };
    const weighted = panelAccuracy([strong, strong, weak, weak, weak]);
    // Both strong agree: they win (1.8 > 1.65); they split: the three weak decide.
    expect(weighted).toBeCloseTo(0.81 + 0.18 * majorityAccuracy(3, 0.55), 12);
    const tie = [strong, strong, weak, weak].map((a) => ({ ...a, weight: 1 }));
    expect(panelAccuracy(tie, true)).toBeGreaterThan(panelAccuracy(tie, false));
  });

  it("early stop: n calls for one agent; first to 5 of 9 at p = 0.8 takes about 6.2 calls", () => {
    expect(expectedEarlyStopCalls(1, 0.8)).toBeCloseTo(1, 12);
    expect(expectedEarlyStopCalls(3, 1)).toBeCloseTo(2, 12);
    const calls = expectedEarlyStopCalls(9, 0.8);
    expect(1 - calls / 9).toBeGreaterThan(0.29);
    expect(1 - calls / 9).toBeLessThan(0.33);
    expect(standardError(0.5, 100)).toBeCloseTo(0.05, 12);
  });
});
