"""Planning scale and start-up cost: a synthetic inventory planned in a process of its own, and ``--help`` timed.

``python -m bench.planning --resources 20000`` prints one JSON line: seconds in ``make_plan`` and the process's
peak RSS (so the figure is the planner's, not the bench's).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def plan_synthetic(resources: int, live_share: float = 0.1) -> dict[str, Any]:
    """Plan about ``resources`` synthetic resources (clusters 6 h old, a tenth of them live) and time it."""
    from datetime import UTC, datetime

    from kubespray_cleanup import synthetic
    from kubespray_cleanup.config import get_profile
    from kubespray_cleanup.planner import Options, make_plan

    now = datetime.now(UTC)
    per_cluster = len(synthetic.cluster("0", now))
    clusters = max(1, math.ceil((resources - len(synthetic.shared(now))) / per_cluster))
    live = int(clusters * live_share)
    started = time.perf_counter()
    inventory = synthetic.inventory(clusters - live, live, now=now)
    generated = time.perf_counter()
    profile = get_profile("elastx")
    plan = make_plan(inventory, [], profile, synthetic.PROJECT,
                     Options(now=now, min_age=profile.min_age, state_max_age=profile.state_max_age))
    planned = time.perf_counter()
    order = plan.order()
    ordered = time.perf_counter()
    return {"resources": len(inventory), "clusters": clusters, "live_clusters": live, "actions": len(order),
            "generate_s": round(generated - started, 4), "plan_s": round(planned - generated, 4),
            "order_s": round(ordered - planned, 4),
            "peak_rss_mb": round(_peak_rss_kb() / 1024, 1)}


def _peak_rss_kb() -> float:
    """This process's own peak RSS. ``VmHWM`` starts afresh at exec; ``ru_maxrss`` may keep the high-water mark
    of the process that forked it (the bench, large after a 1,000-cluster run)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return float(line.split()[1])
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure_planning(resources: int) -> dict[str, Any]:
    """:func:`plan_synthetic` in a fresh interpreter; its peak RSS includes the interpreter and imports."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.planning", "--resources", str(resources)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1], "resources": resources}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = round(time.perf_counter() - started, 4)
    return result


def measure_help(runs: int = 5) -> dict[str, Any]:
    """Best (and every) wall time of ``tf-cleanup --help`` in a new process."""
    exe = shutil.which("tf-cleanup", path=str(Path(sys.executable).parent)) or shutil.which("tf-cleanup")
    cmd = [exe, "--help"] if exe else [sys.executable, "-c", "from kubespray_cleanup.cli import main; main()",
                                       "--help"]
    times = []
    for _ in range(max(1, runs)):
        started = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, timeout=60)
        times.append(time.perf_counter() - started)
    return {"best_s": round(min(times), 4), "runs_s": [round(t, 4) for t in times], "command": " ".join(cmd[-2:])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.planning", description=__doc__)
    parser.add_argument("--resources", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(json.dumps(plan_synthetic(args.resources)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
