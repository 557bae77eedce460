"""Assertions and builders shared by the conformance tests (targets: see conftest.py)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions as sdk_exc


def refusal(call: Callable[[], Any], status: int) -> sdk_exc.HttpException:
    """Run a call that must be refused with ``status``; the SDK exception."""
    with pytest.raises(sdk_exc.HttpException) as info:
        call()
    assert info.value.status_code == status, (info.value.status_code, _body(info.value))
    return info.value


def _body(exc: sdk_exc.HttpException) -> Any:
    try:
        return exc.response.json() if exc.response is not None else None
    except ValueError:
        return exc.response.text if exc.response is not None else None


def neutron_error(call: Callable[[], Any], status: int, err_type: str, message: str | re.Pattern[str]) -> str:
    """The call answers ``status`` with ``{"NeutronError": {"type", "message", "detail": ""}}``; the message."""
    exc = refusal(call, status)
    body = _body(exc)
    assert isinstance(body, dict) and set(body) == {"NeutronError"}, body
    fault = body["NeutronError"]
    assert fault["type"] == err_type, fault
    if isinstance(message, re.Pattern):
        assert message.fullmatch(fault["message"]), fault
    else:
        assert fault["message"] == message, fault
    assert fault.get("detail") == "", fault
    return str(fault["message"])


def id_list(message: str, prefix: str, sep: str, suffix: str) -> list[str]:
    """The ids a conflict message lists after ``prefix``, joined by ``sep``, ending in ``suffix``."""
    assert message.startswith(prefix) and message.endswith(suffix), message
    listed = message[len(prefix):len(message) - len(suffix) if suffix else None]
    ids = listed.split(sep)
    assert all(re.fullmatch(r"[0-9a-f-]{36}", i) for i in ids), message
    return ids


def topology(conn: Any, ext: Any, cidr: str = "10.10.0.0/24") -> dict[str, Any]:
    """Network + subnet + router (gateway on the external net) + interface, built through the API."""
    net = conn.network.create_network(name="cf-net")
    subnet = conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4, name="cf-subnet")
    router = conn.network.create_router(name="cf-router", external_gateway_info={"network_id": ext.id})
    iface = conn.network.add_interface_to_router(router, subnet=subnet.id)
    return {"net": net, "subnet": subnet, "router": router, "iface_port_id": iface["port_id"]}


def wait_status(getter: Callable[[], Any], want: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        obj = getter()
        if obj.status == want:
            return obj
        assert obj.status not in ("error", "error_deleting") and time.monotonic() < deadline, obj.status
        time.sleep(0.1)


def wait_gone(finder: Callable[[], Any], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while finder() is not None:
        assert time.monotonic() < deadline, "still there"
        time.sleep(0.1)
