"""Nova (compute v2.1): servers, flavors, keypairs, server groups, volume attachments.

``model`` holds the state rules, ``deletion`` the delete, soft delete and release of ports and
volumes, ``api`` (servers), ``limits`` (flavors, quotas) and ``resources`` (keypairs, server
groups, attachments, interfaces) the handlers, ``view`` the JSON shapes. Imports the simulator core, and Neutron
and Cinder only through their ``interface`` modules (server ports, attachments).
The package re-exports the model calls scenario seeding uses, and ``register`` for the app factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubespray_cleanup.simulator.nova import api as nova_api
from kubespray_cleanup.simulator.nova import limits as nova_limits
from kubespray_cleanup.simulator.nova import resources as nova_resources
from kubespray_cleanup.simulator.nova.deletion import destroy_server
from kubespray_cleanup.simulator.nova.model import (
    attach_volume,
    create_flavor,
    create_keypair,
    create_server,
    create_server_group,
    detach_volume,
    finish_build,
)

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Routes

__all__ = [
    "attach_volume",
    "create_flavor",
    "create_keypair",
    "create_server",
    "create_server_group",
    "destroy_server",
    "detach_volume",
    "finish_build",
    "register",
]


def register(routes: Routes) -> None:
    """Add the compute discovery documents and every Nova route."""
    nova_api.register(routes)
    nova_limits.register(routes)
    nova_resources.register(routes)
