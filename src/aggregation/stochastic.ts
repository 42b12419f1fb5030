// The STOCHASTIC tie-break (SPEC §5.3): a hash no agent can steer, reproducible from the trace alone.
import { createHash } from "node:crypto";
import type { VoteOn } from "../spec/types.js";

export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export interface StochasticPick {
  winner: string;
  index: number;
  seed: string;
  /** The candidates in the order the index refers to (sorted by UTF-8 bytes). */
  candidates: string[];
}

export function stochasticPick(
  runId: string,
  bucket: VoteOn,
  candidates: readonly string[],
  salt?: string,
): StochasticPick {
  if (candidates.length === 0) throw new Error("stochasticPick needs at least one candidate");
  const sorted = [...candidates].sort(compareUtf8);
  const seed = `${salt !== undefined ? `${salt}:` : ""}${runId}:${bucket}:${sorted.join("|")}`;
  const hex = createHash("sha256").update(seed, "utf8").digest("hex").slice(0, 16);
  const index = Number(BigInt(`0x${hex}`) % BigInt(sorted.length));
  return { winner: sorted[index] as string, index, seed, candidates: sorted };
}
