// SPEC §5.6 early_stop: checkEarlyStop.
import { describe, expect, it } from "vitest";
import { checkEarlyStop } from "../../src/aggregation/index.js";
import {
  type AgentInit,
  active,
  failed,
  makeInput,
  makeSpec,
  type PolicyOverrides,
  step,
  vote,
} from "../support/aggregation.js";

const five = ["a", "b", "c", "d", "e"];
const es = (policy: PolicyOverrides = {}, agents: AgentInit[] = five) =>
  makeSpec({ agents, aggregation: { mode: "early_stop", ...policy } });

describe("checkEarlyStop", () => {
  it("stops when the leader cannot be overtaken nor tied", () => {
    const input = makeInput(es(), [
      vote("a", "A"),
      vote("b", "A"),
      vote("c", "A"),
      active("d"),
      active("e", "LEASED"),
    ]);
    expect(checkEarlyStop(input)).toEqual({
      stop: true,
      leader: "A",
      leader_weight: 3,
      runner_up_weight: 0,
      remaining_weight: 2,
    });
  });

  it("does not stop while the remaining steps could overturn the leader", () => {
    const input = makeInput(es(), [vote("a", "A"), vote("b", "A"), vote("c", "B"), active("d"), active("e")]);
    expect(checkEarlyStop(input)).toEqual({
      stop: false,
      leader: "A",
      leader_weight: 2,
      runner_up_weight: 1,
      remaining_weight: 2,
    });
  });

  it("does not stop when the remaining steps could exactly tie", () => {
    const spec = es({}, ["a", "b", "c", "d"]);
    const r = checkEarlyStop(
      makeInput(spec, [vote("a", "A"), vote("b", "A"), active("c"), active("d", "RETRY_WAIT")]),
    );
    expect(r).toMatchObject({
      stop: false,
      leader: "A",
      leader_weight: 2,
      runner_up_weight: 0,
      remaining_weight: 2,
    });
  });

  it("every active status counts towards the remaining weight; finished ones do not", () => {
    const spec = es({}, ["a", "b", "c", "d", "e", "f", "g", "h"]);
    const steps = [
      vote("a", "A"),
      active("b", "CREATED"),
      active("c", "QUEUED"),
      active("d", "LEASED"),
      active("e", "RETRY_WAIT"),
      failed("f"),
      step("g", "CANCELLED"),
      vote("h", ""),
    ];
    expect(checkEarlyStop(makeInput(spec, steps)).remaining_weight).toBe(4);
  });

  it("uses agent weights for the leader and for the remaining steps", () => {
    const spec = es({}, [{ agent_id: "a", weight: 2 }, "b", "c", { agent_id: "d", weight: 1.5 }]);
    const stop = checkEarlyStop(
      makeInput(spec, [vote("a", "A"), vote("b", "A"), vote("c", "B"), active("d")]),
    );
    expect(stop).toEqual({
      stop: true,
      leader: "A",
      leader_weight: 3,
      runner_up_weight: 1,
      remaining_weight: 1.5,
    });
    const spec2 = es({}, [{ agent_id: "a", weight: 2 }, "b", "c", { agent_id: "d", weight: 2 }]);
    expect(
      checkEarlyStop(makeInput(spec2, [vote("a", "A"), vote("b", "A"), vote("c", "B"), active("d")])).stop,
    ).toBe(false);
  });

  it("vote_weight confidence: votes weigh their confidence, remaining steps count confidence as 1", () => {
    const spec = es({ vote_weight: "confidence" });
    const steps = [
      vote("a", "A", { confidence: 0.5 }),
      vote("b", "A", { confidence: 0.5 }),
      vote("c", "A", { confidence: 0.5 }),
    ];
    expect(
      checkEarlyStop(makeInput(spec, [...steps, active("d"), vote("e", "B", { confidence: 0 })])),
    ).toEqual({
      stop: true,
      leader: "A",
      leader_weight: 1.5,
      runner_up_weight: 0,
      remaining_weight: 1,
    });
    expect(checkEarlyStop(makeInput(spec, [...steps, active("d"), active("e")]))).toMatchObject({
      stop: false,
      remaining_weight: 2,
    });
  });

  it("vote_weight reputation: remaining steps count weight × units/1000", () => {
    const mk = (eUnits: number) =>
      es({
        vote_weight: "reputation",
        tie_policy: {
          reputation_weighted: { agent_reputation_units: { a: 1000, b: 1000, c: 1000, d: 500, e: eUnits } },
        },
      });
    const steps = [vote("a", "A"), vote("b", "A"), vote("c", "A"), active("d"), active("e")];
    expect(checkEarlyStop(makeInput(mk(2000), steps))).toEqual({
      stop: true,
      leader: "A",
      leader_weight: 3,
      runner_up_weight: 0,
      remaining_weight: 2.5,
    });
    expect(checkEarlyStop(makeInput(mk(3000), steps))).toMatchObject({ stop: false, remaining_weight: 3.5 });
  });

  it("vote_weight reputation from the store snapshot (missing agents: 500)", () => {
    const spec = es({ vote_weight: "reputation" });
    const input = makeInput(spec, [vote("a", "A"), vote("b", "A"), active("c"), active("d"), active("e")], {
      reputation_units: { a: 1000, b: 1000, c: 100 },
    });
    const r = checkEarlyStop(input);
    expect(r).toMatchObject({ stop: true, leader: "A", leader_weight: 2, runner_up_weight: 0 });
    expect(r.remaining_weight).toBeCloseTo(1.1, 12);
  });

  it("does not stop when the leader misses the quorum", () => {
    const spec = es({ quorum: 3 }, ["a", "b", "c", "d"]);
    const r = checkEarlyStop(makeInput(spec, [vote("a", "A"), vote("b", "A"), failed("c"), active("d")]));
    expect(r).toMatchObject({ stop: false, leader: "A", leader_weight: 2, remaining_weight: 1 });
  });

  it("stops once the leader meets the quorum", () => {
    const spec = es({ quorum: 3 });
    const r = checkEarlyStop(
      makeInput(spec, [vote("a", "A"), vote("b", "A"), vote("c", "A"), active("d"), active("e")]),
    );
    expect(r.stop).toBe(true);
  });

  it("picks the leader ignoring the quorum; an ineligible runner-up still counts", () => {
    const spec = es({ quorum: 2 }, [{ agent_id: "a", weight: 3 }, "b", "c", "d"]);
    const r = checkEarlyStop(makeInput(spec, [vote("a", "B"), vote("b", "A"), vote("c", "A"), active("d")]));
    expect(r).toEqual({
      stop: false,
      leader: "B",
      leader_weight: 3,
      runner_up_weight: 2,
      remaining_weight: 1,
    });
    const spec2 = es({ quorum: 1 }, [{ agent_id: "a", weight: 5 }, "b", "c", "d"]);
    const r2 = checkEarlyStop(
      makeInput(spec2, [vote("a", "B"), vote("b", "A"), vote("c", "A"), active("d")]),
    );
    expect(r2).toEqual({
      stop: true,
      leader: "B",
      leader_weight: 5,
      runner_up_weight: 2,
      remaining_weight: 1,
    });
  });

  it("never stops in all_done mode", () => {
    const spec = makeSpec({ agents: five });
    const r = checkEarlyStop(
      makeInput(spec, [vote("a", "A"), vote("b", "A"), vote("c", "A"), vote("d", "A"), active("e")]),
    );
    expect(r.stop).toBe(false);
  });

  it("never stops without active steps", () => {
    const r = checkEarlyStop(
      makeInput(es(), [vote("a", "A"), vote("b", "A"), vote("c", "A"), failed("d"), failed("e")]),
    );
    expect(r).toMatchObject({ stop: false, leader: "A", remaining_weight: 0 });
  });

  it("reports no leader when nobody voted yet", () => {
    const r = checkEarlyStop(
      makeInput(es(), [failed("a"), active("b"), active("c"), active("d"), active("e")]),
    );
    expect(r).toEqual({
      stop: false,
      leader: null,
      leader_weight: 0,
      runner_up_weight: 0,
      remaining_weight: 4,
    });
  });

  it("is off in rounds ≥ 2 when the starting chain requires new evidence", () => {
    const steps = [vote("a", "A"), vote("b", "A"), vote("c", "A"), vote("d", "A"), active("e")];
    const reexplores = [{ chain: "TIE" as const, new_evidence_agents: ["a", "b"] }];
    expect(checkEarlyStop(makeInput(es(), steps, { reexplores })).stop).toBe(false);
    const relaxed = es({ tie_policy: { reexplore: { require_new_evidence: false } } });
    expect(checkEarlyStop(makeInput(relaxed, steps, { reexplores })).stop).toBe(true);
    const nullStarted = [{ chain: "NULL" as const, new_evidence_agents: [] }];
    expect(checkEarlyStop(makeInput(relaxed, steps, { reexplores: nullStarted })).stop).toBe(false);
  });

  it("ε: a margin of 0.1 + 0.2 over a remaining 0.3 is not enough", () => {
    const spec = es({}, [
      { agent_id: "a", weight: 0.1 },
      { agent_id: "b", weight: 0.2 },
      { agent_id: "c", weight: 0.3 },
    ]);
    const r = checkEarlyStop(makeInput(spec, [vote("a", "A"), vote("b", "A"), active("c")]));
    expect(r.stop).toBe(false);
    expect(r.leader_weight).toBeCloseTo(0.3, 12);
    expect(r.remaining_weight).toBe(0.3);
  });
});
