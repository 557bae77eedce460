"""Render one bench document: the targets it meets or misses, a Markdown table, the JSON file and a PNG plot."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

WALL_OVER_BOUND = 1.15
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
        ratio = run["wall_over_bound"]
        out.append(_target(f"tf-cleanup: wall / critical-path bound at {clusters} clusters, time-scale "
                           f"{run['time_scale']:g}", ratio, f"<= {WALL_OVER_BOUND}",
                           ratio is not None and ratio <= WALL_OVER_BOUND))
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


_COLUMNS = ["clusters", "contender", "time-scale", "wall s", "bound s", "wall/bound", "requests", "GET", "POST", "PUT",
            "DELETE", "409", "deleted", "left behind", "live/shared deleted"]


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
    for clusters, name, run in _rows(doc):
        methods = run["requests"]["by_method"]
        lines.append(_row([clusters, name, f"{run['time_scale']:g}", f"{run['wall_s']:.2f}", f"{run['bound_s']:.2f}",
                           f"{run['wall_over_bound']:.2f}" if run["wall_over_bound"] else "-",
                           run["requests"]["total"], methods.get("GET", 0), methods.get("POST", 0),
                           methods.get("PUT", 0), methods.get("DELETE", 0), run["requests"]["conflicts_409"],
                           run["deleted_objects"], run["left_behind"], run["wrongly_deleted"]]))
    lines += ["", "Critical paths (simulated seconds; 'relations only' leaves out Terraform's create-order edges):"]
    for scenario in doc.get("scenarios", []):
        for key in ("bound", "bound_relations_only"):
            bound = scenario.get(key, {})
            path = bound.get("path", [])
            shown = " -> ".join(path if len(path) <= 6 else path[:3] + ["..."] + path[-2:])
            what = "plan" if key == "bound" else "relations only"
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


def _panel(ax: Any, xs: list[int], lines: dict[str, list[float]], bound: list[float], title: str) -> None:
    for name, ys in lines.items():
        ax.plot(xs[:len(ys)], ys, marker="o", label=name)
    ax.plot(xs, bound, linestyle="--", color="grey", label="critical-path bound")
    if len(xs) > 1:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("leaked Kubespray clusters")
    ax.set_ylabel("wall time (s)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)


def plot(doc: dict[str, Any], path: Path) -> Path | None:
    """Wall time against leaked clusters (log-log): every contender, and tf-cleanup alone at the bound time-scale."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    scenarios = doc.get("scenarios", [])
    if not scenarios:
        return None
    realtime = [s["tf_cleanup_at_bound_time_scale"] for s in scenarios if s.get("tf_cleanup_at_bound_time_scale")]
    fig, axes = plt.subplots(1, 2 if realtime else 1, figsize=(11 if realtime else 6.4, 4.2), dpi=110,
                             squeeze=False)
    xs = [s["clusters"] for s in scenarios]
    meta = doc.get("meta", {})
    lines = {name: [s["contenders"][name]["wall_s"] for s in scenarios if name in s["contenders"]]
             for name in scenarios[0]["contenders"]}
    main_bound = [next(iter(s["contenders"].values()))["bound_s"] for s in scenarios]
    _panel(axes[0][0], xs, lines, main_bound,
           f"All contenders, {meta.get('latency')} latency, time-scale {meta.get('time_scale'):g}")
    if realtime and len(realtime) == len(xs):
        _panel(axes[0][1], xs, {"tf-cleanup": [r["wall_s"] for r in realtime]}, [r["bound_s"] for r in realtime],
               f"tf-cleanup, time-scale {realtime[0]['time_scale']:g} (client CPU small against cloud time)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
