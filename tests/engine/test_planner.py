"""Selection, protection and keep-set propagation on synthetic inventories (pure logic, no cloud)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from kubespray_cleanup.config import get_profile
from kubespray_cleanup.model import Kind, Resource
from kubespray_cleanup.planner import BLOCKED, DELETE, DETACH, KEEP, PROTECTED, Options, make_plan
from kubespray_cleanup.sources.terraform_state import StateFile
from kubespray_cleanup.synthetic import PROJECT, ROUTER_ID, cluster, inventory, shared

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
PROFILE = get_profile("elastx")


def options(**kw: object) -> Options:
    base = {"now": NOW, "min_age": timedelta(hours=2), "state_max_age": timedelta(hours=3)}
    base.update(kw)
    return Options(**base)  # type: ignore[arg-type]


def plan_of(resources: list[Resource], states: list[StateFile] | None = None, **kw: object):
    return make_plan(resources, states or [], PROFILE, PROJECT, options(**kw))


def decisions(plan, kind: Kind) -> dict[str, str]:
    return {e.resource.name or e.resource.id: e.decision for e in plan.entries.values() if e.resource.kind is kind}


def test_leaked_cluster_is_deleted_and_its_interface_detached() -> None:
    """Every object of an old cluster is an action; the interface on the shared router is a detach."""
    plan = plan_of(inventory(leaked=1, live=0, now=NOW))
    actions = {e.resource.kind: e.decision for e in plan.entries.values() if e.owner == "100000"}
    assert actions[Kind.SERVER] == DELETE
    assert actions[Kind.ROUTER_INTERFACE] == DETACH
    assert actions[Kind.NETWORK] == DELETE
    assert all(e.decision in (DELETE, DETACH) for e in plan.entries.values() if e.owner == "100000")


def test_shared_router_default_sg_and_external_network_are_protected() -> None:
    """The router shared by all jobs, the default SG and the external network are never actions."""
    plan = plan_of(inventory(leaked=2, live=0, now=NOW))
    assert plan.entries[f"router:{ROUTER_ID}"].decision == PROTECTED
    assert decisions(plan, Kind.SECURITY_GROUP)["default"] == PROTECTED
    assert decisions(plan, Kind.NETWORK)["elx-public1"] == PROTECTED


def test_young_pipeline_is_kept_whole() -> None:
    """A pipeline whose newest resource is younger than min-age may still run: all of it is kept."""
    plan = plan_of(inventory(leaked=0, live=1, now=NOW))
    kept = [e for e in plan.entries.values() if e.owner == "900000"]
    assert kept and all(e.decision == KEEP for e in kept)
    assert "may still run" in kept[0].reason


def test_explicit_live_owner_keeps_an_old_pipeline() -> None:
    """--live-owner marks a pipeline as running whatever its age."""
    plan = plan_of(inventory(leaked=1, live=0, now=NOW), live_owners=frozenset({"100000"}))
    assert all(e.decision == KEEP for e in plan.entries.values() if e.owner == "100000")


def test_order_is_topological_servers_before_ports_before_networks() -> None:
    """Each server precedes its port, ports and interfaces precede their subnet, the subnet its network."""
    plan = plan_of(inventory(leaked=1, live=0, now=NOW))
    pos = {k: i for i, k in enumerate(plan.order())}
    by_kind: dict[Kind, list[str]] = {}
    for key in pos:
        by_kind.setdefault(plan.entries[key].resource.kind, []).append(key)
    for port in by_kind[Kind.PORT]:
        server = "server:" + plan.entries[port].resource.attrs["device_id"]
        assert pos[server] < pos[port]
    subnet = by_kind[Kind.SUBNET][0]
    assert all(pos[p] < pos[subnet] for p in by_kind[Kind.PORT] + by_kind[Kind.ROUTER_INTERFACE])
    assert pos[subnet] < pos[by_kind[Kind.NETWORK][0]]
    assert all(pos[f] < pos[by_kind[Kind.ROUTER_INTERFACE][0]] for f in by_kind[Kind.FLOATING_IP])
    for a, b in plan.action_graph().edges:
        assert pos[a] < pos[b]


def test_candidate_depended_on_by_kept_resource_is_blocked_with_reason() -> None:
    """A leaked SG still used by a live pipeline's port is blocked and the reason names the port."""
    leaked = cluster("4711", NOW - timedelta(hours=6))
    live = cluster("4712", NOW - timedelta(minutes=10), cidr_octet=7)
    leaked_sg = next(r for r in leaked if r.name == "4711-k8s")
    live_port = next(r for r in live if r.kind is Kind.PORT)
    patched = replace(live_port, attrs={**live_port.attrs,
                                        "security_groups": [*live_port.attrs["security_groups"], leaked_sg.id]})
    live = [patched if r is live_port else r for r in live]
    plan = plan_of(shared(NOW) + leaked + live)
    entry = plan.entries[leaked_sg.key]
    assert entry.decision == BLOCKED
    assert ("4712-k8s" in entry.reason and "live" in entry.reason) or "may still run" in entry.reason


def test_other_project_resources_are_protected_even_with_matching_names() -> None:
    """Names that match the CI patterns in another project are never touched."""
    foreign = cluster("4650", NOW - timedelta(days=2), project="another-project")
    plan = plan_of(shared(NOW) + foreign)
    assert {e.decision for e in plan.entries.values() if e.owner == "4650"} == {PROTECTED}


def test_orphan_floating_ip_without_port_is_deleted_when_old() -> None:
    """An unassociated FIP in no state and older than min-age is an orphan to delete."""
    fip = Resource(Kind.FLOATING_IP, "f1", "198.51.100.7", PROJECT, NOW - timedelta(days=3),
                   {"id": "f1", "port_id": None})
    young = Resource(Kind.FLOATING_IP, "f2", "198.51.100.8", PROJECT, NOW - timedelta(minutes=5),
                     {"id": "f2", "port_id": None})
    plan = plan_of(shared(NOW) + [fip, young])
    assert plan.entries[fip.key].decision == DELETE
    assert plan.entries[young.key].decision == KEEP


def test_unknown_resource_is_kept_as_not_ci_made() -> None:
    """A server whose name carries no job id and that no state owns is kept."""
    server = Resource(Kind.SERVER, "s1", "jumphost", PROJECT, NOW - timedelta(days=30), {"id": "s1"})
    plan = plan_of(shared(NOW) + [server])
    assert plan.entries[server.key].decision == KEEP
    assert "not CI-made" in plan.entries[server.key].reason


def test_live_state_keeps_resources_found_by_id(tmp_path) -> None:
    """A locked state keeps what it owns even when the names say nothing."""
    from kubespray_cleanup.sources.terraform_state import parse_state

    server = Resource(Kind.SERVER, "s1", "jumphost", PROJECT, NOW - timedelta(days=30), {"id": "s1"})
    state = parse_state('{"version": 4, "terraform_version": "1.12.6", "serial": 1, "lineage": "x", "outputs": {},'
                        ' "resources": [{"mode": "managed", "type": "openstack_compute_instance_v2", "name": "j",'
                        ' "provider": "provider[\\"registry.opentofu.org/terraform-provider-openstack/openstack\\"]",'
                        ' "instances": [{"attributes": {"id": "s1", "name": "jumphost"}}]}]}',
                        "live.tfstate", modified_at=NOW - timedelta(days=30), locked=True)
    plan = plan_of(shared(NOW) + [server], [state])
    assert plan.entries[server.key].decision == KEEP
    assert "live state" in plan.entries[server.key].reason


@pytest.mark.parametrize("leaked", [50])
def test_plan_scales_linearly_enough(leaked: int) -> None:
    """Planning 50 clusters stays well below a second (scale targets live in bench/)."""
    import time

    resources = inventory(leaked=leaked, live=5, now=NOW)
    started = time.perf_counter()
    plan = plan_of(resources)
    assert time.perf_counter() - started < 5
    assert len(plan.order()) > leaked * 10


def test_kept_floating_ip_on_leaked_port_is_disassociated_not_deleted() -> None:
    """A profile-protected FIP on a leaked port: its association is a detach action that precedes the interface."""
    from dataclasses import replace as dc_replace

    leaked = cluster("4711", NOW - timedelta(hours=6))
    fip = next(r for r in leaked if r.kind is Kind.FLOATING_IP)
    profile = dc_replace(PROFILE, protected_ids=(fip.id,))
    plan = make_plan(shared(NOW) + leaked, [], profile, PROJECT, options())
    assert plan.entries[fip.key].decision == PROTECTED
    association = plan.entries[f"floating_ip_association:{fip.id}"]
    assert association.decision == DETACH
    interface = next(k for k, e in plan.entries.items() if e.resource.kind is Kind.ROUTER_INTERFACE)
    assert plan.entries[interface].decision == DETACH
    order = plan.order()
    assert order.index(association.resource.key) < order.index(interface)
    assert not list(plan.graph.successors(fip.key))
