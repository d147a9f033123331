"""Monitoring: served traffic reduced to windows, judged, alerted on and retrained from.

`references` profiles a version's training data once, `ingest` turns logs and batch files
into windows through the pure reductions of `windows` (`drift_tests`, `cbpe`), `alerts`
applies the rules, `status` stores windows and answers what the app and `monitor status`
ask, `promotion` adds live evidence to the registry's gates, `retraining` closes the loop.
"""
