"""Octavia (load-balancer v2): model functions for the API and scenario seeding, plus route registration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubespray_cleanup.simulator.octavia_model import (
    create_health_monitor,
    create_l7policy,
    create_listener,
    create_load_balancer,
    create_member,
    create_pool,
    remove_health_monitor,
    remove_l7policy,
    remove_listener,
    remove_load_balancer,
    remove_member,
    remove_pool,
)

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.app import Routes

__all__ = [
    "create_health_monitor",
    "create_l7policy",
    "create_listener",
    "create_load_balancer",
    "create_member",
    "create_pool",
    "register",
    "remove_health_monitor",
    "remove_l7policy",
    "remove_listener",
    "remove_load_balancer",
    "remove_member",
    "remove_pool",
]


def register(routes: Routes) -> None:
    """Discovery at ``/load-balancer`` and the v2 API under ``/load-balancer/v2[.0][/lbaas]``."""
    from kubespray_cleanup.simulator import octavia_api

    octavia_api.register(routes)
