"""The dependency DAG. One edge convention everywhere: ``a -> b`` means a must be gone before b is deleted."""

from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

from kubespray_cleanup.errors import GraphCycleError
from kubespray_cleanup.kinds import HANDLERS
from kubespray_cleanup.kinds.base import Index, Relation

STATE_REASON = "tfstate.dependencies"


def build_graph(idx: Index, state_relations: Iterable[Relation] = ()) -> nx.DiGraph:
    """Nodes for every resource in ``idx``; edges from live relations, then from state dependencies.

    A state edge that would close a cycle with live relations is dropped: the live
    cloud is the truth, the state may be stale. A cycle made of live relations alone is an error.
    """
    graph = nx.DiGraph()
    for res in idx:
        graph.add_node(res.key)
    for res in idx:
        for relation in HANDLERS[res.kind].relations(res, idx):
            connect(graph, relation)
    assert_acyclic(graph)
    for relation in state_relations:
        if relation.before in graph and relation.after in graph and not graph.has_edge(relation.before,
                                                                                        relation.after):
            graph.add_edge(relation.before, relation.after, reason=STATE_REASON)
    _drop_state_edges_in_cycles(graph)
    return graph


def connect(graph: nx.DiGraph, relation: Relation) -> bool:
    """Add the relation's edge when both ends are nodes and it is not a self-loop."""
    if relation.before == relation.after or relation.before not in graph or relation.after not in graph:
        return False
    if not graph.has_edge(relation.before, relation.after):
        graph.add_edge(relation.before, relation.after, reason=relation.reason)
    return True


def _drop_state_edges_in_cycles(graph: nx.DiGraph) -> None:
    """Live relations alone are acyclic (checked before), so every cycle left holds a state edge."""
    while True:
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            return
        graph.remove_edges_from([(a, b) for a, b, *_ in cycle if graph.edges[a, b].get("reason") == STATE_REASON])


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
