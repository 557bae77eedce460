"""Neutron L3 model (routers, interfaces, gateways, floating IPs) shared by the API and seeding."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from kubespray_cleanup.simulator.http import neutron_error
from kubespray_cleanup.simulator.neutron.model import (
    ROUTER_INTERFACE_OWNERS,
    allocate_ip,
    cidr_block,
    create_network,
    create_port,
    remove_port,
    stamp,
    subnet_of,
    touch,
)
from kubespray_cleanup.simulator.store import Record, Store


def _not_found(router_id: str) -> Exception:
    return neutron_error(404, "RouterNotFound", f"Router {router_id} could not be found")


def _router(store: Store, router_id: str) -> Record:
    router = store.get("routers", router_id)
    if router is None:
        raise _not_found(router_id)
    return router


def create_router(store: Store, project_id: str, name: str, *, external_network_id: str | None = None,
                  router_id: str | None = None, created_at: datetime | None = None,
                  routes: list[dict[str, str]] | None = None, **fields: Any) -> Record:
    router: Record = {
        "id": router_id or store.new_id(), "name": name, "tenant_id": project_id, "project_id": project_id,
        "admin_state_up": True, "status": "ACTIVE", "external_gateway_info": None, "routes": list(routes or []),
        "availability_zone_hints": [], "availability_zones": ["nova"], "flavor_id": None, "description": "",
        **stamp(store, created_at),
    }
    router.update(fields)
    router.setdefault("distributed", store.deployment.router_distributed)
    router.setdefault("ha", store.deployment.l3_ha)
    store.put("routers", router)
    if router["ha"]:
        _add_ha_ports(store, router)
    if external_network_id:
        set_gateway(store, router["id"], {"network_id": external_network_id}, created_at=created_at)
    return router


def set_gateway(store: Store, router_id: str, info: dict[str, Any] | None, *,
                created_at: datetime | None = None) -> Record:
    """Set, change or clear (``info`` empty) the router's external gateway; N4 blocks clearing with FIPs."""
    router = _router(store, router_id)
    current = router.get("external_gateway_info") or {}
    new_net = (info or {}).get("network_id")
    if current and current.get("network_id") == new_net:
        if info and "enable_snat" in info:
            current["enable_snat"] = bool(info["enable_snat"])
        return router
    if current:
        check_gateway_not_in_use(store, router)
        for port in list(store.iter("ports", device_id=router_id, device_owner="network:router_gateway")):
            remove_port(store, port["id"])
        for port in _snat_ports(store, router):
            remove_port(store, port["id"])
        router["external_gateway_info"] = None
    if new_net:
        net = store.get("networks", str(new_net))
        if net is None:
            raise neutron_error(404, "NetworkNotFound", f"Network {new_net} could not be found.")
        if not net.get("router:external"):
            raise neutron_error(400, "BadRequest", f"Bad router request: Network {new_net} is not a valid "
                                "external network.")
        wanted = (info or {}).get("external_fixed_ips") or None
        port = create_port(store, net["id"], "", device_owner="network:router_gateway", device_id=router_id,
                           fixed_ips=wanted, created_at=created_at, port_security_enabled=False)
        router["external_gateway_info"] = {
            "network_id": net["id"], "enable_snat": bool((info or {}).get("enable_snat", True)),
            "external_fixed_ips": [dict(ip) for ip in port["fixed_ips"]],
        }
        for iface in interface_ports(store, router_id):
            for ip in iface["fixed_ips"]:
                if (subnet := store.get("subnets", ip["subnet_id"])) is not None:
                    _add_snat_port(store, router, subnet)
    return touch(store, router)


def check_gateway_not_in_use(store: Store, router: Record) -> None:
    """N4: a FIP routed through this router needs its gateway."""
    if next(store.iter("floating_ips", router_id=router["id"]), None) is not None:
        net_id = (router.get("external_gateway_info") or {}).get("network_id")
        raise neutron_error(409, "RouterExternalGatewayInUseByFloatingIp",
                            f"Gateway cannot be updated for router {router['id']}, since a gateway to external "
                            f"network {net_id} is required by one or more floating IPs.")


def interface_owner(router: Record) -> str:
    """The owner Neutron gives a router's interface ports: DVR, HA or plain."""
    if router.get("distributed"):
        return "network:router_interface_distributed"
    return "network:ha_router_replicated_interface" if router.get("ha") else "network:router_interface"


def _add_ha_ports(store: Store, router: Record) -> None:
    """l3_hamode_db: one ``network:router_ha_interface`` port per L3 agent on the project's hidden HA network."""
    name = f"HA network tenant {router['project_id']}"
    net = next(store.iter("networks", name=name), None) or create_network(store, "", name)
    for _ in range(2):
        create_port(store, net["id"], "", device_owner="network:router_ha_interface", device_id=router["id"],
                    security_group_ids=[], fixed_ips=[])


def _snat_ports(store: Store, router: Record, subnet_id: str | None = None) -> list[Record]:
    return [p for p in store.iter("ports", device_id=router["id"], device_owner="network:router_centralized_snat")
            if subnet_id is None or any(ip["subnet_id"] == subnet_id for ip in p["fixed_ips"])]


def _add_snat_port(store: Store, router: Record, subnet: Record) -> None:
    """l3_dvr_db: a DVR router with a gateway gets a ``network:router_centralized_snat`` port on each internal
    subnet (``project_id`` ''), removed with the interface."""
    if router.get("distributed") and router.get("external_gateway_info") and not _snat_ports(store, router,
                                                                                               subnet["id"]):
        create_port(store, subnet["network_id"], "", device_owner="network:router_centralized_snat",
                    device_id=router["id"], fixed_ips=[{"subnet_id": subnet["id"]}], security_group_ids=[])


def interface_ports(store: Store, router_id: str) -> list[Record]:
    return [p for p in store.iter("ports", device_id=router_id) if p["device_owner"] in ROUTER_INTERFACE_OWNERS]


def add_router_interface(store: Store, router_id: str, *, subnet_id: str | None = None,
                         port_id: str | None = None) -> Record:
    """Attach a subnet (new port with the subnet's gateway IP) or an existing port; returns the port."""
    router = _router(store, router_id)
    if port_id:
        return _attach_port(store, router, port_id)
    subnet = store.get("subnets", str(subnet_id))
    if subnet is None:
        raise neutron_error(404, "SubnetNotFound", f"Subnet {subnet_id} could not be found.")
    if not subnet.get("gateway_ip"):
        raise neutron_error(400, "BadRequest", f"Bad router request: Subnet {subnet['id']} does not have a "
                            "gateway IP.")
    _check_no_overlap(store, router, subnet)
    port = create_port(store, subnet["network_id"], router["project_id"], device_owner=interface_owner(router),
                       device_id=router_id, fixed_ips=[{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}],
                       security_group_ids=[])
    _add_snat_port(store, router, subnet)
    touch(store, router)
    return port


def _attach_port(store: Store, router: Record, port_id: str) -> Record:
    port = store.get("ports", port_id)
    if port is None:
        raise neutron_error(404, "PortNotFound", f"Port {port_id} could not be found.")
    if port["device_id"] or port["device_owner"]:
        raise neutron_error(409, "PortInUse", f"Unable to complete operation on port {port_id} for network "
                            f"{port['network_id']}. Port already has an attached device {port['device_id']}.")
    if not port["fixed_ips"]:
        raise neutron_error(400, "BadRequest", "Bad router request: Router port must have at least one fixed IP.")
    for ip in port["fixed_ips"]:
        subnet = store.get("subnets", ip["subnet_id"])
        if subnet is not None:
            _check_no_overlap(store, router, subnet)
    port.update(device_owner=interface_owner(router), device_id=router["id"], status="ACTIVE",
                security_groups=[])
    touch(store, port)
    touch(store, router)
    return port


def _check_no_overlap(store: Store, router: Record, subnet: Record) -> None:
    block = cidr_block(subnet["cidr"])
    for port in interface_ports(store, router["id"]):
        for ip in port["fixed_ips"]:
            other = store.get("subnets", ip["subnet_id"])
            if other is None:
                continue
            if other["id"] == subnet["id"]:
                raise neutron_error(400, "BadRequest", f"Bad router request: Router already has a port on "
                                    f"subnet {subnet['id']}.")
            if cidr_block(other["cidr"]).overlaps(block):
                raise neutron_error(400, "BadRequest", f"Bad router request: Cidr {subnet['cidr']} of subnet "
                                    f"{subnet['id']} overlaps with cidr {other['cidr']} of subnet {other['id']}.")


def remove_router_interface(store: Store, router_id: str, *, subnet_id: str | None = None,
                            port_id: str | None = None) -> Record:
    """Detach by port or subnet (N5, N6, N7 checks); returns the detached port as it was."""
    router = _router(store, router_id)
    if port_id:
        port = store.get("ports", port_id)
        if port is None or port["device_id"] != router_id or port["device_owner"] not in ROUTER_INTERFACE_OWNERS:
            raise neutron_error(404, "RouterInterfaceNotFound",
                                f"Router {router_id} does not have an interface with id {port_id}")
        subnet_ids = [ip["subnet_id"] for ip in port["fixed_ips"]]
        if subnet_id and subnet_id not in subnet_ids:
            raise neutron_error(409, "SubnetMismatchForPort",
                                f"Subnet {subnet_id} does not match with the port {port_id}.")
        for sid in ([subnet_id] if subnet_id else subnet_ids):
            check_interface_not_in_use(store, router, str(sid))
        remove_port(store, port["id"])
        _remove_snat_ports(store, router, subnet_ids)
        touch(store, router)
        return port
    for port in interface_ports(store, router_id):
        if any(ip["subnet_id"] == subnet_id for ip in port["fixed_ips"]):
            check_interface_not_in_use(store, router, str(subnet_id))
            if len(port["fixed_ips"]) > 1:
                port["fixed_ips"] = [ip for ip in port["fixed_ips"] if ip["subnet_id"] != subnet_id]
                touch(store, port)
            else:
                remove_port(store, port["id"])
            _remove_snat_ports(store, router, [str(subnet_id)])
            touch(store, router)
            return port
    raise neutron_error(404, "RouterInterfaceNotFoundForSubnet",
                        f"Router {router_id} has no interface on subnet {subnet_id}")


def _remove_snat_ports(store: Store, router: Record, subnet_ids: list[str]) -> None:
    for sid in subnet_ids:
        for port in _snat_ports(store, router, sid):
            remove_port(store, port["id"])


def check_interface_not_in_use(store: Store, router: Record, subnet_id: str) -> None:
    """N6 (extra route nexthop inside the subnet) and N5 (FIP behind the interface)."""
    subnet = store.get("subnets", subnet_id)
    if subnet is None:
        return
    block = cidr_block(subnet["cidr"])
    for route in router.get("routes") or []:
        nexthop = ipaddress.ip_address(route["nexthop"])
        if nexthop.version == block.version and nexthop in block:
            raise neutron_error(409, "RouterInterfaceInUseByRoute",
                                f"Router interface for subnet {subnet_id} on router {router['id']} cannot be "
                                "deleted, as it is required by one or more routes.")
    for fip in store.iter("floating_ips", router_id=router["id"]):
        fixed = fip.get("fixed_ip_address")
        port = store.get("ports", str(fip.get("port_id")))
        if not fixed or port is None:
            continue
        on_subnet = any(ip["subnet_id"] == subnet_id for ip in port["fixed_ips"])
        if on_subnet and ipaddress.ip_address(fixed) in block:
            raise neutron_error(409, "RouterInterfaceInUseByFloatingIP",
                                f"Router interface for subnet {subnet_id} on router {router['id']} cannot be "
                                "deleted, as it is required by one or more floating IPs.")


def remove_router(store: Store, router_id: str) -> None:
    """Delete a router after N3/N4 checks: gateway port first, then any remaining router ports."""
    router = _router(store, router_id)
    attached = interface_ports(store, router_id)
    if attached:
        ids = ", ".join(p["id"] for p in attached)
        raise neutron_error(409, "RouterInUse", f"Router {router_id} has ports still attached: {ids}")
    check_gateway_not_in_use(store, router)
    for port in list(store.iter("ports", device_id=router_id)):
        if port["device_owner"].startswith("network:router") or port["device_owner"].startswith("network:ha"):
            remove_port(store, port["id"])
    store.remove("routers", router_id)


# --- floating IPs ----------------------------------------------------------------------
def _fip_not_found(fip_id: str) -> Exception:
    return neutron_error(404, "FloatingIPNotFound", f"Floating IP {fip_id} could not be found")


def create_floating_ip(store: Store, project_id: str, floating_network_id: str, *, port_id: str | None = None,
                       fixed_ip_address: str | None = None, fip_id: str | None = None,
                       created_at: datetime | None = None, description: str = "",
                       floating_ip_address: str | None = None, **fields: Any) -> Record:
    net = store.get("networks", floating_network_id)
    if net is None:
        raise neutron_error(404, "NetworkNotFound", f"Network {floating_network_id} could not be found.")
    if not net.get("router:external"):
        raise neutron_error(400, "BadRequest", f"Bad floatingip request: Network {floating_network_id} is not a "
                            "valid external network.")
    fid = fip_id or store.new_id()
    wanted = [{"ip_address": floating_ip_address}] if floating_ip_address else None
    if wanted is None:
        subnets = [s for s in store.iter("subnets", network_id=net["id"]) if s["ip_version"] == 4]
        wanted = [{"subnet_id": s["id"], "ip_address": allocate_ip(store, s)} for s in subnets[:1]]
    fport = create_port(store, net["id"], "", device_owner="network:floatingip", device_id=fid,
                        fixed_ips=wanted, created_at=created_at, security_group_ids=[], status="N/A",
                        port_security_enabled=False)
    fip: Record = {
        "id": fid, "floating_ip_address": fport["fixed_ips"][0]["ip_address"] if fport["fixed_ips"] else None,
        "floating_network_id": net["id"], "router_id": None, "port_id": None, "fixed_ip_address": None,
        "status": "DOWN", "tenant_id": project_id, "project_id": project_id, "description": description,
        "dns_domain": "", "dns_name": "", "qos_policy_id": None, "qos_network_policy_id": None,
        "port_forwardings": [], **stamp(store, created_at),
    }
    fip.update(fields)
    store.put("floating_ips", fip)
    if port_id:
        try:
            associate_floating_ip(store, fid, port_id, fixed_ip_address, bump=False)
        except Exception:
            remove_floating_ip(store, fid)
            raise
    return fip


def associate_floating_ip(store: Store, fip_id: str, port_id: str | None, fixed_ip_address: str | None = None,
                          *, bump: bool = True) -> Record:
    """Point the FIP at ``port_id`` (resolving its router), or disassociate it when ``port_id`` is None."""
    fip = store.get("floating_ips", fip_id)
    if fip is None:
        raise _fip_not_found(fip_id)
    if port_id is None:
        fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
        store.reindex(fip, "floating_ips")
        return touch(store, fip) if bump else fip
    port = store.get("ports", port_id)
    if port is None:
        raise neutron_error(404, "PortNotFound", f"Port {port_id} could not be found.")
    fixed = _pick_fixed_ip(port, fixed_ip_address)
    subnet = next(store.get("subnets", ip["subnet_id"]) for ip in port["fixed_ips"] if ip["ip_address"] == fixed)
    router_id = find_router_for(store, fip["floating_network_id"], subnet)
    if router_id is None:
        raise neutron_error(404, "ExternalGatewayForFloatingIPNotFound",
                            f"External network {fip['floating_network_id']} is not reachable from subnet "
                            f"{subnet['id'] if subnet else None}.  Therefore, cannot associate Port {port_id} "
                            "with a Floating IP.")
    other = next((f for f in store.iter("floating_ips", port_id=port_id, fixed_ip_address=fixed)
                  if f["id"] != fip_id), None)
    if other is not None:
        raise neutron_error(409, "FloatingIPPortAlreadyAssociated",
                            f"Cannot associate floating IP {fip['floating_ip_address']} ({fip_id}) with port "
                            f"{port_id} using fixed IP {fixed}, as that fixed IP already has a floating IP on "
                            f"external network {fip['floating_network_id']}.")
    fip.update(port_id=port_id, fixed_ip_address=fixed, router_id=router_id, status="ACTIVE")
    store.reindex(fip, "floating_ips")
    return touch(store, fip) if bump else fip


def _pick_fixed_ip(port: Record, wanted: str | None) -> str:
    v4 = [ip["ip_address"] for ip in port["fixed_ips"] if ipaddress.ip_address(ip["ip_address"]).version == 4]
    if wanted:
        if wanted not in {ip["ip_address"] for ip in port["fixed_ips"]}:
            raise neutron_error(400, "BadRequest", f"Bad floatingip request: Port {port['id']} does not have "
                                f"fixed ip {wanted}.")
        return wanted
    if len(v4) != 1:
        raise neutron_error(400, "BadRequest", f"Bad floatingip request: Port {port['id']} has multiple fixed "
                            "IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP."
                            if v4 else f"Bad floatingip request: No IPv4 addresses on port {port['id']}.")
    return str(v4[0])


def find_router_for(store: Store, floating_network_id: str, subnet: Record | None) -> str | None:
    """A router with an interface on ``subnet`` and a gateway on the floating network."""
    if subnet is None:
        return None
    for router in sorted(store.iter("routers"), key=lambda r: str(r["id"])):
        gw = router.get("external_gateway_info") or {}
        if gw.get("network_id") != floating_network_id:
            continue
        for port in interface_ports(store, router["id"]):
            if any(ip["subnet_id"] == subnet["id"] for ip in port["fixed_ips"]):
                return str(router["id"])
    return None


def remove_floating_ip(store: Store, fip_id: str) -> None:
    """Delete the FIP and its internal ``network:floatingip`` port."""
    if store.remove("floating_ips", fip_id) is None:
        raise _fip_not_found(fip_id)
    for port in list(store.iter("ports", device_id=fip_id, device_owner="network:floatingip")):
        remove_port(store, port["id"])


def fip_subnet(store: Store, fip: Record) -> Record | None:
    port = store.get("ports", str(fip.get("port_id")))
    if port is None or not fip.get("fixed_ip_address"):
        return None
    return subnet_of(store, fip["fixed_ip_address"], port["network_id"])
