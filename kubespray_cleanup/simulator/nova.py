"""Placeholder until the nova API lands."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.app import Routes


def register(routes: Routes) -> None:
    return None
