// The exact predictions the decision-quality benchmark compares its measurements with. Pure math, unit-tested
// (test/bench/quality-math.test.ts).

function choose(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/**
 * P(plain majority is right) for n independent agents of accuracy p on two options (Condorcet). An even n
 * can tie; a tie goes to STOCHASTIC, which is right half the time.
 */
export function majorityAccuracy(n: number, p: number): number {
  let total = 0;
  for (let k = 0; k <= n; k++) {
    const pk = choose(n, k) * p ** k * (1 - p) ** (n - k);
    if (2 * k > n) total += pk;
    else if (2 * k === n) total += pk / 2;
  }
  return total;
}

export interface PanelAgent {
  /** P(the agent votes for the truth). */
  p: number;
  /** Its vote weight. */
  weight: number;
  /** Its score for a tie-break (confidence, reputation units…); ties-of-ties go to STOCHASTIC. */
  tieScore?: number;
}

/**
 * P(right) of a weighted two-option vote, by enumerating every outcome: the heavier side wins; on equal weight
 * the side with the larger summed tieScore wins when `tieBreak`, else (or on equal scores) a coin flip.
 */
export function panelAccuracy(agents: readonly PanelAgent[], tieBreak = false): number {
  let total = 0;
  const eps = 1e-9;
  for (let mask = 0; mask < 1 << agents.length; mask++) {
    let prob = 1;
    let right = 0;
    let wrong = 0;
    let rightScore = 0;
    let wrongScore = 0;
    agents.forEach((a, i) => {
      const isRight = (mask >> i) & 1;
      prob *= isRight ? a.p : 1 - a.p;
      if (isRight) {
        right += a.weight;
        rightScore += a.tieScore ?? 0;
      } else {
        wrong += a.weight;
        wrongScore += a.tieScore ?? 0;
      }
    });
    if (right - wrong > eps) total += prob;
    else if (Math.abs(right - wrong) <= eps) {
      if (!tieBreak || Math.abs(rightScore - wrongScore) <= eps) total += prob / 2;
      else if (rightScore > wrongScore) total += prob;
    }
  }
  return total;
}

/**
 * Expected agent calls when n agents of accuracy p answer one at a time and the run stops as soon as one of
 * two options has a strict majority of n (it can no longer be caught): "first to ⌈(n+1)/2⌉".
 */
export function expectedEarlyStopCalls(n: number, p: number): number {
  const need = Math.floor(n / 2) + 1;
  let expected = 0;
  // P(stop exactly at call t): the t-th call gives one side its `need`-th vote.
  for (let t = need; t <= n; t++) {
    for (const q of [p, 1 - p]) {
      // need-1 of the first t-1 calls went to this side, and fewer than `need` to the other.
      const other = t - need;
      if (other >= need) continue;
      expected += t * choose(t - 1, need - 1) * q ** need * (1 - q) ** other;
    }
  }
  return expected;
}

/** The standard error of a measured proportion. */
export function standardError(q: number, n: number): number {
  return Math.sqrt((q * (1 - q)) / n);
}
