"""Octavia (load-balancer v2): load balancers and their listeners, pools, members, monitors, L7 policies.

``model`` holds the state rules and cascades, ``api``/``children`` the handlers, ``plumbing`` faults, RBAC,
quotas and pagination. Imports the simulator core, and Neutron only through ``neutron.interface`` (VIP ports).
The package re-exports the model calls scenario seeding uses, and ``register`` for the app factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubespray_cleanup.simulator.octavia import api as octavia_api
from kubespray_cleanup.simulator.octavia.model import (
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
    from kubespray_cleanup.simulator.routing import Routes

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
    octavia_api.register(routes)
