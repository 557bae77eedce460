"""How the simulated cloud is deployed: the operator settings real clouds differ by, set per scenario or test."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any


@dataclass
class Deployment:
    """Operator choices a client cannot change but must cope with.

    ``reclaim_instance_interval``: nova.conf ``[DEFAULT]`` option; above 0 a server DELETE only
    soft-deletes (``SOFT_DELETED``, ports and volumes kept) until reclaimed or force-deleted.
    ``absent_services``: catalog types the cloud does not offer (``load-balancer`` without Octavia).
    ``absent_extensions``: Neutron extension aliases not loaded (``trunk``): their API answers 404.
    ``router_distributed`` / ``l3_ha``: neutron.conf defaults for routers created without ``distributed`` /
    ``ha`` (only admins may pass them): interfaces then get ``network:router_interface_distributed`` /
    ``network:ha_router_replicated_interface`` ports, plus the DVR SNAT and HA service ports Neutron manages.
    ``trunk_untrunks_bound_ports``: the trunk driver can delete a trunk whose parent port is bound
    (OVN can; ML2/OVS refuses with ``TrunkInUse``).
    """

    reclaim_instance_interval: float = 0.0
    absent_services: frozenset[str] = frozenset()
    absent_extensions: frozenset[str] = frozenset()
    router_distributed: bool = False
    l3_ha: bool = False
    trunk_untrunks_bound_ports: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Deployment:
        """From a scenario's ``deployment:`` mapping; ValueError names an unknown key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data or {}) - known)
        if unknown:
            raise ValueError(f"unknown deployment setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
        values = dict(data or {})
        return cls(
            reclaim_instance_interval=float(values.get("reclaim_instance_interval", 0.0)),
            absent_services=frozenset(str(s) for s in values.get("absent_services") or ()),
            absent_extensions=frozenset(str(e) for e in values.get("absent_extensions") or ()),
            router_distributed=bool(values.get("router_distributed", False)),
            l3_ha=bool(values.get("l3_ha", False)),
            trunk_untrunks_bound_ports=bool(values.get("trunk_untrunks_bound_ports", False)),
        )
