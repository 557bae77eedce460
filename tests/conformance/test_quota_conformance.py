"""Quota answers ``tf-cleanup check`` reads, asserted identically on both targets: Neutron's quota details
(``limit``/``used``/``reserved`` per resource) and Cinder's quota set with ``usage=True``
(``limit``/``in_use``/``reserved``; no ``allocated``, which only the removed nested-quota driver gave)."""

from __future__ import annotations

from typing import Any

from tests.conformance.conftest import Target


def _json(proxy: Any, path: str) -> dict[str, Any]:
    response = proxy.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_neutron_quota_details_count_a_new_network(target: Target) -> None:
    """Every resource reports limit, used and reserved as integers; a new network shows in ``used``."""
    conn = target.a
    pid = conn.current_project_id
    before = _json(conn.network, f"/quotas/{pid}/details")["quota"]
    net = conn.network.create_network(name="cf-quota-net")
    try:
        after = _json(conn.network, f"/quotas/{pid}/details")["quota"]
        sdk = conn.network.get_quota(pid, details=True)
    finally:
        conn.network.delete_network(net)
    for name in ("network", "subnet", "port", "router", "floatingip", "security_group", "security_group_rule"):
        assert set(after[name]) >= {"limit", "used", "reserved"}, name
        assert all(isinstance(after[name][k], int) for k in ("limit", "used", "reserved")), name
    assert after["network"]["used"] == before["network"]["used"] + 1
    assert sdk.networks["used"] == after["network"]["used"]


def test_neutron_quota_of_another_project_is_refused(target: Target) -> None:
    """A member may read only its own project's quota."""
    response = target.a.network.get(f"/quotas/{target.b.current_project_id}/details")
    assert response.status_code == 403


def test_cinder_quota_set_with_usage_counts_a_new_volume(target: Target) -> None:
    """``?usage=True`` gives limit, in_use and reserved (as real Cinder does: no ``allocated``); a new volume shows
    in volumes and gigabytes."""
    target.need_cinder()
    conn = target.a
    pid = conn.current_project_id
    before = _json(conn.block_storage, f"/os-quota-sets/{pid}?usage=True")["quota_set"]
    vol = conn.block_storage.create_volume(size=2, name="cf-quota-vol")
    try:
        after = _json(conn.block_storage, f"/os-quota-sets/{pid}?usage=True")["quota_set"]
        plain = _json(conn.block_storage, f"/os-quota-sets/{pid}")["quota_set"]
        sdk = conn.block_storage.get_quota_set(pid, usage=True)
    finally:
        conn.block_storage.wait_for_status(vol, "available", wait=60, interval=0.2)
        conn.block_storage.delete_volume(vol)
    for name in ("volumes", "gigabytes", "snapshots"):
        assert set(after[name]) == {"limit", "in_use", "reserved"}, name
        assert plain[name] == after[name]["limit"]
    assert after["volumes"]["in_use"] == before["volumes"]["in_use"] + 1
    assert after["gigabytes"]["in_use"] == before["gigabytes"]["in_use"] + 2
    assert sdk.usage["volumes"] == after["volumes"]["in_use"]
