"""The simulator keeps connections open, as a real cloud's endpoints do: one TCP connection serves many requests."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable

from kubespray_cleanup.simulator.server import SimulatorServer

Factory = Callable[..., SimulatorServer]


def test_one_connection_serves_requests_with_and_without_bodies(make_sim: Factory) -> None:
    """GET, a POST whose body is read, an unread body and a 404 on one socket; ``Connection: close`` ends it."""
    sim = make_sim("empty")
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "elastx-ci", "password": "elastx-password", "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": "elastx", "domain": {"name": "Default"}}}}}
    answers = []
    for method, path, body in [("GET", "/identity/v3", None), ("POST", "/identity/v3/auth/tokens", auth),
                               ("GET", "/_sim/stats", {"ignored": "x" * 5000}), ("GET", "/no/such/path", None)]:
        conn.request(method, path, body=json.dumps(body) if body else None,
                     headers={"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        answers.append((answer.status, answer.getheader("Connection")))
        assert conn.sock is not None
        if len(answers) == 1:
            first = conn.sock
        assert conn.sock is first
    assert answers == [(200, None), (201, None), (200, None), (404, None)]
    conn.request("GET", "/identity/v3", headers={"Connection": "close"})
    answer = conn.getresponse()
    answer.read()
    assert answer.getheader("Connection") == "close"
