-- 005_claim_in_claim_order: on PostgreSQL, claimable_steps() makes a claim walk run_steps_claim_idx in claim
-- order whatever the planner's statistics say. SQLite's planner already walks that index for the claim's ORDER
-- BY (test/store/claim-plan.test.ts checks it). Nothing to do here; the version keeps both dialects' migration
-- lists equal.
SELECT 1;
