-- 004_steps_without_agent_index: on PostgreSQL, run_steps drops its unique index on (run_id, agent_id), which
-- no query reads and every claim and completion wrote to. SQLite keeps it: the constraint is part of the table,
-- and rebuilding run_steps would need foreign keys switched off, which SQLite refuses inside the transaction a
-- migration runs in. Nothing to do here; the version keeps both dialects' migration lists equal.
SELECT 1;
