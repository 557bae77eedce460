"""Quota limits set per scenario (YAML) or by a test, as each service reports them through openstacksdk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubespray_cleanup.simulator.server import SimulatorServer

SCENARIO = """\
name: tight
extends: empty
quotas:
  elastx: {compute: {instances: 3, cores: 6}, network: {floatingip: 2}, block-storage: {gigabytes: 50},
           load-balancer: {load_balancer: 1}}
"""


def test_scenario_quotas_reach_every_service(make_sim: Callable[..., SimulatorServer], tmp_path: Path) -> None:
    """A scenario's ``quotas:`` are the limits Nova, Neutron, Cinder and Octavia report; others keep defaults."""
    path = tmp_path / "tight.yaml"
    path.write_text(SCENARIO)
    conn = make_sim(str(path)).connect("elastx")
    pid = conn.current_project_id
    nova = conn.compute.get(f"/os-quota-sets/{pid}/detail").json()["quota_set"]
    assert nova["instances"] == {"limit": 3, "in_use": 0, "reserved": 0} and nova["cores"]["limit"] == 6
    assert nova["ram"]["limit"] == 51200
    assert conn.network.get_quota(pid, details=True).floating_ips["limit"] == 2
    assert conn.block_storage.get_quota_set(pid, usage=True).gigabytes == 50
    assert conn.load_balancer.get_quota(pid).load_balancers == 1


def test_nova_limits_report_totals_used(sim: SimulatorServer) -> None:
    """``GET /limits`` (absolute) carries the limits and the totals used; ``reserved=1`` is accepted."""
    conn = sim.connect("elastx")
    sim.simulator.store.set_quota(conn.current_project_id, "compute", instances=7)
    absolute = conn.compute.get("/limits?reserved=1").json()["limits"]["absolute"]
    assert absolute["maxTotalInstances"] == 7 and absolute["totalInstancesUsed"] == 0
    assert conn.compute.get_limits().absolute.instances == 7


def test_octavia_quota_defaults_are_for_admins(sim: SimulatorServer) -> None:
    """``/v2/lbaas/quotas/defaults`` routes as a project named "defaults" (Octavia's pecan routing): a member of
    another project is refused, an admin reads the (unlimited) defaults."""
    member = sim.connect("elastx").load_balancer.get("/lbaas/quotas/defaults")
    assert member.status_code == 403
    quota = sim.connect("admin").load_balancer.get("/lbaas/quotas/defaults").json()["quota"]
    assert quota["load_balancer"] == -1 and quota["listener"] == -1


def test_unknown_quota_service_in_a_scenario_is_refused(make_sim: Callable[..., SimulatorServer],
                                                        tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nextends: empty\nquotas:\n  elastx: {dns: {zones: 1}}\n")
    try:
        make_sim(str(path))
    except ValueError as exc:
        assert "unknown service 'dns'" in str(exc)
    else:
        raise AssertionError("an unknown quota service was accepted")
