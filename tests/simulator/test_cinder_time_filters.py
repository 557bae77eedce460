"""Cinder's µv 3.60 ``created_at``/``updated_at`` comparison filters on volume lists, through openstacksdk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kubespray_cleanup.simulator import cinder
from kubespray_cleanup.simulator.server import SimulatorServer


def _names(conn: Any, query: str, microversion: str = "3.60") -> Any:
    response = conn.block_storage.get(f"/volumes/detail?{query}", microversion=microversion)
    if response.status_code != 200:
        return response.status_code
    return sorted(v["name"] for v in response.json()["volumes"])


def test_created_at_and_updated_at_compare_from_microversion_3_60(sim: SimulatorServer, elastx: Any) -> None:
    """gt/gte/lt/lte/eq/neq, comma-joined comparisons all hold; before 3.60 the value is an exact match;
    a malformed comparison is 400."""
    now = datetime.now(UTC).replace(microsecond=0)
    project = sim.store.project_by_name("elastx")
    assert project is not None
    for name, age in (("old", 48), ("mid", 12), ("new", 1)):
        cinder.create_volume(sim.store, project.id, name, 1, created_at=now - timedelta(hours=age))
    cut = (now - timedelta(hours=24)).isoformat().replace("+00:00", "")
    recent = (now - timedelta(hours=6)).isoformat().replace("+00:00", "")
    assert _names(elastx, f"created_at=gt:{cut}") == ["mid", "new"]
    assert _names(elastx, f"created_at=lte:{cut}") == ["old"]
    assert _names(elastx, f"created_at=gt:{cut},lt:{recent}") == ["mid"]
    assert _names(elastx, f"updated_at=gte:{recent}") == ["new"]
    assert _names(elastx, f"created_at=gt:{cut}", microversion="3.59") == []
    assert _names(elastx, "created_at=after:yesterday") == 400
