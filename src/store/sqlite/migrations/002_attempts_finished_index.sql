-- 002_attempts_finished_index: `/metrics` reads the attempts closed since its previous scrape (finished_at >= T),
-- so that read is a range search instead of a scan of the whole attempt history (issue 15, defect 9).
-- Partial: an attempt is inserted RUNNING with finished_at NULL and gets its one entry when it is closed.

CREATE INDEX run_step_attempts_finished_idx ON run_step_attempts (finished_at) WHERE finished_at IS NOT NULL;
