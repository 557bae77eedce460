"""Octavia API surface: discovery, project isolation, admin listing, pagination, filters, quotas and shapes."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions

from kubespray_cleanup.simulator.server import SimulatorServer
from tests.simulator.test_octavia_support import (
    POLICY_FORBIDDEN,
    assert_fault,
    build_lb,
    make_subnet,
    project_id,
    seed_lb,
    wait_active,
)


def test_discovery_lists_v2_versions(sim: SimulatorServer, elastx: Any) -> None:
    """GET /load-balancer lists v2.0 ... v2.30 (last CURRENT), each linking to the /v2 root."""
    body = elastx.session.get(f"{sim.url}/load-balancer", authenticated=False).json()
    ids = [v["id"] for v in body["versions"]]
    assert ids[0] == "v2.0" and ids[-1] == "v2.30" and "v2.27" in ids
    assert body["versions"][-1]["status"] == "CURRENT"
    assert {v["links"][0]["href"] for v in body["versions"]} == {f"{sim.url}/load-balancer/v2"}


def test_lb_record_shape(sim: SimulatorServer, elastx: Any) -> None:
    """An LB carries the fields Octavia returns: VIP data, project/tenant id, provider amphora, id-only children."""
    subnet = make_subnet(elastx)
    ids = build_lb(elastx, subnet.id)
    raw = elastx.load_balancer.get(f"/lbaas/loadbalancers/{ids['lb']}").json()["loadbalancer"]
    pid = project_id(sim, "elastx")
    assert (raw["project_id"], raw["tenant_id"], raw["provider"]) == (pid, pid, "amphora")
    assert (raw["vip_subnet_id"], raw["vip_network_id"], raw["vip_sg_ids"]) == (subnet.id, subnet.network_id, [])
    assert raw["listeners"] == [{"id": ids["listener"]}] and raw["pools"] == [{"id": ids["pool"]}]
    assert raw["created_at"].count(":") == 2 and not raw["created_at"].endswith("Z")
    pool = elastx.load_balancer.get_pool(ids["pool"])
    assert (pool.members, pool.health_monitor_id, pool.listeners) == ([{"id": ids["member"]}], ids["hm"],
                                                                      [{"id": ids["listener"]}])


def test_other_project_lb_is_403_policy_forbidden(sim: SimulatorServer, elastx: Any, other: Any) -> None:
    """Isolation: another project neither lists, reads nor deletes the LB (Octavia answers 403, not 404)."""
    ids = seed_lb(sim, "elastx", make_subnet(elastx).id)
    assert list(other.load_balancer.load_balancers()) == []
    assert list(other.load_balancer.listeners()) == []
    for call in (lambda: other.load_balancer.get_load_balancer(ids["lb"]),
                 lambda: other.load_balancer.delete_load_balancer(ids["lb"], cascade=True),
                 lambda: other.load_balancer.delete_listener(ids["listener"]),
                 lambda: other.load_balancer.delete_member(ids["member"], ids["pool"]),
                 lambda: list(other.load_balancer.load_balancers(project_id=project_id(sim, "elastx")))):
        with pytest.raises(exceptions.ForbiddenException) as err:
            call()
        assert_fault(err.value, 403, POLICY_FORBIDDEN)
    assert elastx.load_balancer.get_load_balancer(ids["lb"]).provisioning_status == "ACTIVE"


def test_admin_lists_every_project(sim: SimulatorServer, elastx: Any, other: Any, admin: Any) -> None:
    """Admin lists LBs and children of all projects, and can narrow to one with project_id."""
    mine = seed_lb(sim, "elastx", make_subnet(elastx).id)
    theirs = seed_lb(sim, "other", make_subnet(other, "10.30.0.0/24").id)
    assert {lb.id for lb in admin.load_balancer.load_balancers()} == {mine["lb"], theirs["lb"]}
    assert {p.id for p in admin.load_balancer.pools()} == {mine["pool"], theirs["pool"]}
    only = admin.load_balancer.load_balancers(project_id=project_id(sim, "other"))
    assert [lb.id for lb in only] == [theirs["lb"]]
    admin.load_balancer.delete_load_balancer(theirs["lb"], cascade=True)


def test_list_pagination_links_and_order(sim: SimulatorServer, elastx: Any) -> None:
    """limit/marker pages in created_at, id order with loadbalancers_links; the SDK follows them."""
    subnet = make_subnet(elastx)
    made = [elastx.load_balancer.create_load_balancer(name=f"lb{i}", vip_subnet_id=subnet.id).id for i in range(5)]
    first = elastx.load_balancer.get("/lbaas/loadbalancers?limit=2").json()
    assert len(first["loadbalancers"]) == 2
    (link,) = first["loadbalancers_links"]
    assert link["rel"] == "next" and link["href"].endswith(f"?limit=2&marker={first['loadbalancers'][1]['id']}")
    listed = [lb.id for lb in elastx.load_balancer.load_balancers(limit=2)]
    rows = [sim.store.get("load_balancers", i) for i in made]
    assert listed == [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]))]  # type: ignore[index]
    assert elastx.load_balancer.get("/lbaas/loadbalancers").json()["loadbalancers_links"] == []


def test_list_filters_server_side(sim: SimulatorServer, elastx: Any) -> None:
    """Lists filter on model fields (name, vip_port_id, loadbalancer_id ...); unknown filters are 400."""
    subnet = make_subnet(elastx)
    a, b = seed_lb(sim, "elastx", subnet.id), seed_lb(sim, "elastx", subnet.id, with_children=False)
    assert [lb.id for lb in elastx.load_balancer.load_balancers(vip_port_id=b["vip_port"])] == [b["lb"]]
    assert [p.id for p in elastx.load_balancer.pools(loadbalancer_id=a["lb"])] == [a["pool"]]
    assert [x.id for x in elastx.load_balancer.listeners(protocol_port=443)] == [a["listener"]]
    resp = elastx.load_balancer.get("/lbaas/loadbalancers?colour=blue")
    assert (resp.status_code, resp.json()["faultstring"]) == (400, "One or more arguments are either duplicate or "
                                                                   "invalid")


def test_lb_update_and_status_tree(elastx: Any) -> None:
    """PUT renames the LB via PENDING_UPDATE; the status tree shows listener, pool, HM and members."""
    ids = build_lb(elastx, make_subnet(elastx).id)
    updated = elastx.load_balancer.update_load_balancer(ids["lb"], name="renamed")
    assert (updated.name, updated.provisioning_status) == ("renamed", "PENDING_UPDATE")
    wait_active(elastx, ids["lb"])
    tree = elastx.load_balancer.get(f"/lbaas/loadbalancers/{ids['lb']}/status").json()["statuses"]["loadbalancer"]
    pool = tree["listeners"][0]["pools"][0]
    assert (pool["id"], pool["health_monitor"]["id"], pool["members"][0]["id"]) == (ids["pool"], ids["hm"],
                                                                                   ids["member"])


def test_quota_show_and_limit(sim: SimulatorServer, elastx: Any, admin: Any) -> None:
    """Quotas default to -1; an admin-set limit makes the next LB create 403 'Quota has been met'."""
    pid = project_id(sim, "elastx")
    quota = elastx.load_balancer.get_quota(pid)
    assert (quota.load_balancers, quota.members) == (-1, -1)
    with pytest.raises(exceptions.ForbiddenException):
        elastx.load_balancer.update_quota(pid, load_balancer=1)
    admin.load_balancer.update_quota(pid, load_balancer=1)
    subnet = make_subnet(elastx)
    elastx.load_balancer.create_load_balancer(name="one", vip_subnet_id=subnet.id)
    with pytest.raises(exceptions.ForbiddenException) as err:
        elastx.load_balancer.create_load_balancer(name="two", vip_subnet_id=subnet.id)
    assert_fault(err.value, 403, "Quota has been met for resources: Load Balancer")


def test_lb_create_without_vip_is_400(elastx: Any) -> None:
    """A create body without any VIP field is rejected like Octavia's VIPValidationException."""
    with pytest.raises(exceptions.BadRequestException) as err:
        elastx.load_balancer.create_load_balancer(name="novip")
    assert_fault(err.value, 400, "Validation failure: VIP must contain one of: vip_port_id, vip_network_id, "
                                 "vip_subnet_id.")
