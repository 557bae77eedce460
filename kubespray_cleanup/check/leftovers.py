"""Leftovers: what the cleanup would delete (the same Plan a dry run prints), per owner, with the quota each
owner's leftovers hold, so a short quota can say how much of it the cleanup would give back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from kubespray_cleanup.check.findings import LEFTOVERS, OK, WARNING, Finding
from kubespray_cleanup.check.needs import COMPUTE, LABELS, LOAD_BALANCER, NETWORK, VOLUME, Flavor, flavor_of
from kubespray_cleanup.model import Kind
from kubespray_cleanup.planner import DELETE, DETACH, Plan

Held = Counter[tuple[str, str]]


def held_by(kind: Kind, attrs: Mapping[str, Any], flavors: Mapping[str, Flavor]) -> Held:
    """The quota one deleted (or, for a router interface, detached) object gives back."""
    held: Held = Counter()
    if kind is Kind.SERVER:
        vcpus, ram = flavor_of(attrs, flavors)
        held.update({(COMPUTE, "instances"): 1, (COMPUTE, "cores"): vcpus, (COMPUTE, "ram"): ram})
    elif kind is Kind.VOLUME:
        held.update({(VOLUME, "volumes"): 1, (VOLUME, "gigabytes"): int(attrs.get("size") or 0)})
    elif kind is Kind.SNAPSHOT:
        held.update({(VOLUME, "snapshots"): 1, (VOLUME, "gigabytes"): int(attrs.get("size") or 0)})
    elif kind is Kind.SECURITY_GROUP:
        held.update({(NETWORK, "security_group"): 1,
                     (NETWORK, "security_group_rule"): len(attrs.get("security_group_rules") or ())})
    elif kind is Kind.LOAD_BALANCER:
        held.update({(LOAD_BALANCER, "load_balancer"): 1,
                     (LOAD_BALANCER, "listener"): len(attrs.get("listeners") or ()),
                     (LOAD_BALANCER, "pool"): len(attrs.get("pools") or ())})
    else:
        single = {Kind.FLOATING_IP: (NETWORK, "floatingip"), Kind.PORT: (NETWORK, "port"),
                  Kind.ROUTER_INTERFACE: (NETWORK, "port"), Kind.NETWORK: (NETWORK, "network"),
                  Kind.SUBNET: (NETWORK, "subnet"), Kind.ROUTER: (NETWORK, "router"),
                  Kind.KEYPAIR: (COMPUTE, "key_pairs"), Kind.SERVER_GROUP: (COMPUTE, "server_groups")}
        if kind in single:
            held[single[kind]] += 1
    return Counter({k: v for k, v in held.items() if v})


def _acted_on(plan: Plan) -> list[Any]:
    return [e for e in plan.actions() if e.decision == DELETE or
            (e.decision == DETACH and e.resource.kind is Kind.ROUTER_INTERFACE)]


def reclaimable(plan: Plan, flavors: Mapping[str, Flavor]) -> Held:
    """Everything the cleanup would give back, summed over owners."""
    total: Held = Counter()
    for entry in _acted_on(plan):
        total.update(held_by(entry.resource.kind, entry.resource.attrs, flavors))
    return total


def describe(held: Held) -> str:
    parts = []
    for (_service, name), amount in sorted(held.items(), key=lambda i: (_ORDER.get(i[0][1], 99), i[0])):
        parts.append(f"{amount} {LABELS.get(name, name)}")
    return ", ".join(parts) or "no quota"


_ORDER = {name: i for i, name in enumerate(("instances", "cores", "ram", "volumes", "gigabytes", "snapshots",
                                            "floatingip", "port", "security_group", "security_group_rule",
                                            "network", "subnet", "router", "load_balancer", "key_pairs"))}


def findings(plan: Plan, flavors: Mapping[str, Flavor]) -> list[Finding]:
    """One finding per owner with something to delete (a warning: it eats quota), or one ``ok`` when none."""
    by_owner: dict[str, list[Any]] = {}
    for entry in _acted_on(plan):
        by_owner.setdefault(entry.owner or "-", []).append(entry)
    if not by_owner:
        return [Finding(LEFTOVERS, OK, "leftovers", "nothing the cleanup would delete")]
    out = []
    for owner, entries in sorted(by_owner.items()):
        held: Held = Counter()
        for entry in entries:
            held.update(held_by(entry.resource.kind, entry.resource.attrs, flavors))
        who = f"pipeline {owner}" if owner != "-" else "no owner"
        objects = tuple({"kind": e.resource.kind.value, "id": e.resource.id, "name": e.resource.name,
                         "decision": e.decision, "reason": e.reason,
                         "holds": {name: n for (_, name), n in held_by(e.resource.kind, e.resource.attrs,
                                                                       flavors).items()}}
                        for e in entries)
        kinds = Counter(e.resource.kind.value.replace("_", " ") for e in entries)
        what = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in sorted(kinds.items()))
        out.append(Finding(LEFTOVERS, WARNING, who, f"{who}: {len(entries)} to clean up ({what}), holding "
                                                    f"{describe(held)}", objects,
                           extra={"owner": owner if owner != "-" else None,
                                  "holds": {f"{s}.{n}": v for (s, n), v in sorted(held.items())}}))
    return out
