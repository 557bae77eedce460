"""``python -m bench``: every contender on a freshly seeded simulator per scenario size; a table, JSON and a plot."""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.api_calls import summarize
from bench.contenders import Attempt, Target, registry
from bench.contenders.tf_cleanup import plan_only, poll_interval
from bench.critical_path import limit_seconds, minimum_requests, plan_bound
from bench.harness import Scenario, SimProcess
from bench.planning import ROOT, measure_help, measure_planning
from bench.truth import judge
from kubespray_cleanup.graph import ORDERING_ONLY_REASONS
from kubespray_cleanup.simulator.latency import LatencyProfile, get_profile

CLOUD = "elastx"


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("cluster counts must be positive")
    return values


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--clusters", type=_ints, default=[1, 10, 100], metavar="N,N,...",
                        help="leaked Kubespray clusters per scenario (default 1,10,100)")
    parser.add_argument("--live", type=int, default=2, help="live clusters beside them, which must survive")
    parser.add_argument("--time-scale", type=float, default=None,
                        help="simulated seconds per wall second (default 20; 1 under --rate-limit, whose rate is "
                             "per real second and whose contenders sleep real seconds)")
    parser.add_argument("--latency", default="realistic", help="simulator latency profile (name or YAML file)")
    parser.add_argument("--bound-time-scale", type=float, default=1.0,
                        help="also run tf-cleanup alone at this time-scale, where the client's CPU (which no "
                             "time-scale shrinks) is small against cloud time; the wall/bound target is judged "
                             "there too (0: skip)")
    parser.add_argument("--module-variants", action="store_true",
                        help="every fourth cluster from the whole Kubespray module (default: the elastx job's corner, "
                             "as the published figures)")
    parser.add_argument("--rate-limit", type=float, default=0.0, metavar="R",
                        help="serve every simulator behind a gateway limit of R requests/s per project (0: none); "
                             "the limit per scenario becomes max(critical path, minimum requests / R)")
    parser.add_argument("--seed", type=int, default=1, help="scenario seed (same for every contender)")
    parser.add_argument("--contenders", default=",".join(registry()),
                        help=f"comma-separated subset of {', '.join(registry())}")
    parser.add_argument("--baselines-up-to", type=int, default=0, metavar="N",
                        help="run the other contenders only at sizes of at most N clusters, tf-cleanup at every size "
                             "(0: every contender everywhere); under a rate limit each run needs requests/R seconds")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where JSON, PNG, logs go")
    parser.add_argument("--planning-resources", type=int, default=20_000,
                        help="size of the synthetic inventory planned (0: skip)")
    parser.add_argument("--help-runs", type=int, default=5, help="tf-cleanup --help runs, best taken (0: skip)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.contenders.split(",")) - set(registry()))
    if unknown:
        parser.error(f"unknown contender(s): {', '.join(unknown)}")
    if args.time_scale is None:
        args.time_scale = 1.0 if args.rate_limit else 20.0
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    if args.rate_limit < 0:
        parser.error("--rate-limit must be positive (or 0 for none)")
    return args


def _bounds(plan: Any, profile: LatencyProfile) -> dict[str, Any]:
    """The critical path over the edges OpenStack enforces (the bound), the same over the plan's own edges
    (ordering-only ones included, for information), and the requests any cleanup of the plan needs."""
    labels = {k: e.resource.label for k, e in plan.entries.items()}
    enforced = plan_bound(plan, profile, 1.0, skip_reasons=tuple(ORDERING_ONLY_REASONS)).to_dict(labels)
    planned = plan_bound(plan, profile, 1.0).to_dict(labels)
    return {"bound": {k: v for k, v in enforced.items() if k != "seconds"},
            "bound_plan": {k: v for k, v in planned.items() if k != "seconds"},
            "minimum_requests": minimum_requests(plan)}


def run_one(name: str, scenario: Scenario, scenario_file: Path, work: Path, args: argparse.Namespace,
            profile: LatencyProfile, scenario_entry: dict[str, Any], time_scale: float) -> dict[str, Any]:
    """One contender on one freshly seeded simulator: measured from outside, judged against the ground truth."""

    suffix = "" if time_scale == args.time_scale else f"-x{time_scale:g}"
    log_path = args.out / "logs" / f"{scenario.clusters:03d}-{name}{suffix}.log"
    log_path.unlink(missing_ok=True)
    settle_limit = max(profile.operations.values(), default=0.0) / time_scale + 5.0
    rate = args.rate_limit or None
    with SimProcess(scenario_file, work / f"{name}{suffix}", args.latency, time_scale, seed=args.seed,
                    rate_limit=f"{rate:g}" if rate else None) as sim:
        def settle() -> None:
            sim.settle(settle_limit)

        target = Target(sim.clouds_yaml, CLOUD, sim.states_dir, time_scale, profile, log_path, settle=settle)
        if "bound" not in scenario_entry:
            plan = plan_only(target)
            scenario_entry.update(_bounds(plan, profile))
            scenario_entry["plan"] = dict(plan.by_decision())
        before = sim.state()
        if rate:
            time.sleep(2.0)  # the gateway's bucket refills after the bench's own listing
        sim.reset_stats()
        cpu, started = time.process_time(), time.perf_counter()
        try:
            attempt = registry()[name](target)
        except Exception as exc:  # a contender that crashes still gets measured
            attempt = Attempt(error=f"crashed: {type(exc).__name__}: {exc}")
        wall = time.perf_counter() - started if attempt.wall is None else attempt.wall
        cpu = time.process_time() - cpu
        stats = sim.stats()
        after = sim.settle(settle_limit)
    damage = judge(before, after, scenario.leaked_jobs)
    bound_s = scenario_entry["bound"]["simulated_seconds"] / time_scale
    plan_s = scenario_entry["bound_plan"]["simulated_seconds"] / time_scale
    limit_s = limit_seconds(bound_s, scenario_entry["minimum_requests"], rate)
    requests = summarize(stats)
    return {"time_scale": time_scale, "rate_limit": rate, "wall_s": round(wall, 4), "client_cpu_s": round(cpu, 4),
            "client_cpu_ms_per_request": round(1000 * cpu / requests["total"], 3) if requests["total"] else None,
            "bound_s": round(bound_s, 4), "wall_over_bound": round(wall / bound_s, 3) if bound_s else None,
            "bound_plan_s": round(plan_s, 4), "limit_s": round(limit_s, 4),
            "wall_over_limit": round(wall / limit_s, 3) if limit_s else None,
            "requests": requests, "409": requests["conflicts_409"], "429": requests["by_status"].get("429", 0),
            **damage.to_dict(), "phases_s": attempt.phases, "error": attempt.error,
            "details": attempt.details, "log": str(log_path)}


def _progress(clusters: int, label: str, result: dict[str, Any] | None = None) -> None:
    if result is None:
        print(f"  {clusters:>4} clusters  {label:<24}", end="", flush=True, file=sys.stderr)
    else:
        print(f" {result['wall_s']:8.2f}s  (limit {result['limit_s']:.2f}s)  "
              f"{result['requests']['total']:>6} requests  "
              f"{result['409']:>4} x 409  {result['429']:>4} x 429  {result['left_behind']:>5} left  "
              f"{result['wrongly_deleted']} live deleted  cpu {result['client_cpu_ms_per_request']} ms/req",
              file=sys.stderr)


def run_scenarios(args: argparse.Namespace, profile: LatencyProfile) -> list[dict[str, Any]]:
    names = [n for n in registry() if n in args.contenders.split(",")]
    entries = []
    for clusters in args.clusters:
        scenario = Scenario.make(clusters, args.live, args.seed, args.module_variants)
        entry: dict[str, Any] = {"clusters": clusters, "live": args.live, "seed": args.seed,
                                 "leaked_jobs": len(scenario.leaked_jobs), "contenders": {}}
        with tempfile.TemporaryDirectory(prefix=f"bench-{clusters}-") as tmp:
            scenario_file = scenario.write(Path(tmp) / "scenario.yaml")
            for name in names:
                if name != "tf-cleanup" and 0 < args.baselines_up_to < clusters:
                    continue
                _progress(clusters, name)
                result = run_one(name, scenario, scenario_file, Path(tmp), args, profile, entry, args.time_scale)
                entry["contenders"][name] = result
                _progress(clusters, name, result)
            if args.bound_time_scale > 0 and "tf-cleanup" in names and args.bound_time_scale != args.time_scale:
                _progress(clusters, f"tf-cleanup @ x{args.bound_time_scale:g}")
                result = run_one("tf-cleanup", scenario, scenario_file, Path(tmp), args, profile, entry,
                                 args.bound_time_scale)
                entry["tf_cleanup_at_bound_time_scale"] = result
                _progress(clusters, "", result)
        entries.append(entry)
    return entries


def _git_commit() -> str | None:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    return proc.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    profile = get_profile(args.latency)
    args.out.mkdir(parents=True, exist_ok=True)
    import openstack.version

    doc: dict[str, Any] = {
        "meta": {"started": datetime.now(UTC).isoformat(timespec="seconds"), "time_scale": args.time_scale,
                 "bound_time_scale": args.bound_time_scale, "rate_limit": args.rate_limit or None,
                 "latency": profile.name, "machine": _machine(), "live_clusters": args.live,
                 "seed": args.seed,
                 "poll_interval_s": poll_interval(args.time_scale), "python": platform.python_version(),
                 "openstacksdk": openstack.version.__version__, "cpus": _cpus(), "commit": _git_commit()},
    }
    print(f"bench: clusters {args.clusters}, {args.live} live, time-scale {args.time_scale}, latency {profile.name}",
          file=sys.stderr)
    started = time.perf_counter()
    doc["scenarios"] = run_scenarios(args, profile)
    if args.planning_resources > 0:
        print(f"  planning {args.planning_resources} synthetic resources", file=sys.stderr)
        doc["planning"] = measure_planning(args.planning_resources)
    if args.help_runs > 0:
        doc["help"] = measure_help(args.help_runs)
    doc["targets"] = report.targets(doc)
    doc["meta"]["bench_s"] = round(time.perf_counter() - started, 1)
    json_path = report.write_json(doc, args.out / "bench.json")
    png_path = report.plot(doc, args.out / "bench.png")
    print(report.table(doc))
    print(f"\nJSON: {json_path}" + (f"\nplot: {png_path}" if png_path else ""))
    return 0


def _machine() -> str:
    """CPU model and count, and the load when the run started (the machine may be shared)."""
    import os

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return f"{_cpus()} x {model or platform.machine()}, load {load}"


def _cpus() -> int | None:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
