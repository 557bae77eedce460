"""What other services may do to Neutron, as the real ones do through its API: Nova binds and releases server
ports (and needs the project's ``default`` group), Octavia owns its load balancers' VIP ports.

Model calls only; nothing of Neutron's HTTP layer. A service outside ``neutron/`` imports this, not the model.
"""

from kubespray_cleanup.simulator.neutron.model import (
    create_port,
    ensure_default_security_group,
    remove_port,
    update_port,
)

__all__ = ["create_port", "ensure_default_security_group", "remove_port", "update_port"]
