-- Failed requests flushed after their window closed (the log writer stalled longer than
-- the grace period) were dropped without a trace; they are now counted in `late_errors`,
-- as late predictions are in `late_rows`. A request_errors row written since the last
-- ingest (id above `error_id_seen`) whose errors fall in windows already closed is late.
-- Existing cursors have seen every row there is.

ALTER TABLE monitor_cursors ADD COLUMN error_id_seen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE monitor_cursors ADD COLUMN late_errors INTEGER NOT NULL DEFAULT 0;
UPDATE monitor_cursors SET error_id_seen = coalesce(
    (SELECT max(id) FROM request_errors r WHERE r.deployment_id = monitor_cursors.deployment_id), 0);
