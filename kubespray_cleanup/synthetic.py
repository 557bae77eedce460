"""Synthetic Kubespray inventories as Resources, for planner tests and the planning-scale benchmark."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from kubespray_cleanup.model import Kind, Resource

PROJECT = "564c6b461c6b44b1bb19cdb9c2d928e4"
ROUTER_ID = "ab95917c-41fb-4881-b507-3a6dfe9403df"
EXTERNAL_NET = "600b8501-78cb-4155-9c9f-23dfcba88828"


def _id(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(map(str, parts))))


def _res(kind: Kind, rid: str, name: str, created: datetime | None, project: str = PROJECT, **attrs: Any) -> Resource:
    attrs.setdefault("id", rid)
    attrs.setdefault("name", name)
    return Resource(kind, rid, name, project, created, attrs)


def shared(now: datetime, project: str = PROJECT) -> list[Resource]:
    """The project's shared things: external network, shared router, default SG."""
    old = now - timedelta(days=200)
    return [
        _res(Kind.NETWORK, EXTERNAL_NET, "elx-public1", old, "admin-project", **{"router:external": True}),
        _res(Kind.ROUTER, ROUTER_ID, "kubespray-ci-router", old, project, routes=[],
             external_gateway_info={"network_id": EXTERNAL_NET}),
        _res(Kind.SECURITY_GROUP, _id(project, "default"), "default", old, project, security_group_rules=[]),
    ]


def cluster(job: str, created: datetime, masters: int = 1, nodes: int = 1, volumes: int = 0,
            project: str = PROJECT, cidr_octet: int = 1) -> list[Resource]:
    """One Kubespray elastx cluster as the inventory lists it (servers on pre-created ports, FIPs, SGs ...)."""
    net = _id(job, "net")
    subnet = _id(job, "subnet")
    sgs = {name: _id(job, "sg", name) for name in ("k8s", "k8s-master", "k8s-worker", "bastion")}
    out = [
        _res(Kind.NETWORK, net, f"ci-{job}", created, project),
        _res(Kind.SUBNET, subnet, f"{job}-internal-network", created, project, network_id=net,
             cidr=f"10.{cidr_octet % 256}.{(cidr_octet // 256) % 256}.0/24"),
        _res(Kind.ROUTER_INTERFACE, _id(job, "ri"), "", created, project, device_id=ROUTER_ID,
             device_owner="network:router_interface", network_id=net, router_id=ROUTER_ID, subnet_ids=[subnet],
             fixed_ips=[{"subnet_id": subnet, "ip_address": f"10.{cidr_octet % 256}.0.1"}]),
        _res(Kind.KEYPAIR, f"kubernetes-{job}", f"kubernetes-{job}", None, project),
    ]
    for name, sg in sgs.items():
        rules = [{"remote_group_id": sg}] if name == "k8s" else []
        out.append(_res(Kind.SECURITY_GROUP, sg, f"{job}-{name}", created, project, security_group_rules=rules))
    roles = [("k8s-master", i, [sgs["k8s-master"], sgs["k8s"]]) for i in range(1, masters + 1)]
    roles += [("k8s-node", i, [sgs["k8s-worker"], sgs["k8s"]]) for i in range(1, nodes + 1)]
    for role, n, port_sgs in roles:
        name = f"{job}-{role}-{n}"
        server, port, fip = _id(job, name, "server"), _id(job, name, "port"), _id(job, name, "fip")
        address = f"10.{cidr_octet % 256}.0.{10 + len(out) % 200}"
        attached = [{"id": _id(job, name, "vol", v)} for v in range(volumes)]
        out.append(_res(Kind.SERVER, server, name, created, project, key_name=f"kubernetes-{job}",
                        status="ACTIVE", **{"os-extended-volumes:volumes_attached": attached}))
        out.append(_res(Kind.PORT, port, name, created, project, network_id=net, device_id=server,
                        device_owner="compute:sto1", security_groups=port_sgs,
                        fixed_ips=[{"subnet_id": subnet, "ip_address": address}]))
        out.append(_res(Kind.FLOATING_IP, fip, "", created, project, port_id=port, fixed_ip_address=address,
                        router_id=ROUTER_ID, floating_network_id=EXTERNAL_NET))
        for v in range(volumes):
            vid = _id(job, name, "vol", v)
            out.append(_res(Kind.VOLUME, vid, f"{job}-{role}-{n}-volume-{v}", created, project, status="in-use",
                            attachments=[{"server_id": server, "volume_id": vid}]))
    return out


def inventory(leaked: int, live: int, now: datetime | None = None, volumes: int = 0) -> list[Resource]:
    """``leaked`` clusters 6 h old and ``live`` clusters 20 min old, beside the shared objects."""
    now = now or datetime.now(UTC)
    resources = shared(now)
    for i in range(leaked):
        resources += cluster(str(100000 + i), now - timedelta(hours=6), volumes=volumes, cidr_octet=i)
    for i in range(live):
        resources += cluster(str(900000 + i), now - timedelta(minutes=20), volumes=volumes, cidr_octet=50000 + i)
    return resources
