"""Runs Evidently's DataDriftPreset on two Parquet files and prints timing and verdicts as JSON.

Executed by benchmarks/kernels.py inside benchmarks/.envs/evidently (pandas 2.3), never
in pitboard's own environment. Usage: python evidently_drift.py REFERENCE.parquet CURRENT.parquet
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def main(reference_path: str, current_path: str) -> None:
    reference = pd.read_parquet(reference_path)
    current = pd.read_parquet(current_path)
    definition = DataDefinition(numerical_columns=list(reference.columns))
    started = time.perf_counter()
    ref = Dataset.from_pandas(reference, data_definition=definition)
    cur = Dataset.from_pandas(current, data_definition=definition)
    result = Report([DataDriftPreset()]).run(cur, ref)
    seconds = time.perf_counter() - started
    verdicts = {}
    for metric in result.dict()["metrics"]:
        config = metric.get("config", {})
        column = config.get("column")
        if config.get("type", "").endswith("ValueDrift") and column is not None:
            verdicts[column] = {"score": float(metric["value"]), "method": config.get("method")}
    thresholds = {m["config"]["column"]: m["config"].get("threshold") for m in result.dict()["metrics"] if m.get("config", {}).get("column")}
    print(json.dumps({"seconds": seconds, "columns": verdicts, "thresholds": thresholds}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
