// The store + kernel conformance suite (DESIGN §3): one set of tests that every store adapter must pass, in
// the spirit of River's riverdrivertest. Each adapter's test file calls `runConformanceSuite` with a factory
// of migrated stores; the topics live in their own files.
import { afterEach, describe } from "vitest";
import type { Store } from "../../src/store/port.js";
import { batchTests } from "./batch.js";
import { cancelRetryTests } from "./cancel-retry.js";
import { claimTests } from "./claims.js";
import { completionTests } from "./completion.js";
import { completionCostTests, expectActiveCounts } from "./completion-cost.js";
import { concurrencyTests } from "./concurrency.js";
import { earlyStopTests } from "./early-stop.js";
import { eventTests } from "./events.js";
import { guardTests } from "./guards.js";
import type { MakeStore, SuiteContext } from "./harness.js";
import { knowledgeTests } from "./knowledge.js";
import { leaseTests } from "./leases.js";
import { lifecycleTests } from "./lifecycle.js";
import { portTests } from "./port.js";
import { pruneTests } from "./prune.js";
import { reaggregateTests } from "./reaggregate.js";
import { reexploreTests } from "./reexplore.js";
import { shapeTests } from "./shapes.js";
import { sweepTests } from "./sweep.js";
import { unsettledRunTests } from "./unsettled.js";

export type { MakeStore } from "./harness.js";

export function runConformanceSuite(name: string, makeStore: MakeStore): void {
  describe(`store conformance: ${name}`, () => {
    const opened: Store[] = [];
    afterEach(async () => {
      const stores = opened.splice(0);
      try {
        // Whatever a test did, each run's active_steps still counts its active steps.
        for (const s of stores) await expectActiveCounts(s);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });
    const track = async (store: Promise<Store>): Promise<Store> => {
      const s = await store;
      opened.push(s);
      return s;
    };
    const ctx: SuiteContext = {
      fresh: () => track(makeStore()),
      peer: (store) => track(makeStore({ sameAs: store })),
    };
    describe("the port: each RunTx operation on its own", () => portTests(ctx));
    describe("submit and kickoff", () => lifecycleTests(ctx));
    describe("claims", () => claimTests(ctx));
    describe("completion and finalization", () => completionTests(ctx));
    describe("what a completion costs its run", () => completionCostTests(ctx));
    describe("leases: fencing, expiry, heartbeat, release", () => leaseTests(ctx));
    describe("cancel and retry", () => cancelRetryTests(ctx));
    describe("re-explore rounds", () => reexploreTests(ctx));
    describe("events", () => eventTests(ctx));
    describe("concurrency", () => concurrencyTests(ctx));
    describe("record and view shapes", () => shapeTests(ctx));
    describe("knowledge store: reputation and feedback", () => knowledgeTests(ctx));
    describe("re-aggregation", () => reaggregateTests(ctx));
    describe("early stop", () => earlyStopTests(ctx));
    describe("batched completion (group commit)", () => batchTests(ctx));
    describe("retention: prune", () => pruneTests(ctx));
    describe("runs that cannot be settled", () => unsettledRunTests(ctx));
    describe("lease sweeps, cancel and re-explore: set-based", () => sweepTests(ctx));
    describe("guarded updates report a mismatch", () => guardTests(ctx));
  });
}
