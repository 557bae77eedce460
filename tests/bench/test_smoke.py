"""The whole bench, tiny: one leaked cluster at a very high time-scale; every figure lands in the JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.run import main


@pytest.mark.filterwarnings("ignore")  # openstacksdk's own deprecation notices, many per request
def test_one_cluster_bench_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results"
    code = main(["--clusters", "1", "--live", "1", "--time-scale", "400", "--bound-time-scale", "200",
                 "--planning-resources", "300", "--help-runs", "1", "--out", str(out)])
    assert code == 0
    doc = json.loads((out / "bench.json").read_text())
    assert {"meta", "scenarios", "planning", "help", "targets"} <= set(doc)
    (scenario,) = doc["scenarios"]
    assert scenario["bound"]["simulated_seconds"] > 0
    assert scenario["bound_plan"]["simulated_seconds"] >= scenario["bound"]["simulated_seconds"]
    assert scenario["minimum_requests"] > 0
    assert set(scenario["contenders"]) == {"tf-cleanup", "fixed-order", "fixed-order-rerun", "project_cleanup"}
    runs = [*scenario["contenders"].values(), scenario["tf_cleanup_at_bound_time_scale"]]
    for run in runs:
        for figure in ("wall_s", "client_cpu_s", "bound_s", "wall_over_bound", "bound_plan_s", "limit_s",
                       "wall_over_limit", "409",
                       "left_behind", "left_behind_by_table", "wrongly_deleted", "deleted_objects",
                       "deleted_records", "phases_s"):
            assert figure in run, figure
        assert run["requests"]["total"] > 0
        assert {"by_method", "by_kind", "by_route", "conflicts_409"} <= set(run["requests"])
    assert doc["planning"]["resources"] >= 300
    assert {"plan_s", "peak_rss_mb"} <= set(doc["planning"])
    assert doc["help"]["best_s"] > 0
    assert any(t["target"].startswith("tf-cleanup: wall / limit") for t in doc["targets"])
    assert (out / "logs").is_dir()
