-- A run's fairness on its holdout (issue 19): per [fairness] attribute of its spec, each
-- group's size and rates and the disparities between the judged groups, as JSON.
-- NULL for runs whose spec names no attribute (and every run before this migration).
ALTER TABLE runs ADD COLUMN fairness TEXT;
