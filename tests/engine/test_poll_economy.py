"""Waiting for server deletes lists only the servers waited for (Nova's name filter), through real openstacksdk."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kubespray_cleanup.kinds.server import NAME_FILTER_MAX, ServerHandler
from kubespray_cleanup.simulator.server import SimulatorServer

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")


def test_server_poll_asks_only_for_the_pending_servers(make_sim: Callable[..., SimulatorServer]) -> None:
    sim = make_sim("kubespray")
    conn = sim.connect("elastx")
    try:
        handler = ServerHandler()
        servers = handler.list(conn)
        assert len(servers) > 3
        waited = servers[:2]
        assert set(handler.live_ids(conn, waited)) == {s.id for s in waited}
        assert set(handler.live_ids(conn, [])) == {s.id for s in servers}  # nothing named: the whole listing
        many = [s for s in servers for _ in range(NAME_FILTER_MAX)][: NAME_FILTER_MAX + 1]
        assert set(handler.live_ids(conn, many)) >= {s.id for s in many}
    finally:
        conn.close()
