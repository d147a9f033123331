-- One alert per rule and model version while its condition holds, instead of one per
-- window. While drift persisted, every new window used to open its own alert for each
-- failing rule (the demo ended with 6 open alerts for 3 rules); now a failing window joins
-- the open alert of its version and rule, which keeps the severity, value and message of
-- its latest window. `alert_windows` lists every window in which an alert's rule failed,
-- so re-evaluating a window (when its labels arrive) never counts it twice.
--
-- Existing alerts keep the one window they were opened for.

CREATE TABLE alert_windows (
    alert_id  INTEGER NOT NULL REFERENCES alerts (id),
    window_id INTEGER NOT NULL REFERENCES monitor_windows (id),
    severity  TEXT NOT NULL CHECK (severity IN ('warning', 'critical')),
    value     REAL,
    message   TEXT NOT NULL,
    seen_at   REAL NOT NULL,
    PRIMARY KEY (alert_id, window_id)
);
CREATE INDEX alert_windows_window ON alert_windows (window_id);

ALTER TABLE alerts ADD COLUMN last_window_id INTEGER REFERENCES monitor_windows (id);

INSERT INTO alert_windows (alert_id, window_id, severity, value, message, seen_at)
    SELECT id, window_id, severity, value, message, opened_at FROM alerts;
UPDATE alerts SET last_window_id = window_id;
