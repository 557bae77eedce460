"""Test-only ML2 mechanism driver: every segment of a port that names a host binds at once.

Real Neutron leaves a port unbound (``DOWN``) without an agent; that is enough for every delete
conflict, but Nova's fake driver needs bound ports to finish a boot. Loaded by the realstack tier's
service venv only (never by the project).
"""

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class BindAnyHost(api.MechanismDriver):
    """Binds the first segment offered as an OVS port, ACTIVE, with no agent behind it."""

    def initialize(self):
        return None

    @property
    def connectivity(self):
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context):
        details = {portbindings.CAP_PORT_FILTER: True, portbindings.VIF_DETAILS_CONNECTIVITY: self.connectivity}
        for segment in context.segments_to_bind:
            context.set_binding(segment[api.ID], portbindings.VIF_TYPE_OVS, details,
                                status=constants.PORT_STATUS_ACTIVE)
            return
