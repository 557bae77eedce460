"""The critical-path bound: the longest chain of delete durations in a plan's action graph; no tool can be faster.

Edges follow the project's convention (``a -> b``: a must be gone before b is deleted). A node weighs one delete
request of its service plus, for kinds whose delete finishes asynchronously, that operation's duration in the
latency profile. Weights are simulated seconds; the bound in wall seconds divides by the time-scale.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import networkx as nx

from kubespray_cleanup.kinds import HANDLERS
from kubespray_cleanup.model import Kind
from kubespray_cleanup.simulator.latency import LatencyProfile

# Asynchronous deletes and the latency-profile operation that times them.
ASYNC_OPERATIONS: dict[Kind, str] = {
    Kind.SERVER: "server.delete",
    Kind.VOLUME: "volume.delete",
    Kind.LOAD_BALANCER: "load_balancer.delete",
    Kind.SNAPSHOT: "snapshot.delete",
}


def request_latency(kind: Kind, profile: LatencyProfile) -> float:
    """Simulated seconds of one API request to the service that deletes ``kind``."""
    service = HANDLERS[kind].service if kind in HANDLERS else ""
    return profile.services.get(service, profile.request)


def delete_duration(kind: Kind, profile: LatencyProfile) -> float:
    """Simulated seconds from issuing the delete of one ``kind`` to its being gone."""
    operation = ASYNC_OPERATIONS.get(kind)
    return request_latency(kind, profile) + (profile.operation(operation) if operation else 0.0)


@dataclass(frozen=True)
class CriticalPath:
    simulated_seconds: float
    seconds: float  # wall seconds at the run's time-scale
    path: tuple[Hashable, ...]

    def to_dict(self, labels: Mapping[Hashable, str] | None = None) -> dict[str, Any]:
        return {"seconds": round(self.seconds, 4), "simulated_seconds": round(self.simulated_seconds, 4),
                "path": [str(labels.get(n, n)) if labels else str(n) for n in self.path]}


def longest_path(graph: nx.DiGraph, weight: Callable[[Hashable], float]) -> tuple[float, tuple[Hashable, ...]]:
    """Heaviest chain through a DAG whose nodes (not edges) carry the weights; (0, ()) when empty."""
    best: dict[Hashable, float] = {}
    via: dict[Hashable, Hashable | None] = {}
    for node in nx.topological_sort(graph):
        preds = list(graph.predecessors(node))
        top = max(preds, key=lambda p: best[p], default=None)
        best[node] = weight(node) + (best[top] if top is not None else 0.0)
        via[node] = top
    if not best:
        return 0.0, ()
    end: Hashable | None = max(best, key=lambda n: best[n])
    total = best[end]
    chain: list[Hashable] = []
    while end is not None:
        chain.append(end)
        end = via[end]
    return total, tuple(reversed(chain))


def bound(graph: nx.DiGraph, kinds: Mapping[Hashable, Kind], profile: LatencyProfile,
          time_scale: float) -> CriticalPath:
    """The critical path of ``graph`` whose nodes are resources of the given kinds."""
    total, chain = longest_path(graph, lambda node: delete_duration(kinds[node], profile))
    return CriticalPath(total, total / time_scale, chain)


def plan_bound(plan: Any, profile: LatencyProfile, time_scale: float,
               skip_reasons: tuple[str, ...] = ()) -> CriticalPath:
    """:func:`bound` over a tf-cleanup Plan's action graph, leaving out edges whose reason is in ``skip_reasons``."""
    graph = plan.action_graph()
    if skip_reasons:
        graph.remove_edges_from([(a, b) for a, b, why in graph.edges(data="reason") if why in skip_reasons])
    return bound(graph, {k: plan.entries[k].resource.kind for k in graph.nodes}, profile, time_scale)


LIST_PAGE = 1000  # the largest page every listing API here serves


def minimum_requests(plan: Any) -> int:
    """Requests no cleanup of this plan can do without: one token, each kind listed once, one call per action.

    Listings count one page per ``LIST_PAGE`` objects of the kind in the project; asynchronous deletes are
    assumed to be confirmed for free (a tool that never looks would still have to).
    """
    kinds: dict[Kind, int] = {}
    for entry in plan.entries.values():
        kinds[entry.resource.kind] = kinds.get(entry.resource.kind, 0) + 1
    acting = {plan.entries[k].resource.kind for k in plan.order()}
    listings = sum(-(-count // LIST_PAGE) for kind, count in kinds.items() if kind in acting)
    return 1 + listings + len(plan.order())


def limit_seconds(bound_seconds: float, requests: int, rate: float | None) -> float:
    """The physical limit under a rate limit ``rate`` (requests per second): max(critical path, requests / rate)."""
    return max(bound_seconds, requests / rate) if rate else bound_seconds
