"""Selection and keep-set propagation: inventory + states + profile -> one Plan (dry-run prints this same Plan).

Rules, in order, for every listed resource:
1. another project's, profile-protected, ``default`` SG, external/shared networks (and their
   subnets), shared or not-CI-made routers, Neutron/service-managed ports -> protected;
2. owned by a live pipeline (its GitLab job runs; state locked, fresh, or explicitly live; or, when GitLab
   cannot say, any of the owner's resources younger than ``min_age``) -> keep;
3. CI-made (owner by name, by a dead state, or by relation) and old enough, or owned by a job GitLab
   reports finished (whatever the age) -> delete (router interfaces: detach);
4. an empty server group in no state with a name Kubespray's module makes -> delete once GitLab's list of live
   jobs proves no job's creation window is open (``windows``), else keep with the reason;
5. anything else -> keep ("not CI-made").
Then everything a kept resource depends on is kept too ("blocked by ...").
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import networkx as nx

from kubespray_cleanup.config import Profile
from kubespray_cleanup.graph import break_soft_cycles, build_graph
from kubespray_cleanup.kinds.base import AUTO_PORT_OWNERS, ROUTER_INTERFACE_OWNERS, SERVICE_PORT_OWNERS, Index, Relation
from kubespray_cleanup.kinds.floating_ip_association import FloatingIPAssociationHandler
from kubespray_cleanup.kinds.router_interface import RouterInterfaceHandler
from kubespray_cleanup.liveness import Options as Options  # re-exported: callers build plans with it
from kubespray_cleanup.liveness import StateSummary, human, live_owners, owner_of_state, state_liveness
from kubespray_cleanup.model import Kind, Resource, node_key
from kubespray_cleanup.ownership import Ownership, attribute
from kubespray_cleanup.sources.gitlab_jobs import JobStatus
from kubespray_cleanup.sources.terraform_state import StateEntry, StateFile
from kubespray_cleanup.windows import WINDOW_OWNER, WINDOW_RULE, Verdict, judge

DELETE, DETACH, KEEP, PROTECTED, BLOCKED = "delete", "detach", "keep", "protected", "blocked"
ACTIONS = (DELETE, DETACH)

@dataclass
class Entry:
    """One resource's fate in a plan, with the reason a person can read."""

    resource: Resource
    decision: str
    reason: str
    owner: str | None = None
    found_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        res = self.resource
        return {"key": res.key, "kind": res.kind.value, "id": res.id, "name": res.name, "owner": self.owner,
                "decision": self.decision, "reason": self.reason, "found_by": self.found_by,
                "created_at": res.created_at.isoformat() if res.created_at else None}


@dataclass
class Plan:
    """What a run will do; dry-run renders it, the executor walks ``graph`` restricted to actions."""

    project_id: str
    profile: str
    created_at: datetime
    entries: dict[str, Entry]
    graph: nx.DiGraph
    states: list[StateSummary] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    jobs: dict[str, JobStatus] = field(default_factory=dict)
    _order: list[str] | None = field(default=None, init=False, repr=False, compare=False)

    def actions(self) -> list[Entry]:
        return [self.entries[k] for k in self.order()]

    def action_graph(self) -> nx.DiGraph:
        nodes = [k for k, e in self.entries.items() if e.decision in ACTIONS]
        return self.graph.subgraph(nodes).copy()

    def order(self) -> list[str]:
        """Execution order, and the plan's numbering: topological, ties broken by kind, then name, then id,
        so the same project gives the same numbers run after run. Sorted once: a plan does not change."""
        if self._order is None:
            graph = self.action_graph()
            self._order = list(nx.lexicographical_topological_sort(graph,
                                                                  key=lambda k: _order_key(self.entries[k])))
        return list(self._order)

    def by_decision(self) -> Counter[str]:
        return Counter(e.decision for e in self.entries.values())

    def owners(self) -> dict[str, list[Entry]]:
        groups: dict[str, list[Entry]] = {}
        for entry in self.entries.values():
            groups.setdefault(entry.owner or "-", []).append(entry)
        return dict(sorted(groups.items()))

    def to_dict(self) -> dict[str, Any]:
        order = self.order()
        return {
            "project_id": self.project_id,
            "profile": self.profile,
            "created_at": self.created_at.isoformat(),
            "counts": dict(self.by_decision()),
            "order": order,
            "actions": [self.entries[k].to_dict() for k in order],
            "kept": [e.to_dict() for k, e in sorted(self.entries.items()) if e.decision not in ACTIONS],
            "edges": [{"before": a, "after": b, "reason": d.get("reason", "")}
                      for a, b, d in sorted(self.graph.edges(data=True))],
            "states": [s.to_dict() for s in self.states],
            "jobs": [self.jobs[o].to_dict() for o in sorted(self.jobs)],
            "warnings": self.warnings,
        }


def _order_key(entry: Entry) -> str:
    res = entry.resource  # nameless objects (router interfaces) sort by their owner before their random id
    return f"{_KIND_RANK.get(res.kind, 99):02d}\0{res.name}\0{entry.owner or ''}\0{res.id}"


# Tie-break among resources that are ready at the same time: the usual teardown order of a cluster.
_KIND_RANK = {kind: i for i, kind in enumerate((
    Kind.LOAD_BALANCER, Kind.FLOATING_IP_ASSOCIATION, Kind.FLOATING_IP, Kind.SERVER, Kind.SNAPSHOT, Kind.VOLUME,
    Kind.TRUNK, Kind.PORT, Kind.ROUTER_INTERFACE, Kind.ROUTER, Kind.SUBNET, Kind.NETWORK, Kind.SECURITY_GROUP_RULE,
    Kind.SECURITY_GROUP, Kind.SERVER_GROUP, Kind.KEYPAIR))}


def make_plan(resources: Iterable[Resource], states: list[StateFile], profile: Profile, project_id: str,
              options: Options, warnings: Iterable[str] = ()) -> Plan:
    managed, nodes = _split_managed(resources)
    idx = Index(nodes)
    interfaces = RouterInterfaceHandler()
    for res in list(idx.by_kind[Kind.ROUTER_INTERFACE]):
        idx.add(interfaces.with_routes(res, idx))
    state_owner = _state_ownership(states, profile, idx, options)
    graph = build_graph(idx, _state_relations(states, idx))
    ownership = attribute(idx, graph, profile, state_owner)
    owners = ownership.owners
    summaries, live = live_owners(states, state_owner, profile, idx, owners, options)
    dead = {s.owner for s in summaries if s.owner and not s.live}
    windows = judge((idx.by_key[k] for k in ownership.unattributable), states, profile, options.live_jobs)
    planner = _Decider(idx, profile, project_id, options, ownership, live, state_owner, dead, windows)
    entries = {res.key: planner.decide(res) for res in idx}
    _detach_kept_floating_ips(graph, entries, idx)
    _propagate_keep(graph, entries)
    break_soft_cycles(graph, [k for k, e in entries.items() if e.decision in ACTIONS])
    plan = Plan(project_id=project_id, profile=profile.name, created_at=options.now, entries=entries, graph=graph,
                states=summaries, warnings=list(warnings), jobs={o: j for o, j in options.jobs.items()
                                                                 if o in set(owners.values())})
    if managed:
        plan.warnings.append(f"{managed} Neutron- or service-managed ports left to their owners")
    for state in states:
        if state.unknown_types:
            plan.warnings.append(f"state {state.source}: types not handled: {', '.join(state.unknown_types)}")
    return plan


def owners_in_question(resources: Iterable[Resource], states: list[StateFile], profile: Profile, project_id: str,
                       options: Options) -> set[str]:
    """Owners whose job status can change the plan: with age and state freshness set aside, they would lose a
    resource. Owners kept by a lock, ``--live-owner`` or protection are not asked about."""
    probe = replace(options, min_age=timedelta(0), state_max_age=timedelta(0), jobs={})
    plan = make_plan(list(resources), states, profile, project_id, probe)
    return {e.owner for e in plan.entries.values() if e.owner and e.decision in ACTIONS}


def _split_managed(resources: Iterable[Resource]) -> tuple[int, list[Resource]]:
    """Drop ports that Neutron or a service owns (DHCP, gateway, FIP, Octavia VIP): never deleted directly."""
    kept, managed = [], 0
    for res in resources:
        owner = str(res.attrs.get("device_owner") or "")
        if res.kind is Kind.PORT and (owner in AUTO_PORT_OWNERS or owner in SERVICE_PORT_OWNERS
                                      or res.name.startswith(("octavia-lb-", "ovn-lb-"))):
            managed += 1
            continue
        kept.append(res)
    return managed, kept


def _state_ownership(states: list[StateFile], profile: Profile, idx: Index,
                     options: Options) -> dict[str, tuple[StateFile, str | None]]:
    """Node key -> (state that holds it, that state's owner by the names it contains).

    Where several states hold one object, a live state wins: what a running pipeline holds is kept.
    """
    result: dict[str, tuple[StateFile, str | None]] = {}
    for state in sorted(states, key=lambda s: bool(state_liveness(s, options, owner_of_state(s, profile)))):
        owner = owner_of_state(state, profile)
        for entry in state.entries:
            if entry.kind is not None and entry.id and node_key(entry.kind, entry.id) in idx.by_key:
                result[node_key(entry.kind, entry.id)] = (state, owner)
    return result


def _state_relations(states: list[StateFile], idx: Index) -> list[Relation]:
    """State ``dependencies`` as edges. They name resources, not instances: ``k8s_node[1]`` depends on all
    of ``k8s_node_port``; instances of two counted resources are paired by equal index (as count-based
    modules wire them), so one node's protection does not hold its siblings' objects."""
    relations = []
    for state in states:
        addresses = state.by_address()
        for entry in state.entries:
            if entry.kind is None or entry.tf_type.endswith("_associate_v2"):
                continue
            for dep in entry.dependencies:
                for target in addresses.get(dep, ()):
                    if target.kind is None or target.tf_type.endswith("_associate_v2") or \
                            not _same_instance(entry, target):
                        continue
                    relations.append(Relation(node_key(entry.kind, entry.id), node_key(target.kind, target.id),
                                              "tfstate.dependencies"))
    return [r for r in relations if r.before in idx.by_key and r.after in idx.by_key]


def _same_instance(a: StateEntry, b: StateEntry) -> bool:
    index_a, index_b = a.address[len(a.resource_address):], b.address[len(b.resource_address):]
    return not index_a or not index_b or index_a == index_b


class _Decider:
    def __init__(self, idx: Index, profile: Profile, project_id: str, options: Options, ownership: Ownership,
                 live: dict[str, str], state_owner: dict[str, tuple[StateFile, str | None]],
                 dead_states: set[str], windows: dict[str, Verdict]) -> None:
        self.idx, self.profile, self.project_id, self.options = idx, profile, project_id, options
        self.windows = windows  # empty server groups in no state: leaked or not by their creation window
        self.ownership, self.owners, self.live, self.state_owner = ownership, ownership.owners, live, state_owner
        # owners proven finished without a date of their own: an old dated resource (the owner is not live, so
        # all its dated resources are older than min-age), or a dead state of theirs
        self.dated = {o for k, o in self.owners.items() if idx.by_key[k].created_at is not None} | dead_states
        self.protected_networks = {n.id for n in idx.by_kind[Kind.NETWORK] if self._network_protection(n)}

    def decide(self, res: Resource) -> Entry:
        owner = self.owners.get(res.key)
        found_by = self._found_by(res, owner)
        protection = self._protection(res)
        if protection:
            return Entry(res, PROTECTED, protection, owner, found_by)
        if res.key in self.state_owner:
            state, state_owner = self.state_owner[res.key]
            liveness = state_liveness(state, self.options, state_owner)
            if liveness:  # by id, whatever its name says: a running pipeline holds it
                return Entry(res, KEEP, f"in live state {state.source} ({liveness})", owner, found_by)
        if owner and owner in self.live:
            return Entry(res, KEEP, self.live[owner], owner, found_by)
        if owner or res.key in self.state_owner:
            return self._candidate(res, owner, found_by)
        if res.kind is Kind.FLOATING_IP and self.profile.orphan_floating_ips and not res.attrs.get("port_id"):
            return self._candidate(res, None, "orphan")
        window = self.windows.get(res.key)
        if window is not None and window.leaked:
            return Entry(res, DELETE, window.reason, WINDOW_OWNER, WINDOW_RULE)
        return Entry(res, KEEP, (window.reason if window else self.ownership.unattributable.get(res.key))
                     or "not CI-made (no owner by name, state or relation)", None, found_by)

    def _candidate(self, res: Resource, owner: str | None, found_by: str) -> Entry:
        finished = self.options.finished(owner)
        if res.created_at is None and not finished and res.key not in self.state_owner and owner not in self.dated:
            return Entry(res, KEEP, f"no creation time, and pipeline {owner} is not proven finished (no old resource,"
                                    " dead state or finished job)", owner, found_by)
        if res.created_at is not None and self.options.now - res.created_at < self.options.min_age and not finished:
            return Entry(res, KEEP, f"younger than min-age ({human(self.options.now - res.created_at)})", owner,
                         found_by)
        action = DETACH if res.kind is Kind.ROUTER_INTERFACE else DELETE
        what = {"state": "in a dead state", "name": "leaked", "relation": "leaked",
                "orphan": "orphan floating IP: unassociated, in no state"}.get(found_by.split(" ")[0], "leaked")
        reason = f"{what} (pipeline {owner})" if owner else what
        if finished and owner:
            reason = f"{what} (pipeline {owner}, job {self.options.jobs[owner].status} in GitLab)"
        return Entry(res, action, reason, owner, found_by)

    def _found_by(self, res: Resource, owner: str | None) -> str:
        if res.key in self.state_owner:
            return f"state {self.state_owner[res.key][0].source}"
        return self.ownership.rules.get(res.key, "") if owner else ""

    def _protection(self, res: Resource) -> str:
        if res.project_id and res.project_id != self.project_id:
            return f"another project ({res.project_id})"
        if res.id in self.profile.protected_ids or (res.name and res.name in self.profile.protected_names):
            return f"protected by profile {self.profile.name}"
        if res.kind is Kind.SECURITY_GROUP and res.name == "default":
            return "the project's default security group"
        if res.kind is Kind.NETWORK and res.id in self.protected_networks:
            return self._network_protection(res)
        if res.kind is Kind.SUBNET and res.attrs.get("network_id") in self.protected_networks:
            return "subnet of an external or shared network"
        if res.kind is Kind.ROUTER:
            if res.name in self.profile.shared_routers or res.id in self.profile.shared_routers:
                return "shared router: only interfaces on leaked subnets are removed"
            if not self.profile.owner_of_name(Kind.ROUTER, res.name):
                return "router not created by a CI job: never deleted"
        if res.kind is Kind.PORT and str(res.attrs.get("device_owner") or "") in ROUTER_INTERFACE_OWNERS:
            return "router interface port: removed through the router"
        return ""

    def _network_protection(self, net: Resource) -> str:
        if net.attrs.get("router:external"):
            return "external network"
        if net.attrs.get("shared"):
            return "shared network"
        if net.name in self.profile.external_networks:
            return "external network (profile)"
        return ""


def _detach_kept_floating_ips(graph: nx.DiGraph, entries: dict[str, Entry], idx: Index) -> None:
    """A kept FIP still associated with a port (or LB VIP) that will be deleted pins the router interface.

    Its association becomes an action of its own, taking over the FIP's ordering edges, so the FIP
    itself stays untouched while the interface can be detached.
    """
    associations = FloatingIPAssociationHandler()
    for entry in [e for e in entries.values() if e.resource.kind is Kind.FLOATING_IP]:
        port_id = entry.resource.attrs.get("port_id")
        if entry.decision not in (KEEP, PROTECTED) or not port_id:
            continue
        holder = entries.get(node_key(Kind.PORT, str(port_id)))
        lb = idx.load_balancers_by_vip_port.get(str(port_id))
        if holder is None and lb is not None:
            holder = entries.get(lb.key)
        if holder is None or holder.decision not in ACTIONS:
            continue
        association = associations.of(entry.resource)
        graph.add_node(association.key)
        for _, after, data in list(graph.out_edges(entry.resource.key, data=True)):
            graph.add_edge(association.key, after, **data)
            graph.remove_edge(entry.resource.key, after)
        entries[association.key] = Entry(association, DETACH,
                                         f"disassociate kept floating IP from {holder.resource.label}",
                                         holder.owner, "relation")


def _propagate_keep(graph: nx.DiGraph, entries: dict[str, Entry]) -> None:
    """Everything a kept resource depends on is kept: multi-source BFS along ``a -> b`` edges."""
    queue: deque[tuple[str, str]] = deque()
    for key, entry in entries.items():
        if entry.decision in (KEEP, PROTECTED):
            queue.append((key, key))
    seen = {k for k, _ in queue}
    while queue:
        node, source = queue.popleft()
        for nxt in graph.successors(node):
            if nxt in seen:
                continue
            seen.add(nxt)
            entry = entries[nxt]
            if entry.decision in ACTIONS:
                blocker = entries[source]
                entry.decision = BLOCKED
                entry.reason = f"blocked by {blocker.resource.label} (kept: {blocker.reason})"
            queue.append((nxt, source))


def now_utc() -> datetime:
    return datetime.now(UTC)
