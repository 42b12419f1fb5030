// "Did you mean …?" for unknown keys and enum values. A typo in a spec should cost one glance, not a trip
// to the docs, so every unknown name is compared with the names that are allowed at that place.

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions (`agnet` → `agent` is 1). */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prevPrev: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, prevPrev[j - 2]! + 1);
      cur.push(d);
    }
    prevPrev = prev;
    prev = cur;
  }
  return prev[b.length]!;
}

// Separators and case carry no meaning in these names: `all-done`, `All_Done` and `alldone` all mean all_done.
function loose(s: string): string {
  return s.toLowerCase().replace(/[\s_.-]/g, "");
}

/**
 * The closest allowed name, or undefined when nothing is close enough to be a plausible typo.
 * Long inputs are never compared (a 64 KiB key is not a typo and the distance would be quadratic).
 */
export function suggest(input: string, candidates: readonly string[]): string | undefined {
  if (input.length === 0 || input.length > 200) return undefined;
  const wanted = loose(input);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    if (candidate === input) continue;
    const l = loose(candidate);
    if (l === wanted) return candidate;
    const d = editDistance(wanted, l);
    // Short names tolerate one edit, longer ones proportionally more, and never half the name: beyond that
    // a guess misleads (`x` is not a typo of `a`).
    const limit = Math.min(
      l.length <= 4 ? 1 : l.length <= 8 ? 2 : 3,
      Math.floor(Math.max(wanted.length, l.length) / 2),
    );
    if (d <= limit && d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** ` (did you mean X?)` or the empty string, ready to append to a message. */
export function didYouMean(input: string, candidates: readonly string[]): string {
  const s = suggest(input, candidates);
  return s === undefined ? "" : ` (did you mean ${s}?)`;
}
