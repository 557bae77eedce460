"""Keystone (identity v3): discovery, password and application-credential tokens, the service catalog.

Users, projects and tokens themselves live in the core store (the app checks tokens on every request);
this package only serves the identity API. Imports the simulator core only.
"""

from __future__ import annotations

from kubespray_cleanup.simulator.keystone.api import REGION, register

__all__ = ["REGION", "register"]
