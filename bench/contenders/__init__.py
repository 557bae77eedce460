"""The cleanups the bench races: each takes a Target (a fresh simulator) and returns an Attempt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from kubespray_cleanup.simulator.latency import LatencyProfile

# Kubespray's ``--hours 4``: every bench leak is older (4.5 h to 4 d), every live job younger.
CUTOFF = timedelta(hours=4)


@dataclass(frozen=True)
class Target:
    """Where and how one contender runs."""

    clouds_yaml: Path
    cloud: str
    states_dir: Path
    time_scale: float
    latency: LatencyProfile
    log_path: Path
    settle: Callable[[], None] = lambda: None  # waits until the cloud's started asynchronous work is done


@dataclass
class Attempt:
    """What one contender reports about its own run (the bench measures the rest from the simulator)."""

    phases: dict[str, float] = field(default_factory=dict)
    wall: float | None = None  # set when the bench must not count all of the call (e.g. gaps between CI runs)
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


Contender = Callable[[Target], Attempt]


def registry() -> dict[str, Contender]:
    from bench.contenders import baseline, project_cleanup, tf_cleanup

    return {"tf-cleanup": tf_cleanup.run, "fixed-order": baseline.run, "fixed-order-rerun": baseline.run_until_stable,
            "project_cleanup": project_cleanup.run}
