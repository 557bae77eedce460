"""What Nova may do to Cinder, as the real one does through its API: boot-from-volume volumes, attachments
made and dropped as servers attach, detach and go away, and deleting a server's delete-on-termination volumes.

Model calls only; nothing of Cinder's HTTP layer. A service outside ``cinder/`` imports this, not the model.
"""

from kubespray_cleanup.simulator.cinder.model import (
    add_attachment,
    attachments_of_server,
    begin_volume_delete,
    create_volume,
    detach_server,
    remove_attachment,
    touch,
)

__all__ = [
    "add_attachment",
    "attachments_of_server",
    "begin_volume_delete",
    "create_volume",
    "detach_server",
    "remove_attachment",
    "touch",
]
