-- 002_attempts_finished_index: `/metrics` reads the attempts closed since its previous scrape (finished_at >= T),
-- so that read is a range scan instead of a scan of the whole attempt history (issue 15, defect 9).
-- Partial: an attempt is inserted RUNNING with finished_at NULL and gets its one entry when it is closed.
-- A plain CREATE INDEX (migrations run in a transaction): on a large existing table it holds writes to
-- run_step_attempts until the build ends (docs/operations.md, "Upgrades").

CREATE INDEX run_step_attempts_finished_idx ON run_step_attempts (finished_at) WHERE finished_at IS NOT NULL;
