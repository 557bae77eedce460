"""Ownership: every name Kubespray's module makes, ownership by relation, and undated resources (pure logic)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kubespray_cleanup.model import Kind, Resource
from kubespray_cleanup.ownership import CSI_CLUSTER
from kubespray_cleanup.planner import DELETE, KEEP
from kubespray_cleanup.synthetic import PROJECT, cluster, shared
from tests.engine.test_planner import NOW, PROFILE, plan_of

OLD = NOW - timedelta(hours=6)


@pytest.mark.parametrize(("kind", "name"), [
    (Kind.SERVER, "4711-k8s-gpu"), (Kind.SERVER, "4711-k8s-node-cp-a"), (Kind.SERVER, "4711-k8s-master-ne-nf-2"),
    (Kind.SERVER, "4711-etcd-1"), (Kind.SERVER, "4711-gfs-node-nf-1"), (Kind.PORT, "4711-k8s-master-nf-1"),
    (Kind.SECURITY_GROUP, "4711-k8s-master-custom"), (Kind.SECURITY_GROUP, "4711-k8s-worker-gpu-rules"),
    (Kind.VOLUME, "4711-glusterfs_volume-1"), (Kind.ROUTER, "4711-router"),
    (Kind.LOAD_BALANCER, "4711-api-loadbalancer"), (Kind.SUBNET, "4711-internal-network"),
    (Kind.NETWORK, "ci-4711"), (Kind.KEYPAIR, "kubernetes-4711"), (Kind.SERVER, "4711-made-after-the-last-save"),
])
def test_every_module_name_is_attributed_to_its_job(kind: Kind, name: str) -> None:
    """Each name variant of the module (map keys, extra groups, gfs, etcd, router, LB) carries its job."""
    assert PROFILE.owner_of_name(kind, name) == "4711"


@pytest.mark.parametrize("name", ["10.24.153.0/24", "10-24-153-0", "2026-11-25-backup", "198.51.100.7",
                                  "123-k8s-node-1", "k8s-master-srvgrp", "internal", "4711-", "4711-1"])
def test_addresses_dates_and_short_numbers_are_not_job_ids(name: str) -> None:
    """A job id is 4-12 digits followed by a dash and a letter: CIDRs, addresses and dates never match."""
    assert all(PROFILE.owner_of_name(kind, name) is None for kind in Kind)


def _group(gid: str, members: list[str]) -> Resource:
    return Resource(Kind.SERVER_GROUP, gid, "k8s-master-srvgrp", PROJECT, None,
                    {"id": gid, "name": "k8s-master-srvgrp", "members": members})


def _server_id(resources: list[Resource], name: str) -> str:
    return next(r.id for r in resources if r.kind is Kind.SERVER and r.name == name)


def test_server_group_belongs_to_the_job_of_its_members() -> None:
    """Two jobs' ``k8s-master-srvgrp``: the dead job's goes (said by members), the live job's stays."""
    dead, live = cluster("4711", OLD), cluster("4712", NOW - timedelta(minutes=20), cidr_octet=2)
    groups = [_group("g-dead", [_server_id(dead, "4711-k8s-master-1")]),
              _group("g-live", [_server_id(live, "4712-k8s-master-1")])]
    plan = plan_of(shared(NOW) + dead + live + groups)
    gone, kept = plan.entries["server_group:g-dead"], plan.entries["server_group:g-live"]
    assert (gone.decision, gone.owner, gone.found_by) == (DELETE, "4711", "relation server_group.members")
    assert (kept.decision, kept.owner) == (KEEP, "4712")


def test_empty_server_group_in_no_state_is_kept_with_reason() -> None:
    """No prefix, no members, no state, no creation time: nothing proves a job made it."""
    plan = plan_of(shared(NOW) + cluster("4711", OLD) + [_group("g-empty", [])])
    entry = plan.entries["server_group:g-empty"]
    assert entry.decision == KEEP and entry.owner is None
    assert entry.reason.startswith("GitLab not configured")


def _rename(resources: list[Resource], kind: Kind, name: str) -> list[Resource]:
    return [Resource(r.kind, r.id, name, r.project_id, r.created_at, {**r.attrs, "name": name})
            if r.kind is kind else r for r in resources]


def test_network_named_internal_belongs_to_the_job_of_its_subnet() -> None:
    """``network_name`` defaults to ``internal`` in every job: the subnet ``C-internal-network`` says whose."""
    dead = _rename(cluster("4711", OLD), Kind.NETWORK, "internal")
    live = _rename(cluster("4712", NOW - timedelta(minutes=20), cidr_octet=2), Kind.NETWORK, "internal")
    plan = plan_of(shared(NOW) + dead + live)
    nets = {e.owner: e for e in plan.entries.values() if e.resource.kind is Kind.NETWORK and e.owner}
    assert nets["4711"].decision == DELETE and nets["4711"].found_by == "relation network.subnets"
    assert nets["4712"].decision == KEEP


def test_unnamed_server_belongs_to_the_job_of_its_port_network() -> None:
    """A server with a name no module version knows, on a leaked job's port and network, is that job's."""
    dead = cluster("4711", OLD)
    port = next(r for r in dead if r.kind is Kind.PORT)
    stray = Resource(Kind.SERVER, port.attrs["device_id"], "worker", PROJECT, OLD, {"id": port.attrs["device_id"]})
    resources = [stray if r.key == stray.key else r for r in dead]
    resources = [Resource(r.kind, r.id, "", r.project_id, r.created_at, r.attrs) if r.key == port.key else r
                 for r in resources]
    plan = plan_of(shared(NOW) + resources)
    entry = plan.entries[stray.key]
    assert (entry.decision, entry.owner) == (DELETE, "4711")
    assert entry.found_by.startswith("relation server.ports")


def test_security_group_follows_its_ports_only_when_they_all_agree() -> None:
    """An unnamed group carried only by a leaked job's ports goes; one also on a hand-made port stays."""
    dead = cluster("4711", OLD)
    ports = [r for r in dead if r.kind is Kind.PORT]
    only = Resource(Kind.SECURITY_GROUP, "sg-only", "allow-all", PROJECT, OLD, {"id": "sg-only"})
    mixed = Resource(Kind.SECURITY_GROUP, "sg-mixed", "ops", PROJECT, OLD, {"id": "sg-mixed"})
    hand = Resource(Kind.PORT, "p-hand", "vip", PROJECT, OLD, {"id": "p-hand", "security_groups": ["sg-mixed"]})
    dead = [Resource(r.kind, r.id, r.name, r.project_id, r.created_at,
                     {**r.attrs, "security_groups": [*r.attrs["security_groups"], "sg-only", "sg-mixed"]})
            if r in ports else r for r in dead]
    plan = plan_of(shared(NOW) + dead + [only, mixed, hand])
    assert plan.entries["security_group:sg-only"].decision == DELETE
    assert plan.entries["security_group:sg-only"].found_by == "relation security_group.ports"
    assert plan.entries["security_group:sg-mixed"].owner is None
    assert plan.entries["security_group:sg-mixed"].decision != DELETE


def test_default_security_group_on_a_leaked_port_stays_the_projects() -> None:
    """A port made without groups carries the project's ``default`` group: that never makes the group (or its
    fresh creation time) the job's, so the job is not kept alive by it and the group stays protected."""
    dead = cluster("4711", OLD)
    default_id = next(r.id for r in shared(NOW) if r.kind is Kind.SECURITY_GROUP and r.name == "default")
    fresh = [Resource(r.kind, r.id, r.name, r.project_id, NOW, r.attrs)
             if r.kind is Kind.SECURITY_GROUP and r.name == "default" else r for r in shared(NOW)]
    dead = [Resource(r.kind, r.id, r.name, r.project_id, r.created_at, {**r.attrs, "security_groups": [default_id]})
            if r.kind is Kind.PORT else r for r in dead]
    plan = plan_of(fresh + dead)
    assert plan.entries[f"security_group:{default_id}"].owner is None
    assert all(e.decision == DELETE for e in plan.entries.values()
               if e.owner == "4711" and e.resource.kind is Kind.SERVER)


@pytest.mark.parametrize(("cluster_name", "owner"), [("4711", "4711"), ("cluster.local", None)])
def test_csi_volume_belongs_to_the_cluster_in_its_metadata(cluster_name: str, owner: str | None) -> None:
    """``pvc-...`` volumes the Cinder CSI driver made carry the cluster; a name every job shares proves nothing."""
    vol = Resource(Kind.VOLUME, "v1", "pvc-0f1e", PROJECT, OLD,
                   {"id": "v1", "status": "available", "metadata": {CSI_CLUSTER: cluster_name}})
    plan = plan_of(shared(NOW) + cluster("4711", OLD) + [vol])
    assert plan.entries["volume:v1"].owner == owner
    assert plan.entries["volume:v1"].decision == (DELETE if owner else KEEP)


def test_undated_keypair_of_a_job_with_nothing_else_is_kept() -> None:
    """Keypairs list without ``created_at``: alone, a job's keypair may be the first thing a running job made."""
    keypair = Resource(Kind.KEYPAIR, "kubernetes-4799", "kubernetes-4799", PROJECT, None,
                       {"name": "kubernetes-4799"})
    plan = plan_of(shared(NOW) + [keypair])
    assert plan.entries[keypair.key].decision == KEEP
    assert "not proven finished" in plan.entries[keypair.key].reason


def test_undated_keypair_goes_when_the_job_has_an_old_resource() -> None:
    """Another dated resource of the same job older than min-age proves the job gone."""
    plan = plan_of(shared(NOW) + cluster("4711", OLD))
    assert plan.entries["keypair:kubernetes-4711"].decision == DELETE
