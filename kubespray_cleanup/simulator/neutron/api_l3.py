"""Neutron API handlers for routers, floating IPs and trunks (N3-N7 and the trunk side of N11)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import empty, json_response, neutron_error
from kubespray_cleanup.simulator.neutron import quota
from kubespray_cleanup.simulator.neutron.api_core import check_attrs
from kubespray_cleanup.simulator.neutron.l3 import (
    add_router_interface,
    associate_floating_ip,
    create_floating_ip,
    create_router,
    interface_ports,
    remove_floating_ip,
    remove_router,
    remove_router_interface,
    set_gateway,
)
from kubespray_cleanup.simulator.neutron.model import allocate_ip, stamp, touch
from kubespray_cleanup.simulator.neutron.query import (
    bulk_bodies,
    created,
    fetch,
    forbid_admin_only,
    list_handler,
    one,
    owner_for_create,
    post_handler,
    resource_body,
    show_handler,
    visible,
)
from kubespray_cleanup.simulator.store import Record, public

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

ROUTER_CREATE = frozenset(("name", "description", "admin_state_up", "tags", "project_id", "tenant_id",
                           "external_gateway_info", "distributed", "ha", "availability_zone_hints", "flavor_id",
                           "enable_ndp_proxy"))
ROUTER_UPDATE = frozenset(("name", "description", "admin_state_up", "tags", "external_gateway_info", "routes",
                           "distributed", "ha", "enable_ndp_proxy"))
FIP_CREATE = frozenset(("floating_network_id", "port_id", "fixed_ip_address", "floating_ip_address", "subnet_id",
                        "description", "tags", "project_id", "tenant_id", "dns_name", "dns_domain",
                        "qos_policy_id"))
FIP_UPDATE = frozenset(("port_id", "fixed_ip_address", "description", "tags", "qos_policy_id"))
TRUNK_CREATE = frozenset(("name", "description", "admin_state_up", "port_id", "sub_ports", "tags", "project_id",
                          "tenant_id"))
TRUNK_UPDATE = frozenset(("name", "description", "admin_state_up", "tags"))


# --- routers -----------------------------------------------------------------------
def _gateway_network(ctx: Ctx, info: Any) -> None:
    if isinstance(info, dict) and info.get("network_id"):
        net = ctx.store.get("networks", str(info["network_id"]))
        if net is None or not visible(ctx, "networks", net):
            raise neutron_error(404, "NetworkNotFound", f"Network {info['network_id']} could not be found.")


def post_routers(ctx: Ctx) -> Response:
    bodies, bulk = bulk_bodies(ctx, "routers")
    made: list[Record] = []
    for body in bodies:
        check_attrs(body, ROUTER_CREATE)
        forbid_admin_only(ctx, "create_router", body, ("distributed", "ha"))
        pid = owner_for_create(ctx, body)
        quota.check(ctx.store, pid, "router")
        info = body.get("external_gateway_info")
        _gateway_network(ctx, info)
        extra = {k: v for k, v in body.items()
                 if k not in ("name", "project_id", "tenant_id", "external_gateway_info")}
        router = create_router(ctx.store, pid, str(body.get("name", "")), **extra)
        if isinstance(info, dict) and info.get("network_id"):
            try:
                set_gateway(ctx.store, router["id"], info)
            except Exception:
                ctx.store.remove("routers", router["id"])
                raise
        made.append(router)
    return created(ctx, "routers", made, bulk)


def put_router(ctx: Ctx, router_id: str) -> Response:
    router = fetch(ctx, "routers", router_id, modify=True)
    body = resource_body(ctx, "routers")
    check_attrs(body, ROUTER_UPDATE)
    forbid_admin_only(ctx, "update_router", body, ("distributed", "ha"))
    if "routes" in body:
        validate_routes(ctx, router, body["routes"] or [])
    if "external_gateway_info" in body:
        _gateway_network(ctx, body["external_gateway_info"])
        set_gateway(ctx.store, router_id, body["external_gateway_info"] or None)
    router.update({k: v for k, v in body.items() if k != "external_gateway_info"})
    if "routes" in body:
        router["routes"] = list(body["routes"] or [])
    return one(ctx, "routers", touch(ctx.store, router))


def validate_routes(ctx: Ctx, router: Record, routes: list[dict[str, Any]]) -> None:
    """Extra routes need a nexthop inside a subnet the router has an interface on (InvalidRoutes)."""
    blocks = [ipaddress.ip_network(s["cidr"]) for p in interface_ports(ctx.store, router["id"])
              for ip in p["fixed_ips"] if (s := ctx.store.get("subnets", ip["subnet_id"])) is not None]
    for route in routes:
        try:
            nexthop = ipaddress.ip_address(str(route.get("nexthop")))
            ipaddress.ip_network(str(route.get("destination")), strict=False)
        except ValueError:
            raise neutron_error(400, "HTTPBadRequest", f"Invalid input for routes. Reason: Invalid data format "
                                f"for hostroute: '{route}'.") from None
        if not any(nexthop.version == b.version and nexthop in b for b in blocks):
            raise neutron_error(400, "InvalidRoutes", f"Invalid format for routes: {routes}, the nexthop is not "
                                "connected with router")


def _route_body(ctx: Ctx) -> list[dict[str, Any]]:
    routes = resource_body(ctx, "routers").get("routes")
    if not isinstance(routes, list):
        raise neutron_error(400, "HTTPBadRequest", "Invalid input for routes. Reason: Invalid data format for "
                            "hostroute: 'None'.")
    return [dict(r) for r in routes if isinstance(r, dict)]


def add_extraroutes(ctx: Ctx, router_id: str) -> Response:
    router = fetch(ctx, "routers", router_id, modify=True)
    routes = _route_body(ctx)
    validate_routes(ctx, router, routes)
    current = list(router.get("routes") or [])
    router["routes"] = current + [r for r in routes if r not in current]
    return one(ctx, "routers", touch(ctx.store, router))


def remove_extraroutes(ctx: Ctx, router_id: str) -> Response:
    router = fetch(ctx, "routers", router_id, modify=True)
    routes = _route_body(ctx)
    router["routes"] = [r for r in router.get("routes") or [] if r not in routes]
    return one(ctx, "routers", touch(ctx.store, router))


def delete_router(ctx: Ctx, router_id: str) -> Response:
    fetch(ctx, "routers", router_id, delete=True)
    remove_router(ctx.store, router_id)
    return empty(204)


def _interface_args(ctx: Ctx) -> tuple[str | None, str | None]:
    body = ctx.body()
    subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
    if not subnet_id and not port_id:
        raise neutron_error(400, "BadRequest", "Bad router request: Either subnet_id or port_id must be specified.")
    return (str(subnet_id) if subnet_id else None), (str(port_id) if port_id else None)


def _interface_info(router: Record, port: Record, subnet_id: str | None = None) -> Response:
    subnet_ids = [ip["subnet_id"] for ip in port["fixed_ips"]]
    return json_response({"id": router["id"], "project_id": router["project_id"], "port_id": port["id"],
                          "network_id": port["network_id"], "subnet_id": subnet_id or (subnet_ids or [None])[0],
                          "subnet_ids": [subnet_id] if subnet_id else subnet_ids})


def put_add_interface(ctx: Ctx, router_id: str) -> Response:
    router = fetch(ctx, "routers", router_id, modify=True)
    subnet_id, port_id = _interface_args(ctx)
    if subnet_id and port_id:
        raise neutron_error(400, "BadRequest", "Bad router request: Cannot specify both subnet-id and port-id.")
    if port_id:
        fetch(ctx, "ports", port_id)
    else:
        fetch(ctx, "subnets", str(subnet_id))
    port = add_router_interface(ctx.store, router_id, subnet_id=subnet_id, port_id=port_id)
    return _interface_info(router, port)


def put_remove_interface(ctx: Ctx, router_id: str) -> Response:
    router = fetch(ctx, "routers", router_id, modify=True)
    subnet_id, port_id = _interface_args(ctx)
    port = remove_router_interface(ctx.store, router_id, subnet_id=subnet_id, port_id=port_id)
    return _interface_info(router, port, subnet_id)


# --- floating IPs ----------------------------------------------------------------------
def _fip_port_visible(ctx: Ctx, port_id: Any, project_id: str) -> str | None:
    if not port_id:
        return None
    port = ctx.store.get("ports", str(port_id))
    if port is None or not (ctx.is_admin or port["project_id"] == project_id):
        raise neutron_error(404, "PortNotFound", f"Port {port_id} could not be found.")
    return str(port_id)


def _create_fip(ctx: Ctx, body: dict[str, Any]) -> Record:
    check_attrs(body, FIP_CREATE)
    net_id = str(body.get("floating_network_id", ""))
    net = ctx.store.get("networks", net_id)
    if net is None or not visible(ctx, "networks", net):
        raise neutron_error(404, "NetworkNotFound", f"Network {net_id} could not be found.")
    pid = owner_for_create(ctx, body)
    quota.check(ctx.store, pid, "floatingip")
    port_id = _fip_port_visible(ctx, body.get("port_id"), pid)
    address = body.get("floating_ip_address")
    if not address and body.get("subnet_id"):
        subnet = ctx.store.get("subnets", str(body["subnet_id"]))
        if subnet is None or subnet["network_id"] != net_id:
            raise neutron_error(404, "SubnetNotFound", f"Subnet {body['subnet_id']} could not be found.")
        address = allocate_ip(ctx.store, subnet)
    extra = {k: body[k] for k in ("tags", "dns_name", "dns_domain", "qos_policy_id") if k in body}
    return create_floating_ip(ctx.store, pid, net_id, port_id=port_id, fixed_ip_address=body.get("fixed_ip_address"),
                              description=str(body.get("description", "")), floating_ip_address=address, **extra)


def put_fip(ctx: Ctx, fip_id: str) -> Response:
    fip = fetch(ctx, "floatingips", fip_id, modify=True)
    body = resource_body(ctx, "floatingips")
    check_attrs(body, FIP_UPDATE)
    if "port_id" in body:
        port_id = _fip_port_visible(ctx, body["port_id"], fip["project_id"])
        associate_floating_ip(ctx.store, fip_id, port_id, body.get("fixed_ip_address"), bump=False)
    fip.update({k: v for k, v in body.items() if k not in ("port_id", "fixed_ip_address")})
    return one(ctx, "floatingips", touch(ctx.store, fip))


def delete_fip(ctx: Ctx, fip_id: str) -> Response:
    fetch(ctx, "floatingips", fip_id, delete=True)
    remove_floating_ip(ctx.store, fip_id)
    return empty(204)


# --- trunks ---------------------------------------------------------------------------
def _trunk_of(ctx: Ctx, port_id: str) -> Record | None:
    return next((t for t in ctx.store.iter("trunks") if t["port_id"] == port_id
                 or any(sp["port_id"] == port_id for sp in t.get("sub_ports") or [])), None)


def _check_trunk_port(ctx: Ctx, port_id: Any, project_id: str) -> Record:
    port = ctx.store.get("ports", str(port_id))
    if port is None or not (ctx.is_admin or port["project_id"] == project_id):
        raise neutron_error(404, "PortNotFound", f"Port {port_id} could not be found.")
    if _trunk_of(ctx, port["id"]) is not None:
        raise neutron_error(409, "TrunkPortInUse", f"Port {port['id']} is in use by another trunk.")
    return port


def _add_subports(ctx: Ctx, trunk: Record, sub_ports: Any) -> None:
    for spec in sub_ports or []:
        port = _check_trunk_port(ctx, spec.get("port_id"), trunk["project_id"])
        trunk["sub_ports"].append({"port_id": port["id"], "segmentation_type": spec.get("segmentation_type", "vlan"),
                                   "segmentation_id": spec.get("segmentation_id")})
        port.update(device_owner="trunk:subport", device_id=trunk["id"])
        touch(ctx.store, port)


def post_trunks(ctx: Ctx) -> Response:
    body = resource_body(ctx, "trunks")
    check_attrs(body, TRUNK_CREATE)
    pid = owner_for_create(ctx, body)
    parent = _check_trunk_port(ctx, body.get("port_id"), pid)
    trunk: Record = {
        "id": ctx.store.new_id(), "name": str(body.get("name", "")), "description": str(body.get("description", "")),
        "port_id": parent["id"], "sub_ports": [], "admin_state_up": bool(body.get("admin_state_up", True)),
        "status": "ACTIVE" if parent["device_owner"].startswith("compute:") else "DOWN",
        "tenant_id": pid, "project_id": pid, **stamp(ctx.store),
    }
    ctx.store.put("trunks", trunk)
    try:
        _add_subports(ctx, trunk, body.get("sub_ports"))
    except Exception:
        _release_subports(ctx, trunk, [sp["port_id"] for sp in trunk["sub_ports"]])
        ctx.store.remove("trunks", trunk["id"])
        raise
    return one(ctx, "trunks", trunk, 201)


def put_trunk(ctx: Ctx, trunk_id: str) -> Response:
    trunk = fetch(ctx, "trunks", trunk_id, modify=True)
    body = resource_body(ctx, "trunks")
    check_attrs(body, TRUNK_UPDATE)
    trunk.update(body)
    return one(ctx, "trunks", touch(ctx.store, trunk))


def _release_subports(ctx: Ctx, trunk: Record, port_ids: list[str]) -> None:
    trunk["sub_ports"] = [sp for sp in trunk["sub_ports"] if sp["port_id"] not in port_ids]
    for port_id in port_ids:
        port = ctx.store.get("ports", port_id)
        if port is not None and port["device_owner"] == "trunk:subport":
            port.update(device_owner="", device_id="")
            touch(ctx.store, port)


def delete_trunk(ctx: Ctx, trunk_id: str) -> Response:
    """Subports are detached (``device_owner``/``device_id`` cleared), not deleted; the parent port stays.

    Refused (409) for a disabled trunk (``TrunkDisabled``, services/trunk/rules.py ``trunk_can_be_managed``) and,
    unless the driver can untrunk bound ports, while the parent port is bound to a server (``TrunkInUse``)."""
    trunk = fetch(ctx, "trunks", trunk_id, delete=True)
    if not trunk.get("admin_state_up", True):
        raise neutron_error(409, "TrunkDisabled", f"Trunk {trunk_id} is currently disabled.")
    parent = ctx.store.get("ports", str(trunk["port_id"])) or {}
    if str(parent.get("device_owner") or "").startswith("compute:") \
            and not ctx.store.deployment.trunk_untrunks_bound_ports:
        raise neutron_error(409, "TrunkInUse", f"Trunk {trunk_id} is currently in use.")
    _release_subports(ctx, trunk, [sp["port_id"] for sp in trunk["sub_ports"]])
    ctx.store.remove("trunks", trunk_id)
    return empty(204)


def put_add_subports(ctx: Ctx, trunk_id: str) -> Response:
    trunk = fetch(ctx, "trunks", trunk_id, modify=True)
    _add_subports(ctx, trunk, ctx.body().get("sub_ports"))
    return json_response(public(touch(ctx.store, trunk)))


def put_remove_subports(ctx: Ctx, trunk_id: str) -> Response:
    trunk = fetch(ctx, "trunks", trunk_id, modify=True)
    wanted = [str(sp.get("port_id")) for sp in ctx.body().get("sub_ports") or []]
    present = {sp["port_id"] for sp in trunk["sub_ports"]}
    missing = [p for p in wanted if p not in present]
    if missing:
        raise neutron_error(404, "SubPortNotFound", f"SubPort on trunk {trunk_id} with parent port "
                            f"{missing[0]} could not be found.")
    _release_subports(ctx, trunk, wanted)
    return json_response(public(touch(ctx.store, trunk)))


def get_subports(ctx: Ctx, trunk_id: str) -> Response:
    trunk = fetch(ctx, "trunks", trunk_id)
    return json_response({"sub_ports": trunk["sub_ports"]})


def _needs_extension(alias: str, handler: Callable[..., Response]) -> Callable[..., Response]:
    """A route of an extension the deployment may leave out: then Neutron has no such resource (404)."""
    def guarded(ctx: Ctx, **kwargs: Any) -> Response:
        if alias in ctx.store.deployment.absent_extensions:
            raise neutron_error(404, "HTTPNotFound", "The resource could not be found.")
        return handler(ctx, **kwargs)
    return guarded


def register(routes: Routes) -> None:
    base = "/network/v2.0"
    trunk = _needs_extension
    for collection, arg, poster, putter, deleter in (
        ("routers", "router_id", post_routers, put_router, delete_router),
        ("floatingips", "fip_id", post_handler("floatingips", _create_fip), put_fip, delete_fip),
        ("trunks", "trunk_id", post_trunks, put_trunk, delete_trunk),
    ):
        guard: Callable[[Callable[..., Response]], Callable[..., Response]] = (
            (lambda h: trunk("trunk", h)) if collection == "trunks" else (lambda h: h))
        routes.add("GET", f"{base}/{collection}", guard(list_handler(collection)))
        routes.add("POST", f"{base}/{collection}", guard(poster))
        routes.add("GET", f"{base}/{collection}/<{arg}>", guard(show_handler(collection)))
        routes.add("PUT", f"{base}/{collection}/<{arg}>", guard(putter))
        routes.add("DELETE", f"{base}/{collection}/<{arg}>", guard(deleter))
    routes.add("PUT", f"{base}/routers/<router_id>/add_router_interface", put_add_interface)
    routes.add("PUT", f"{base}/routers/<router_id>/remove_router_interface", put_remove_interface)
    routes.add("PUT", f"{base}/routers/<router_id>/add_extraroutes", add_extraroutes)
    routes.add("PUT", f"{base}/routers/<router_id>/remove_extraroutes", remove_extraroutes)
    routes.add("PUT", f"{base}/trunks/<trunk_id>/add_subports", trunk("trunk", put_add_subports))
    routes.add("PUT", f"{base}/trunks/<trunk_id>/remove_subports", trunk("trunk", put_remove_subports))
    routes.add("GET", f"{base}/trunks/<trunk_id>/get_subports", trunk("trunk", get_subports))
