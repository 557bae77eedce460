"""The kind registry: adding a kind is one module plus one line here."""

from __future__ import annotations

from kubespray_cleanup.kinds.base import KindHandler
from kubespray_cleanup.kinds.floating_ip import FloatingIPHandler
from kubespray_cleanup.kinds.floating_ip_association import FloatingIPAssociationHandler
from kubespray_cleanup.kinds.keypair import KeypairHandler
from kubespray_cleanup.kinds.load_balancer import LoadBalancerHandler
from kubespray_cleanup.kinds.network import NetworkHandler
from kubespray_cleanup.kinds.port import PortHandler
from kubespray_cleanup.kinds.router import RouterHandler
from kubespray_cleanup.kinds.router_interface import RouterInterfaceHandler
from kubespray_cleanup.kinds.security_group import SecurityGroupHandler
from kubespray_cleanup.kinds.server import ServerHandler
from kubespray_cleanup.kinds.server_group import ServerGroupHandler
from kubespray_cleanup.kinds.snapshot import SnapshotHandler
from kubespray_cleanup.kinds.subnet import SubnetHandler
from kubespray_cleanup.kinds.trunk import TrunkHandler
from kubespray_cleanup.kinds.volume import VolumeHandler
from kubespray_cleanup.model import Kind

HANDLERS: dict[Kind, KindHandler] = {
    handler.kind: handler
    for handler in (
        LoadBalancerHandler(),
        FloatingIPHandler(),
        FloatingIPAssociationHandler(),
        ServerHandler(),
        ServerGroupHandler(),
        KeypairHandler(),
        TrunkHandler(),
        PortHandler(),
        VolumeHandler(),
        SnapshotHandler(),
        RouterInterfaceHandler(),
        RouterHandler(),
        SubnetHandler(),
        NetworkHandler(),
        SecurityGroupHandler(),
    )
}

__all__ = ["HANDLERS", "KindHandler"]
