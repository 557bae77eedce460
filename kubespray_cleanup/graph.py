"""The dependency DAG. One edge convention everywhere: ``a -> b`` means a must be gone before b is deleted."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from kubespray_cleanup.errors import GraphCycleError
from kubespray_cleanup.kinds import HANDLERS
from kubespray_cleanup.kinds.base import KEEP_ONLY_REASONS, REMOTE_GROUP_REASON, Index, Relation
from kubespray_cleanup.model import Kind

STATE_REASON = "tfstate.dependencies"
# Edges that only order deletes (the service accepts either order): dropped where they would close a cycle.
_SOFT_REASONS = frozenset({STATE_REASON, REMOTE_GROUP_REASON, *KEEP_ONLY_REASONS})
ORDERING_ONLY_REASONS = _SOFT_REASONS | {"conflict"}  # edges OpenStack itself does not enforce (or learnt at run time)
# State dependencies become edges only between kinds whose deletes can block one another. Terraform's
# create order also records dependencies that are no delete constraint (a load balancer created after
# its member servers, a server after its floating IP, every compute object after the subnet).
_BLOCKING_PAIRS = frozenset({
    (Kind.SERVER, Kind.PORT), (Kind.SERVER, Kind.VOLUME), (Kind.PORT, Kind.SUBNET), (Kind.PORT, Kind.NETWORK),
    (Kind.PORT, Kind.SECURITY_GROUP), (Kind.FLOATING_IP, Kind.ROUTER_INTERFACE), (Kind.FLOATING_IP, Kind.ROUTER),
    (Kind.ROUTER_INTERFACE, Kind.SUBNET), (Kind.ROUTER_INTERFACE, Kind.NETWORK), (Kind.ROUTER_INTERFACE, Kind.ROUTER),
    (Kind.SUBNET, Kind.NETWORK), (Kind.LOAD_BALANCER, Kind.SUBNET), (Kind.LOAD_BALANCER, Kind.NETWORK),
    (Kind.LOAD_BALANCER, Kind.SECURITY_GROUP), (Kind.SNAPSHOT, Kind.VOLUME),
    (Kind.VOLUME, Kind.SNAPSHOT), (Kind.SECURITY_GROUP, Kind.SECURITY_GROUP), (Kind.TRUNK, Kind.PORT),
    (Kind.SERVER, Kind.TRUNK),
})


def build_graph(idx: Index, state_relations: Iterable[Relation] = ()) -> nx.DiGraph:
    """Nodes for every resource in ``idx``; edges from live relations, then from state dependencies.

    Hard relations (a delete the service refuses while the other object exists) must be acyclic;
    a cycle of them is an error that names its members. Ordering-only edges (state dependencies,
    security-group rules referencing other groups, keep-only port edges) may close cycles: they
    still carry keep propagation, and :func:`break_soft_cycles` cuts them among the actions only.
    """
    graph = nx.DiGraph()
    for res in idx:
        graph.add_node(res.key)
    soft: list[Relation] = []
    for res in idx:
        for relation in HANDLERS[res.kind].relations(res, idx):
            if relation.reason in _SOFT_REASONS:
                soft.append(relation)
            else:
                connect(graph, relation)
    assert_acyclic(graph)
    for relation in soft + [r for r in state_relations if _blocking(r)]:
        connect(graph, relation)
    return graph


def _blocking(relation: Relation) -> bool:
    kinds = (relation.before.split(":", 1)[0], relation.after.split(":", 1)[0])
    return (Kind(kinds[0]), Kind(kinds[1])) in _BLOCKING_PAIRS


def connect(graph: nx.DiGraph, relation: Relation) -> bool:
    """Add the relation's edge when both ends are nodes and it is not a self-loop."""
    if relation.before == relation.after or relation.before not in graph or relation.after not in graph:
        return False
    if not graph.has_edge(relation.before, relation.after):
        graph.add_edge(relation.before, relation.after, reason=relation.reason)
    return True


def break_soft_cycles(graph: nx.DiGraph, actions: Iterable[str]) -> None:
    """Make the actions' subgraph acyclic by cutting ordering-only edges (hard edges are acyclic already).

    Called after keep propagation, so a kept group in a mutual reference still protected its partner;
    between two actions either order is fine. One edge per cycle goes, state edges first.
    """
    view = graph.subgraph(list(actions))
    while True:
        try:
            cycle = nx.find_cycle(view)
        except nx.NetworkXNoCycle:
            return
        soft = [(a, b) for a, b, *_ in cycle if graph.edges[a, b].get("reason") in _SOFT_REASONS]
        soft.sort(key=lambda e: graph.edges[e].get("reason") != STATE_REASON)
        graph.remove_edge(*soft[0])


def assert_acyclic(graph: nx.DiGraph) -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    if cycles:
        first = sorted(cycles)[0]
        raise GraphCycleError(f"dependency cycle between {', '.join(first)}")


def to_dot(graph: nx.DiGraph, labels: dict[str, str], styles: dict[str, str]) -> str:
    lines = ["digraph cleanup {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
    for node in sorted(graph.nodes):
        label = labels.get(node, node).replace('"', "'")
        lines.append(f'  "{node}" [label="{label}", style=filled, fillcolor="{styles.get(node, "white")}"];')
    for a, b, data in sorted(graph.edges(data=True)):
        lines.append(f'  "{a}" -> "{b}" [label="{data.get("reason", "")}", fontsize=8];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(graph: nx.DiGraph, labels: dict[str, str], classes: dict[str, str]) -> str:
    ids = {node: f"n{i}" for i, node in enumerate(sorted(graph.nodes))}
    lines = ["flowchart LR"]
    for node, nid in ids.items():
        label = labels.get(node, node).replace('"', "'")
        lines.append(f'  {nid}["{label}"]:::{classes.get(node, "keep")}')
    for a, b, data in sorted(graph.edges(data=True)):
        lines.append(f'  {ids[a]} -->|{data.get("reason", "")}| {ids[b]}')
    lines += ["  classDef delete fill:#fdd;", "  classDef detach fill:#ffd;", "  classDef keep fill:#dfd;",
              "  classDef protected fill:#ddf;", "  classDef blocked fill:#eee;"]
    return "\n".join(lines) + "\n"
