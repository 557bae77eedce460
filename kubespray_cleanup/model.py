"""Plain data shared by sources, graph, planner and executor: one vocabulary for every layer."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Kind(str, enum.Enum):
    """The OpenStack resource kinds the cleanup knows how to find, order and delete."""

    LOAD_BALANCER = "load_balancer"
    FLOATING_IP = "floating_ip"
    FLOATING_IP_ASSOCIATION = "floating_ip_association"
    SERVER = "server"
    SERVER_GROUP = "server_group"
    KEYPAIR = "keypair"
    PORT = "port"
    TRUNK = "trunk"
    VOLUME = "volume"
    SNAPSHOT = "snapshot"
    ROUTER_INTERFACE = "router_interface"
    ROUTER = "router"
    SUBNET = "subnet"
    NETWORK = "network"
    SECURITY_GROUP = "security_group"
    SECURITY_GROUP_RULE = "security_group_rule"

    def __str__(self) -> str:
        return self.value


def node_key(kind: Kind, resource_id: str) -> str:
    """The graph node name of one resource: ``kind:id``."""
    return f"{kind.value}:{resource_id}"


@dataclass(frozen=True)
class Resource:
    """One live OpenStack object as the inventory saw it.

    ``attrs`` holds the raw API fields the relations need (``device_id``,
    ``fixed_ips``, ``security_groups`` ...), in the API's own names.
    """

    kind: Kind
    id: str
    name: str
    project_id: str
    created_at: datetime | None = None
    attrs: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        return node_key(self.kind, self.id)

    @property
    def label(self) -> str:
        """Human name used in plans and messages: ``port 4711-k8s-node-1 (ab12cd34)``."""
        short = self.id[:8]
        if self.name and self.name != self.id:
            return f"{self.kind.value.replace('_', ' ')} {self.name} ({short})"
        return f"{self.kind.value.replace('_', ' ')} {self.id}"
