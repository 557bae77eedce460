"""Neutron v2.0: model functions (used by the API and by scenario seeding) and route registration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubespray_cleanup.simulator.neutron_l3 import (
    add_router_interface,
    associate_floating_ip,
    create_floating_ip,
    create_router,
    remove_floating_ip,
    remove_router,
    remove_router_interface,
    set_gateway,
)
from kubespray_cleanup.simulator.neutron_model import (
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
    from kubespray_cleanup.simulator.app import Routes

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
    import importlib

    try:
        api = importlib.import_module("kubespray_cleanup.simulator.neutron_api")
    except ImportError:  # handlers not written yet
        return
    api.register(routes)
