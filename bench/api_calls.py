"""API economy from the simulator's ``/_sim/stats``: requests by method, by kind and by route, and conflicts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

_SKIPPED_SEGMENTS = {"lbaas", "octavia"}


def route_kind(route: str) -> str:
    """``/network/v2.0/routers/<router_id>/remove_router_interface`` -> ``routers/remove_router_interface``."""
    parts = [p for p in route.strip("/").split("/") if p]
    rest = [p for p in parts[1:] if not p.startswith("<") and p not in _SKIPPED_SEGMENTS
            and not (p[:1] == "v" and p[1:2].isdigit())]
    return "/".join(rest) or (parts[0] if parts else "/")


def summarize(stats: Mapping[str, Any]) -> dict[str, Any]:
    """Totals of one run: all requests, by method, by kind (first path segment), by ``METHOD kind``, by status."""
    by_kind: Counter[str] = Counter()
    by_route: Counter[str] = Counter()
    for row in stats.get("routes", []):
        kind = route_kind(str(row["route"]))
        by_kind[kind.split("/", 1)[0]] += int(row["count"])
        by_route[f"{row['method']} {kind}"] += int(row["count"])
    by_status = {str(k): int(v) for k, v in stats.get("by_status", {}).items()}
    return {"total": int(stats.get("total", 0)), "by_method": dict(sorted(stats.get("by_method", {}).items())),
            "by_kind": dict(by_kind.most_common()), "by_route": dict(by_route.most_common()),
            "by_status": dict(sorted(by_status.items())), "conflicts_409": by_status.get("409", 0)}
