"""The bundled OpenStack: a stateful in-memory cloud that real openstacksdk drives over HTTP."""

from kubespray_cleanup.simulator.app import Simulator
from kubespray_cleanup.simulator.server import SimulatorServer, running_simulator

__all__ = ["Simulator", "SimulatorServer", "running_simulator"]
