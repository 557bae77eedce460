"""Glance (image v2): images for servers to boot from, listed with Glance's pagination.

Imports the simulator core only. Re-exports ``create_image`` for scenario seeding and ``register`` for the
app factory.
"""

from __future__ import annotations

from kubespray_cleanup.simulator.glance.api import create_image, register

__all__ = ["create_image", "register"]
