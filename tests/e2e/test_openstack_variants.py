"""Clouds as they really are, end to end: soft-deleting Nova, DVR/HA routers, trunks, boot-from-volume servers,
load balancers in ERROR, a cloud without Octavia. Each run: clean, zero 409s, nothing outside the plan touched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubespray_cleanup.errors import ExitCode
from kubespray_cleanup.simulator import nova
from kubespray_cleanup.simulator.deployment import Deployment
from tests.e2e.conftest import FAST, Stage

LEAKED = "4700"  # the demo's dead elastx pipeline (state left behind)


def _run(st: Stage) -> Any:
    result = st.run("--project", "elastx", "--state", str(st.states), *FAST)
    assert result.exit_code == ExitCode.CLEAN, result.output
    assert st.conflicts() == 0
    assert st.sim.simulator.stats_json()["by_status"].get("400", 0) == 0
    assert not {n for n in st.names() if n.startswith(f"{LEAKED}-") or n == f"ci-{LEAKED}"}, result.output
    assert {"4709-k8s-master-1", "4712-k8s-master-1", "kubespray-ci-router"} <= st.names()
    return result


def _record(st: Stage, table: str, name: str) -> dict[str, Any]:
    return next(r for r in st.sim.store.table(table).values() if r.get("name") == name)


def _deletes_of(st: Stage, ids: set[str]) -> int:
    """DELETE requests whose path names one of ``ids`` (from the simulator's request log)."""
    return sum(1 for line in st.tmp.joinpath("requests.log").read_text().splitlines()
               if '"DELETE"' in line and any(i in line for i in ids))


def test_soft_deleting_nova_gets_force_deletes_before_ports_and_volumes(stage: Callable[..., Stage]) -> None:
    """reclaim_instance_interval > 0: every leaked server ends up gone (not SOFT_DELETED), one already
    soft-deleted by an earlier run included; their pre-created ports and volumes follow without a refusal."""
    st = stage("demo", deployment=Deployment(reclaim_instance_interval=3600))
    with st.sim.store.lock:
        early = _record(st, "servers", f"{LEAKED}-k8s-node-1")
        nova.model.set_state(st.sim.store, early, "soft_deleted")
    result = _run(st)
    assert not [s for s in st.sim.store.table("servers").values() if s["status"] == "SOFT_DELETED"]
    assert "soft-deleted" in result.output


def test_dvr_and_ha_router_interfaces_are_detached_through_the_router(stage: Callable[..., Stage]) -> None:
    """Routers created distributed or HA: their interfaces (``network:router_interface_distributed``,
    ``network:ha_router_replicated_interface``) are removed with remove_router_interface; the SNAT and HA
    service ports are left to Neutron."""
    for deployment in (Deployment(router_distributed=True), Deployment(l3_ha=True)):
        st = stage("demo", deployment=deployment)
        owners = {p["device_owner"] for p in st.sim.store.table("ports").values()}
        assert owners & {"network:router_interface_distributed", "network:ha_router_replicated_interface"}
        _run(st)
        assert st.requests("PUT") >= 1


def _trunk_on_leaked_port(st: Stage, *, disabled: bool = False) -> tuple[str, str, str]:
    conn, before = st.sim.connect("elastx"), st.ids()
    parent = next(conn.network.ports(name=f"{LEAKED}-k8s-node-1"))
    sub = conn.network.create_port(network_id=parent.network_id, name=f"{LEAKED}-k8s-node-nf-7")
    trunk = conn.network.create_trunk(name="", port_id=parent.id, sub_ports=[
        {"port_id": sub.id, "segmentation_type": "vlan", "segmentation_id": 42}])
    if disabled:
        conn.network.update_trunk(trunk, is_admin_state_up=False)
    _backdate(st, before)
    return str(trunk.id), str(parent.id), str(sub.id)


def _backdate(st: Stage, before: set[str]) -> None:
    """Objects a test adds are as old as the leaked pipeline (a young object would keep its owner alive)."""
    when = _record(st, "networks", f"ci-{LEAKED}")["created_at"]
    with st.sim.store.lock:
        for rows in st.sim.store.tables.values():
            for record in rows.values():
                if str(record.get("id")) not in before:
                    for key in ("created_at", "created", "updated_at", "updated"):
                        if key in record:
                            record[key] = when


def test_trunk_goes_before_its_parent_and_subports(stage: Callable[..., Stage]) -> None:
    """A trunk on a leaked node port (bound, ML2/OVS: TrunkInUse until the server is gone; disabled: enabled
    first): deleted after the server and before its parent and subport, each DELETE sent once."""
    st = stage("demo", request_log=None)
    st.sim.simulator.request_log = st.tmp.joinpath("requests.log").open("a")
    trunk, parent, sub = _trunk_on_leaked_port(st, disabled=True)
    _run(st)
    assert not {trunk, parent, sub} & st.ids()
    assert _deletes_of(st, {trunk}) == 1 and _deletes_of(st, {parent}) == 1


def test_cloud_without_trunk_extension_skips_the_kind(stage: Callable[..., Stage]) -> None:
    """No ``trunk`` in /v2.0/extensions: one warning line, no crash, the rest cleaned."""
    st = stage("demo", deployment=Deployment(absent_extensions=frozenset({"trunk"})))
    result = _run(st)
    assert "trunks not listed: the network service has no trunk extension" in result.output


def test_boot_from_volume_servers_leave_no_volume_and_no_double_delete(stage: Callable[..., Stage]) -> None:
    """block_device_mapping_v2 boot volumes with delete_on_termination true (Nova deletes it) and false (left
    available, deleted by the cleanup), plus an attached glusterfs volume: all gone, no 400/409, no volume
    sent two DELETEs."""
    st = stage("demo")
    st.sim.simulator.request_log = st.tmp.joinpath("requests.log").open("a")
    conn, before = st.sim.connect("elastx"), st.ids()
    net = next(conn.network.networks(name=f"ci-{LEAKED}"))
    image = next(iter(conn.image.images()))
    flavor = next(iter(conn.compute.flavors()))
    servers = []
    for number, keep in ((1, False), (2, True)):
        servers.append(conn.compute.create_server(
            name=f"{LEAKED}-gfs-node-nf-{number}", flavor_id=flavor.id, networks=[{"uuid": net.id}],
            block_device_mapping_v2=[{"source_type": "image", "uuid": image.id, "destination_type": "volume",
                                      "boot_index": 0, "volume_size": 1, "delete_on_termination": not keep}]))
    for server in servers:
        conn.compute.wait_for_server(server, interval=0.02, wait=10)
    gluster = conn.block_storage.create_volume(size=1, name=f"{LEAKED}-glusterfs_volume-1")
    conn.block_storage.wait_for_status(gluster, "available", interval=0.02, wait=10)
    conn.compute.create_volume_attachment(servers[0], volume_id=gluster.id)
    volumes = {v.id for v in conn.block_storage.volumes() if any(
        a["server_id"] in {s.id for s in servers} for a in v.attachments)}
    assert len(volumes) == 3
    _backdate(st, before)
    _run(st)
    assert not volumes & st.ids()
    assert all(_deletes_of(st, {v}) <= 1 for v in volumes)


def test_load_balancer_in_error_is_deleted_without_waiting(stage: Callable[..., Stage]) -> None:
    """provisioning_status ERROR: deletable at once (Octavia accepts it), cascaded with the rest."""
    st = stage("demo")
    with st.sim.store.lock:
        _record(st, "load_balancers", f"{LEAKED}-api-loadbalancer")["provisioning_status"] = "ERROR"
    _run(st)


def test_cloud_without_octavia_skips_load_balancers(stage: Callable[..., Stage]) -> None:
    """load-balancer not in the catalog: "load balancers not listed: ..." once, no crash, the rest cleaned."""
    st = stage("demo")
    admin = st.sim.connect("admin")
    for lb in list(admin.load_balancer.load_balancers()):  # a cloud without Octavia has none
        admin.load_balancer.delete_load_balancer(lb, cascade=True)
        admin.load_balancer.wait_for_delete(lb, interval=0.02, wait=10)
    st.sim.store.deployment = Deployment(absent_services=frozenset({"load-balancer"}))
    st.sim.simulator.reset_stats()
    result = _run(st)
    assert "load balancers not listed: service load-balancer not in the catalog" in result.output


def test_nova_lag_in_releasing_ports_and_volumes_causes_no_refusal(stage: Callable[..., Stage]) -> None:
    """Ports unbound and volumes detached well after their server left the list: the cleanup waits for the
    release instead of meeting 400 (volume in-use) or 409 refusals."""
    from kubespray_cleanup.simulator.latency import PROFILES, LatencyProfile

    fast = PROFILES["fast"]
    lagging = LatencyProfile("lagging", operations={**fast.operations, "server.release": 20.0})
    _run(stage("demo", latency=lagging))
