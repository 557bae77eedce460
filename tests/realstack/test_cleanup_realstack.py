"""End to end against real OpenStack: ``tf-cleanup`` cleans a leaked Kubespray CI topology with zero 409s.

The topology is built through the real APIs in a project of its own (so the conformance tests' leftovers
in ``elastx``/``other`` never meet it): two leaked pipelines and one live one, each shaped like Kubespray's
``contrib/terraform/openstack`` with the elastx CI naming (network ``ci-<job>``, subnet
``<job>-internal-network``, ports ``<job>-k8s-master-1``/``<job>-k8s-node-1`` with groups ``<job>-k8s``
and ``<job>-k8s-master``, a floating IP on the master, an interface on the project's shared router
``kubespray-ci-router``, with Cinder a volume ``<job>-etcd-1`` with a snapshot, with Octavia a load
balancer ``<job>-api-loadbalancer`` on the subnet with a listener and pool), plus the project's
``default`` group and a network no pipeline made. Conflicts are counted from the services' gunicorn
access logs (real services have no /_sim/stats).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conformance.helpers import wait_status
from tests.realstack.plugin import PLUGIN_NAME, RealStack, connect

pytestmark = pytest.mark.realstack

LEAKED = ("9001", "9002")
LIVE = "9003"


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> RealStack:
    if not request.config.pluginmanager.has_plugin(PLUGIN_NAME):
        pytest.skip("realstack tier is off: run `tox -e realstack` (pytest -p tests.realstack.plugin --realstack)")
    result: RealStack = request.getfixturevalue("realstack")
    return result


def _pipeline(conn: Any, job: str, router: Any, index: int, cinder: bool, octavia: bool) -> dict[str, list[str]]:
    """One Kubespray CI cluster's network side (a volume + snapshot with Cinder, a load balancer with a listener
    and pool with Octavia); ids by kind."""
    net = conn.network
    network = net.create_network(name=f"ci-{job}")
    subnet = net.create_subnet(network_id=network.id, name=f"{job}-internal-network", ip_version=4,
                               cidr=f"10.{index}.0.0/24", dns_nameservers=["127.0.0.53"])
    iface = net.add_interface_to_router(router, subnet=subnet.id)
    k8s = net.create_security_group(name=f"{job}-k8s")
    master = net.create_security_group(name=f"{job}-k8s-master")
    rules = [
        net.create_security_group_rule(security_group_id=k8s.id, direction="ingress", ethertype="IPv4",
                                       remote_group_id=k8s.id),
        net.create_security_group_rule(security_group_id=master.id, direction="ingress", ethertype="IPv4",
                                       protocol="tcp", port_range_min=6443, port_range_max=6443,
                                       remote_group_id=k8s.id),
    ]
    ports = [net.create_port(network_id=network.id, name=f"{job}-k8s-master-1",
                             security_group_ids=[k8s.id, master.id]),
             net.create_port(network_id=network.id, name=f"{job}-k8s-node-1", security_group_ids=[k8s.id])]
    ext = next(net.networks(is_router_external=True, name="public"))
    fip = net.create_ip(floating_network_id=ext.id, port_id=ports[0].id)
    ids = {"network": [network.id], "subnet": [subnet.id], "router_interface": [iface["port_id"]],
           "security_group": [k8s.id, master.id], "security_group_rule": [r.id for r in rules],
           "port": [p.id for p in ports], "floating_ip": [fip.id], "volume": [], "snapshot": [], "load_balancer": []}
    if cinder:
        volume = conn.block_storage.create_volume(size=1, name=f"{job}-etcd-1")
        wait_status(lambda: conn.block_storage.get_volume(volume.id), "available")
        snap = conn.block_storage.create_snapshot(volume_id=volume.id, name=f"{job}-etcd-1-snap")
        wait_status(lambda: conn.block_storage.get_snapshot(snap.id), "available")
        ids["volume"], ids["snapshot"] = [volume.id], [snap.id]
    if octavia:
        lbs = conn.load_balancer
        lb = lbs.create_load_balancer(name=f"{job}-api-loadbalancer", vip_subnet_id=subnet.id)
        lbs.wait_for_load_balancer(lb.id, status="ACTIVE", failures=["ERROR"], interval=0.1, wait=60)
        listener = lbs.create_listener(name=f"{job}-api-listener", loadbalancer_id=lb.id, protocol="TCP",
                                       protocol_port=6443)
        lbs.wait_for_load_balancer(lb.id, status="ACTIVE", failures=["ERROR"], interval=0.1, wait=60)
        lbs.create_pool(name=f"{job}-api-pool", listener_id=listener.id, protocol="TCP", lb_algorithm="ROUND_ROBIN")
        lbs.wait_for_load_balancer(lb.id, status="ACTIVE", failures=["ERROR"], interval=0.1, wait=60)
        ids["load_balancer"] = [lb.id]
    return ids


def _exists(conn: Any, kind: str, rid: str) -> bool:
    # (proxy, finder): looked up only for the kind asked, since a service the stack does not run has no proxy
    finders = {"network": ("network", "find_network"), "subnet": ("network", "find_subnet"),
               "router_interface": ("network", "find_port"), "port": ("network", "find_port"),
               "security_group": ("network", "find_security_group"),
               "security_group_rule": ("network", "find_security_group_rule"),
               "floating_ip": ("network", "find_ip"), "router": ("network", "find_router"),
               "volume": ("block_storage", "find_volume"), "snapshot": ("block_storage", "find_snapshot"),
               "load_balancer": ("load_balancer", "find_load_balancer")}
    proxy, finder = finders[kind]
    try:
        return getattr(getattr(conn, proxy), finder)(rid, ignore_missing=True) is not None
    except Exception as exc:   # a name-filter fallback refused: look the id up directly
        if kind in ("volume", "snapshot"):
            return bool(conn.block_storage.get(f"/{kind}s/{rid}").status_code == 200)
        raise AssertionError(f"{kind} {rid}: {exc}") from exc


def _fingerprint(conn: Any, kind: str, rid: str) -> Any:
    """What must not change on a kept resource: Neutron's revision_number (any update bumps it), Cinder's status."""
    if kind in ("volume", "snapshot"):
        return conn.block_storage.get(f"/{kind}s/{rid}").json()[kind]["status"]
    if kind == "load_balancer":
        lb = conn.load_balancer.get(f"/lbaas/loadbalancers/{rid}").json()["loadbalancer"]
        return lb["provisioning_status"], lb["updated_at"]
    path = {"network": "networks", "subnet": "subnets", "router_interface": "ports", "port": "ports",
            "security_group": "security-groups", "security_group_rule": "security-group-rules",
            "floating_ip": "floatingips", "router": "routers"}[kind]
    body = conn.network.get(f"/{path}/{rid}").json()
    record = next(iter(body.values()))
    if kind == "router":   # the shared router: its leaked interfaces go (each bumps its revision), the rest stays
        return record["name"], record["external_gateway_info"]
    return record.get("revision_number"), record.get("port_id")


def test_tf_cleanup_removes_leaked_pipelines_with_zero_conflicts(stack: RealStack, tmp_path: Path) -> None:
    cloud_name, cloud = stack.new_project("kubespray-e2e")
    conn = connect(cloud)
    net = conn.network
    ext = next(net.networks(is_router_external=True, name="public"))
    router = net.create_router(name="kubespray-ci-router", external_gateway_info={"network_id": ext.id})
    leaked = {job: _pipeline(conn, job, router, i + 1, stack.cinder, stack.octavia) for i, job in enumerate(LEAKED)}
    live = _pipeline(conn, LIVE, router, 9, stack.cinder, stack.octavia)
    default = next(net.security_groups(name="default", project_id=conn.current_project_id))
    bystander = net.create_network(name="bastion-net")
    kept: dict[str, list[str]] = {kind: list(ids) for kind, ids in live.items()}
    kept.setdefault("router", []).append(router.id)
    kept["security_group"] += [default.id]
    kept["network"] += [bystander.id]
    before = {(kind, rid): _fingerprint(conn, kind, rid) for kind, ids in kept.items() for rid in ids}

    clouds = tmp_path / "clouds.yaml"
    clouds.write_text(yaml.safe_dump({"clouds": {cloud_name: cloud}}))
    config = tmp_path / "tf-cleanup.yaml"
    config.write_text(yaml.safe_dump({"profiles": {"realstack": {"extends": "elastx", "cloud": cloud_name}}}))
    report = tmp_path / "report.json"
    running = {"neutron": True, "cinder": stack.cinder, "octavia": stack.octavia}
    logs = {service: stack.access_log(service) for service, on in running.items() if on}
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update({"OS_CLIENT_CONFIG_FILE": str(clouds), "CI": "true"})
    tf_cleanup = Path(sys.executable).parent / "tf-cleanup"
    argv = [str(tf_cleanup) if tf_cleanup.exists() else sys.executable, *([] if tf_cleanup.exists() else
            ["-c", "from kubespray_cleanup.cli import main; main()"]),
            "--project", "realstack", "--config", str(config), "--yes", "--min-age", "0s", "--live-owner", LIVE,
            "--report", str(report), "--poll-interval", "0.5", "--resource-timeout", "120", "--timeout", "600"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False, cwd=tmp_path)
    print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")

    requests = {service: log.statuses() for service, log in logs.items()}
    conflicts = {service: [(r, s) for r, s in rows if s == 409] for service, rows in requests.items()}
    # Cinder and Octavia refuse a dependency with 400 (volume with snapshots, load balancer with children)
    refusals = [(r, s) for service in ("cinder", "octavia") for r, s in requests.get(service, []) if s == 400]
    errors = [(r, s) for rows in requests.values() for r, s in rows if s >= 500]
    assert conflicts == {service: [] for service in logs}, conflicts
    assert refusals == [], refusals
    assert errors == [], errors
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])

    for job, ids in leaked.items():
        left = [(kind, rid) for kind, rids in ids.items() for rid in rids if _exists(conn, kind, rid)]
        assert left == [], f"pipeline {job} left {left}"
    after = {key: _fingerprint(conn, *key) for key in before}
    assert after == before
    mutating = [r for rows in requests.values() for r, _ in rows if r.split(" ", 1)[0] in ("DELETE", "PUT", "POST")]
    touched = [r for r in mutating for rids in kept.values() for rid in rids
               if rid in r and not (rid == router.id and "remove_router_interface" in r)]
    assert touched == [], touched
    outcome = json.loads(report.read_text())
    assert outcome, "empty report"
    deletes = sum(1 for r, _ in requests["neutron"] if r.startswith("DELETE "))
    print(f"realstack e2e: {len(mutating)} mutating requests ({deletes} Neutron DELETEs), 0 x 409, "
          f"{sum(len(v) for v in requests.values())} requests in all")


def test_services_listen_on_loopback_only(stack: RealStack) -> None:
    """Every TCP socket the stack's processes listen on is bound to the loopback (127.0.0.1, or ::1 for epmd)."""
    pgids = set(stack.info.get("processes", {}).values())
    if not pgids:
        pytest.skip("stack.json has no process list (a stack started elsewhere)")
    inodes: dict[str, int] = {}
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            if os.getpgid(int(pid_dir.name)) not in pgids:
                continue
            for fd in (pid_dir / "fd").iterdir():
                match = re.match(r"socket:\[(\d+)\]", os.readlink(fd))
                if match:
                    inodes[match.group(1)] = int(pid_dir.name)
        except OSError:
            continue
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:   # LISTEN
                listening.append((table, fields[1]))
    assert listening, "no listening socket found for the stack's processes"
    # 127.0.0.1, or ::1 (epmd always adds the IPv6 loopback next to the -address it is given)
    loopback = {("/proc/net/tcp", "0100007F"), ("/proc/net/tcp6", "00000000000000000000000001000000")}
    bad = [(t, a) for t, a in listening if (t, a.split(":")[0]) not in loopback]
    assert bad == [], bad
