"""Render one bench document: the targets it meets or misses, a Markdown table, the JSON file and a PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WALL_OVER_LIMIT = 1.15
CPU_MS_PER_REQUEST = 1.5
SPEEDUP_AT = 10
SPEEDUP = 10.0
PLAN_SECONDS, PLAN_MB = 3.0, 300.0
HELP_SECONDS = 0.5


def _target(name: str, value: Any, limit: str, met: bool | None) -> dict[str, Any]:
    return {"target": name, "value": value, "limit": limit, "met": met}


def request_budget(deleted_objects: int) -> float:
    return 1.5 * deleted_objects + 50


def _runs(doc: dict[str, Any], key: str | None = None) -> list[tuple[int, dict[str, Any]]]:
    """(clusters, tf-cleanup result) per scenario: the main pass, or the pass stored under ``key``."""
    found = []
    for scenario in doc.get("scenarios", []):
        run = scenario.get(key) if key else scenario["contenders"].get("tf-cleanup")
        if run:
            found.append((scenario["clusters"], run))
    return found


def _speedups(doc: dict[str, Any]) -> list[dict[str, Any]]:
    at: dict[str, Any] = next((s["contenders"] for s in doc.get("scenarios", []) if s["clusters"] == SPEEDUP_AT), {})
    out = []
    for other in ("fixed-order", "fixed-order-rerun"):
        if "tf-cleanup" in at and other in at:
            ours, theirs = at["tf-cleanup"], at[other]
            speedup = round(theirs["wall_s"] / ours["wall_s"], 2)
            note = f">= {SPEEDUP:g}; it left {theirs['left_behind']} records behind, tf-cleanup {ours['left_behind']}"
            out.append(_target(f"tf-cleanup vs {other} speed-up at {SPEEDUP_AT} clusters", speedup, note,
                               speedup >= SPEEDUP))
    return out


def targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of issue 5 with the measured value; ``met`` is None when the bench did not measure it."""
    runs = _runs(doc)
    realtime = _runs(doc, "tf_cleanup_at_bound_time_scale")
    out = []
    every = runs + realtime
    if every:
        worst_409 = max(r["requests"]["conflicts_409"] for _, r in every)
        worst_left = max(r["left_behind"] for _, r in every)
        worst_wrong = max(r["wrongly_deleted"] for _, r in every)
        out += [_target("tf-cleanup: 409 responses, every run", worst_409, "0", worst_409 == 0),
                _target("tf-cleanup: resources left behind, every run", worst_left, "0", worst_left == 0),
                _target("tf-cleanup: live/shared resources deleted, every run", worst_wrong, "0", worst_wrong == 0)]
    for clusters, run in runs + realtime:
        ratio = run["wall_over_limit"]
        what = f"rate limit {run['rate_limit']:g}/s, " if run.get("rate_limit") else ""
        out.append(_target(f"tf-cleanup: wall / limit at {clusters} clusters, {what}time-scale "
                           f"{run['time_scale']:g}", ratio, f"<= {WALL_OVER_LIMIT}",
                           ratio is not None and ratio <= WALL_OVER_LIMIT))
        if run.get("rate_limit"):
            cpu = run["client_cpu_ms_per_request"]
            out.append(_target(f"tf-cleanup: client CPU ms per request at {clusters} clusters", cpu,
                               f"<= {CPU_MS_PER_REQUEST}", cpu is not None and cpu <= CPU_MS_PER_REQUEST))
    for clusters, run in runs:
        budget = request_budget(run["deleted_objects"])
        total = run["requests"]["total"]
        out.append(_target(f"tf-cleanup: API requests at {clusters} clusters", total,
                           f"<= 1.5 x {run['deleted_objects']} deleted + 50 = {budget:g}", total <= budget))
    out += _speedups(doc)
    planning = doc.get("planning")
    if planning and "plan_s" in planning:
        out.append(_target(f"planning {planning['resources']} resources: seconds", planning["plan_s"],
                           f"< {PLAN_SECONDS:g}", planning["plan_s"] < PLAN_SECONDS))
        out.append(_target(f"planning {planning['resources']} resources: peak RSS MB", planning["peak_rss_mb"],
                           f"< {PLAN_MB:g}", planning["peak_rss_mb"] < PLAN_MB))
    if doc.get("help"):
        out.append(_target("tf-cleanup --help seconds (best of runs)", doc["help"]["best_s"], f"< {HELP_SECONDS:g}",
                           doc["help"]["best_s"] < HELP_SECONDS))
    return out


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


_COLUMNS = ["clusters", "contender", "time-scale", "rate limit", "wall s", "bound s", "limit s", "wall/limit",
            "requests", "minimum", "GET", "DELETE", "409", "429", "client CPU ms/req", "deleted", "left behind",
            "live/shared deleted"]


def _rows(doc: dict[str, Any]) -> list[tuple[int, str, dict[str, Any]]]:
    rows = []
    for scenario in doc.get("scenarios", []):
        for name, run in scenario["contenders"].items():
            rows.append((scenario["clusters"], name, run))
        if scenario.get("tf_cleanup_at_bound_time_scale"):
            rows.append((scenario["clusters"], "tf-cleanup", scenario["tf_cleanup_at_bound_time_scale"]))
    return rows


def table(doc: dict[str, Any]) -> str:
    meta = doc.get("meta", {})
    lines = [f"latency {meta.get('latency')}, {meta.get('live_clusters')} live clusters per scenario, seed "
             f"{meta.get('seed')}, {meta.get('cpus')} CPU(s), openstacksdk {meta.get('openstacksdk')}", "",
             _row(_COLUMNS), _row(["---:", "---"] + ["---:"] * (len(_COLUMNS) - 2))]
    minimum = {s["clusters"]: s.get("minimum_requests", "-") for s in doc.get("scenarios", [])}
    for clusters, name, run in _rows(doc):
        methods = run["requests"]["by_method"]
        cpu = run.get("client_cpu_ms_per_request")
        lines.append(_row([clusters, name, f"{run['time_scale']:g}",
                           f"{run['rate_limit']:g}/s" if run.get("rate_limit") else "-", f"{run['wall_s']:.2f}",
                           f"{run['bound_s']:.2f}", f"{run['limit_s']:.2f}",
                           f"{run['wall_over_limit']:.2f}" if run["wall_over_limit"] else "-",
                           run["requests"]["total"], minimum[clusters], methods.get("GET", 0),
                           methods.get("DELETE", 0), run["requests"]["conflicts_409"], run.get("429", 0),
                           f"{cpu:.2f}" if cpu is not None else "-", run["deleted_objects"], run["left_behind"],
                           run["wrongly_deleted"]]))
    lines += ["", "Critical paths (simulated seconds; 'enforced' keeps only the edges OpenStack enforces, the bound; "
                  "'plan' adds tf-cleanup's ordering-only edges):"]
    for scenario in doc.get("scenarios", []):
        for key in ("bound", "bound_plan"):
            bound = scenario.get(key, {})
            path = bound.get("path", [])
            shown = " -> ".join(path if len(path) <= 6 else path[:3] + ["..."] + path[-2:])
            what = "enforced" if key == "bound" else "plan"
            lines.append(f"  {scenario['clusters']:>4} clusters, {what}: {bound.get('simulated_seconds')} s: {shown}")
    lines += ["", "Left behind / errors:"]
    for clusters, name, run in _rows(doc):
        if run["error"] or run["left_behind"] or run["wrongly_deleted"]:
            left = ", ".join(f"{k} {v}" for k, v in run["left_behind_by_table"].items()) or "-"
            lines.append(f"  {clusters:>4} {name} (x{run['time_scale']:g}): left {left}; "
                         f"{(run['error'] or 'no error raised')[:160]}")
    if doc.get("planning"):
        p = doc["planning"]
        lines += ["", f"Planning: {p.get('resources')} synthetic resources, make_plan {p.get('plan_s')} s "
                      f"(+ topological order {p.get('order_s')} s), peak RSS {p.get('peak_rss_mb')} MB"
                  if "plan_s" in p else f"Planning failed: {p.get('error')}"]
    if doc.get("help"):
        lines.append(f"tf-cleanup --help: best {doc['help']['best_s']} s of {len(doc['help']['runs_s'])}")
    lines += ["", "Targets:"]
    for t in doc.get("targets", []):
        mark = {True: "met ", False: "MISS", None: "  - "}[t["met"]]
        lines.append(f"  [{mark}] {t['target']}: {t['value']} ({t['limit']})")
    return "\n".join(lines)


def write_json(doc: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")
    return path


def _axes(ax: Any, xs: list[int], ylabel: str, title: str) -> None:
    if len(xs) > 1:
        ax.set_xscale("log")
    if ylabel.startswith("requests"):
        ax.set_yscale("symlog", linthresh=1.0)  # 0 conflicts stays on the axis
        ax.set_ylim(bottom=0)
    else:
        ax.set_yscale("log")
    ax.set_xlabel("leaked Kubespray clusters")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def plot(doc: dict[str, Any], path: Path) -> Path | None:
    """Two panels against leaked clusters: every contender's wall time with the limit as a line; requests and 409s."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    scenarios = doc.get("scenarios", [])
    if not scenarios:
        return None
    fig, (walls, calls) = plt.subplots(1, 2, figsize=(11.5, 4.4), dpi=110)
    meta = doc.get("meta", {})
    names = list(dict.fromkeys(n for s in scenarios for n in s["contenders"]))
    for i, name in enumerate(names):
        rows = [(s["clusters"], s["contenders"][name]) for s in scenarios if name in s["contenders"]]
        color = f"C{i}"
        walls.plot([c for c, _ in rows], [r["wall_s"] for _, r in rows], marker="o", color=color, label=name)
        calls.plot([c for c, _ in rows], [r["requests"]["total"] for _, r in rows], marker="o", color=color,
                   label=f"{name}: requests")
        calls.plot([c for c, _ in rows], [r["409"] for _, r in rows], marker="x", linestyle=":", color=color,
                   label=f"{name}: 409s")
    xs = [s["clusters"] for s in scenarios]
    limits = [next(iter(s["contenders"].values()))["limit_s"] for s in scenarios]
    rate = meta.get("rate_limit")
    walls.plot(xs, limits, linestyle="--", color="grey",
               label=f"limit: max(critical path, minimum requests / {rate:g})" if rate else "critical-path bound")
    calls.plot(xs, [s.get("minimum_requests", 0) for s in scenarios], linestyle="--", color="grey",
               label="minimum requests")
    scale = f"time-scale {meta.get('time_scale'):g}" + (f", rate limit {rate:g} req/s" if rate else "")
    _axes(walls, xs, "wall time (s)", f"Wall time, {meta.get('latency')} latency, {scale}")
    _axes(calls, xs, "requests (and 409s)", "API requests (solid) and 409 conflicts (dotted)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
