"""Names and things the next apply needs: what it will create must not exist yet (collision), and what it
refers to must exist (missing): flavors, image, floating IP pool, external network, the shared router."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from kubespray_cleanup.check.findings import COLLISION, ERROR, MISSING, OK, WARNING, Finding
from kubespray_cleanup.check.needs import Flavor, find_flavor
from kubespray_cleanup.check.probe import Prober, get_json
from kubespray_cleanup.check.shape import Shape
from kubespray_cleanup.model import Kind
from kubespray_cleanup.planner import ACTIONS, Entry, Plan


def _obj(entry: Entry) -> dict[str, Any]:
    res = entry.resource
    return {"kind": res.kind.value, "id": res.id, "name": res.name, "decision": entry.decision,
            "owner": entry.owner}


def _named(plan: Plan, kind: Kind, name: str) -> list[Entry]:
    return [e for e in plan.entries.values() if e.resource.kind is kind and e.resource.name == name]


def _clash(what: str, name: str, entries: list[Entry], severity: str = ERROR, why: str = "") -> Finding:
    if not entries:
        return Finding(COLLISION, OK, f"{what} {name}", f"{what} {name}: free")
    fixable = all(e.decision in ACTIONS for e in entries)
    cleanup = "; the cleanup would delete it" if fixable else ""
    return Finding(COLLISION, severity, f"{what} {name}", f"{what} {name} already exists{why}{cleanup}",
                   tuple(_obj(e) for e in entries), fixable=fixable)


def collisions(shape: Shape, plan: Plan) -> list[Finding]:
    out: list[Finding] = []
    cluster = shape.cluster_name
    if cluster is None:
        out.append(Finding(COLLISION, WARNING, "cluster name", "cluster name unknown (set TF_VAR_cluster_name or "
                                                               "CI_JOB_ID): its keypair name is not checked"))
    else:
        out.append(_clash("keypair", f"kubernetes-{cluster}", _named(plan, Kind.KEYPAIR, f"kubernetes-{cluster}"),
                          why=" (Nova refuses a second keypair of that name)"))
    if shape.makes_network:
        name = str(shape.get("network_name"))
        out.append(_clash("network", name, _named(plan, Kind.NETWORK, name)))
    for group in shape.server_groups:
        live = [e for e in _named(plan, Kind.SERVER_GROUP, group) if e.decision not in ACTIONS]
        out.append(_clash("server group", group, live, severity=WARNING,
                          why=" and is in use by a live job (the fixed name is shared by every job)"))
    out.extend(_cidr_overlap(shape, plan))
    return out


def _cidr_overlap(shape: Shape, plan: Plan) -> list[Finding]:
    cidr, router = shape.get("subnet_cidr"), shape.router_id
    if not (cidr and router):
        return []
    try:
        wanted = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return [Finding(COLLISION, ERROR, "subnet cidr", f"subnet_cidr {cidr!r} is not a CIDR")]
    subnets = {e.resource.id: e for e in plan.entries.values() if e.resource.kind is Kind.SUBNET}
    clashing = []
    for entry in plan.entries.values():
        if entry.resource.kind is not Kind.ROUTER_INTERFACE or entry.resource.attrs.get("router_id") != router:
            continue
        for subnet_id in entry.resource.attrs.get("subnet_ids") or ():
            subnet = subnets.get(str(subnet_id))
            other = _network(subnet.resource.attrs.get("cidr")) if subnet else None
            if subnet and other is not None and other.version == wanted.version and other.overlaps(wanted):
                clashing.append(entry)
    name = f"subnet {wanted} on router {router}"
    return [_clash("cidr", str(wanted), clashing, why=f" on router {router} (Neutron refuses an overlapping "
                                                       "interface)") if clashing else
            Finding(COLLISION, OK, name, f"{name}: no overlap")]


def _network(text: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        return None


def missing(shape: Shape, flavors: Mapping[str, Flavor] | None, conn: Any, prober: Prober) -> list[Finding]:
    out: list[Finding | None] = []
    if flavors is not None:
        for wanted in dict.fromkeys(s.flavor for s in shape.servers if s.count):
            found = find_flavor(flavors, wanted)
            roles = ", ".join(s.role for s in shape.servers if s.count and s.flavor == wanted)
            out.append(Finding(MISSING, OK, f"flavor {wanted}", f"flavor {wanted}: {found.name} ({found.vcpus} "
                                                                f"vCPU, {found.ram} MB)") if found else
                       Finding(MISSING, ERROR, f"flavor {wanted}", f"flavor {wanted} ({roles}) does not exist"))
    out.append(_image(shape, conn, prober))
    if any(s.floating_ip and s.count for s in shape.servers):
        out.append(_lookup(conn, prober, "floating IP pool", str(shape.get("floatingip_pool")),
                           f"/networks?name={quote(str(shape.get('floatingip_pool')))}&router:external=True",
                           "networks"))
    if shape.get("external_net"):
        out.append(_lookup(conn, prober, "external network", str(shape.get("external_net")),
                           f"/networks/{quote(str(shape.get('external_net')))}", "network"))
    if shape.router_id:
        out.append(_router(conn, prober, shape.router_id))
    return [f for f in out if f is not None]


def _image(shape: Shape, conn: Any, prober: Prober) -> Finding | None:
    image_id, name = shape.get("image_uuid"), str(shape.get("image"))
    path = f"/images/{quote(str(image_id))}" if image_id else f"/images?name={quote(name)}"
    body = prober.call("image", "image", lambda: get_json(conn.image, path))
    label = f"image {image_id or name}"
    failure = prober.failure("image", "image")
    if body is None and failure and failure[0] == 404:
        return Finding(MISSING, ERROR, label, f"{label} does not exist")
    if body is None:
        return None  # the endpoint check reports a service that did not answer
    if not image_id and not body.get("images"):
        return Finding(MISSING, ERROR, label, f"{label} does not exist (no image of that name)")
    return Finding(MISSING, OK, label, f"{label}: present")


def _lookup(conn: Any, prober: Prober, what: str, name: str, path: str, key: str) -> Finding | None:
    body = prober.call("network", what, lambda: get_json(conn.network, path))
    failure = prober.failure("network", what)
    if body is None and not (failure and failure[0] == 404):
        return None
    if body is None or not body.get(key):
        return Finding(MISSING, ERROR, f"{what} {name}", f"{what} {name} does not exist")
    return Finding(MISSING, OK, f"{what} {name}", f"{what} {name}: present")


def _router(conn: Any, prober: Prober, router_id: str) -> Finding | None:
    body = prober.call("network", "router", lambda: get_json(conn.network, f"/routers/{quote(router_id)}"))
    failure = prober.failure("network", "router")
    label = f"router {router_id}"
    if body is None and failure and failure[0] == 404:
        return Finding(MISSING, ERROR, label, f"shared {label} does not exist (TF_VAR_router_id)")
    if body is None:
        return None
    router = body.get("router") or {}
    if not router.get("external_gateway_info"):
        return Finding(MISSING, ERROR, label, f"shared {label} ({router.get('name')}) has no external gateway: "
                                              "floating IPs cannot reach the cluster")
    return Finding(MISSING, OK, label, f"shared {label} ({router.get('name')}): present, with its gateway")
