"""Fixtures for ``tf-cleanup check``: a Kubespray scenario whose quotas fit one more cluster, and a runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stage, stage  # noqa: F401 - the e2e stage fixture, reused

# The kubespray scenario (job 4711 dead with its state, 4712 live) with room for a third cluster's security
# groups: Neutron's default of 10 is taken by the two clusters' 8 and the default group.
ROOMY = """\
name: kubespray-roomy
extends: kubespray
quotas:
  elastx: {network: {security_group: 20}}
"""


@pytest.fixture
def roomy(stage: Callable[..., Stage], tmp_path: Path) -> Stage:  # noqa: F811
    path = tmp_path / "roomy.yaml"
    path.write_text(ROOMY)
    return stage(str(path))


def check(st: Stage, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """Run ``tf-cleanup check --output json`` against the stage; (exit code, document)."""
    result = st.run("check", "--project", "elastx", "--cloud", "elastx", "--state", str(st.states),
                    "--output", "json", *args, env={"CI_JOB_ID": "4800", **(env or {})})
    return result.exit_code, json.loads(result.stdout)


def finding(doc: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    found = [f for f in doc["findings"] if f["kind"] == kind and f["name"] == name]
    assert found, f"no {kind} finding {name!r} in {[(f['kind'], f['name']) for f in doc['findings']]}"
    return found[0]
