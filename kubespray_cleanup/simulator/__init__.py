"""The bundled OpenStack: a stateful in-memory cloud that real openstacksdk drives over HTTP.

Layers, each importing only those below it:

* core (``store``, ``http``, ``routing``, ``api_common``, ``faults``, ``latency``, ``control``): tables, clock,
  HTTP plumbing and the ``/_sim/*`` endpoints; knows no service;
* one subpackage per service (``keystone``, ``nova``, ``neutron``, ``cinder``, ``glance``, ``octavia``): its
  model, handlers and views; it imports the core, and another service only through that service's
  ``interface`` module, where the real services call each other (Nova -> Neutron ports, Nova -> Cinder
  attachments, Octavia -> Neutron VIP ports);
* ``app``: the WSGI app and ``SERVICES``, the one list that registers every service;
* scenarios, ``server`` and ``cli`` on top: seeding a store, serving it on 127.0.0.1.

This package re-exports the entry points others use (``Simulator``, ``SimulatorServer``,
``running_simulator``); nothing inside the simulator imports them from here.
"""

from kubespray_cleanup.simulator.app import Simulator
from kubespray_cleanup.simulator.server import SimulatorServer, running_simulator

__all__ = ["Simulator", "SimulatorServer", "running_simulator"]
