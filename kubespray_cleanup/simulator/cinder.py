"""Cinder v3: model functions (used by the API and by scenario seeding) and route registration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubespray_cleanup.simulator.cinder_model import (
    add_attachment,
    begin_snapshot_delete,
    begin_volume_delete,
    create_snapshot,
    create_volume,
    remove_attachment,
)

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.app import Routes

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
    from kubespray_cleanup.simulator import cinder_api

    cinder_api.register(routes)
