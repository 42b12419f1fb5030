-- 006_history_without_foreign_keys: on PostgreSQL, run_step_attempts and run_events drop their foreign keys
-- (a trigger and a FOR KEY SHARE row lock per inserted row). SQLite keeps them: they are part of the tables,
-- rebuilding a table needs foreign keys switched off, which SQLite refuses inside the transaction a migration
-- runs in, and its checks take no row locks; its cascade still deletes a pruned run's attempts and events.
-- Nothing to do here; the version keeps both dialects' migration lists equal.
SELECT 1;
