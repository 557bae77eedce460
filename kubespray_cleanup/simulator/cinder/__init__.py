"""Cinder (block-storage v3): volumes, snapshots, attachments, quotas.

``model`` holds the state rules, ``api`` the handlers, ``view`` the JSON shapes, ``interface`` what Nova may
call. Imports the simulator core only. The package re-exports the model calls scenario seeding uses, and
``register`` for the app factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubespray_cleanup.simulator.cinder import api as cinder_api
from kubespray_cleanup.simulator.cinder.model import (
    add_attachment,
    begin_snapshot_delete,
    begin_volume_delete,
    create_snapshot,
    create_volume,
    remove_attachment,
)

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Routes

__all__ = [
    "add_attachment",
    "begin_snapshot_delete",
    "begin_volume_delete",
    "create_snapshot",
    "create_volume",
    "register",
    "remove_attachment",
]


def register(routes: Routes) -> None:
    """Add the block-storage discovery documents and every Cinder route."""
    cinder_api.register(routes)
