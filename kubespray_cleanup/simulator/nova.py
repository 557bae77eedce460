"""Nova v2.1: model functions (used by the API and by scenario seeding) and route registration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubespray_cleanup.simulator.nova_model import (
    attach_volume,
    create_flavor,
    create_keypair,
    create_server,
    create_server_group,
    destroy_server,
    detach_volume,
    finish_build,
)

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.app import Routes

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
    from kubespray_cleanup.simulator import nova_api, nova_resources

    nova_api.register(routes)
    nova_resources.register(routes)
