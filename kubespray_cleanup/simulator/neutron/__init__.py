"""Neutron (network v2.0): networks, subnets, ports, routers, floating IPs, security groups, quotas, trunks.

``model`` holds the records and their invariants, ``l3`` routers and floating IPs with their refusals, ``api_core``
(networks, subnets, ports) and ``api_sg`` (security groups) the handlers with theirs, ``api_l3`` the router,
floating IP and trunk handlers, ``query`` filtering and rendering, ``quota`` the quota API, ``interface`` what Nova
and Octavia may call.
Imports the simulator core only. The package re-exports the model calls scenario seeding uses, and
``register`` for the app factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubespray_cleanup.simulator.neutron import api as neutron_api
from kubespray_cleanup.simulator.neutron.l3 import (
    add_router_interface,
    associate_floating_ip,
    create_floating_ip,
    create_router,
    remove_floating_ip,
    remove_router,
    remove_router_interface,
    set_gateway,
)
from kubespray_cleanup.simulator.neutron.model import (
    create_network,
    create_port,
    create_security_group,
    create_security_group_rule,
    create_subnet,
    ensure_default_security_group,
    remove_network,
    remove_port,
    remove_security_group,
    remove_subnet,
    update_port,
)

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Routes

__all__ = [
    "add_router_interface",
    "associate_floating_ip",
    "create_floating_ip",
    "create_network",
    "create_port",
    "create_router",
    "create_security_group",
    "create_security_group_rule",
    "create_subnet",
    "ensure_default_security_group",
    "register",
    "remove_floating_ip",
    "remove_network",
    "remove_port",
    "remove_router",
    "remove_router_interface",
    "remove_security_group",
    "remove_subnet",
    "set_gateway",
    "update_port",
]


def register(routes: Routes) -> None:
    """Add every Neutron route (discovery, resources, router actions, quotas, trunks)."""
    neutron_api.register(routes)
