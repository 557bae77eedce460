"""Helpers for the GitLab CI template tests: the template files, a GitLab-like ``extends`` merge, the linter."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import stage  # noqa: F401 - the simulator + states fixture, shared with the e2e tests

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "tf-cleanup.gitlab-ci.yml"
COMPONENT = ROOT / "templates" / "tf-cleanup" / "template.yml"
PROJECT_CI = ROOT / ".gitlab-ci.yml"

# A proxy nobody listens on: a linter that tried to download a schema would fail instead of going online.
OFFLINE_ENV = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
               "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": ""}


def load(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def component_documents() -> tuple[str, str]:
    """The component's header (``spec:``) and body, the two YAML documents GitLab reads separately."""
    header, body = re.split(r"^---\s*$", COMPONENT.read_text(), maxsplit=1, flags=re.MULTILINE)
    return header, body


def render_component(inputs: dict[str, str] | None = None) -> dict[str, Any]:
    """The component body with ``$[[ inputs.NAME ]]`` replaced by the given value or the input's default."""
    header, body = component_documents()
    spec = yaml.safe_load(header)["spec"]["inputs"]
    values = {name: str(decl.get("default", "")) for name, decl in spec.items()}
    values.update(inputs or {})

    def substitute(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return dict(yaml.safe_load(re.sub(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", substitute, body)))


def _merge(base: Any, override: Any) -> Any:
    """GitLab's ``extends`` merge: hashes deep-merged, anything else (arrays included) replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return override


def resolve_job(config: dict[str, Any], name: str) -> dict[str, Any]:
    job = dict(config[name])
    parents = job.pop("extends", [])
    resolved: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        resolved = _merge(resolved, resolve_job(config, parent))
    return dict(_merge(resolved, job))


GLOBAL_KEYS = {"default", "include", "stages", "variables", "workflow", "spec", "image", "services", "cache",
               "before_script", "after_script"}


def resolved_config(config: dict[str, Any]) -> dict[str, Any]:
    """The pipeline as GitLab sees it after ``extends``: hidden jobs dropped, concrete jobs merged with theirs.

    The schema accepts anything under a hidden key (``.name``), so only this form checks what a job will run with.
    """
    resolved = {key: value for key, value in config.items() if key in GLOBAL_KEYS}
    for name in config:
        if name not in GLOBAL_KEYS and not name.startswith("."):
            resolved[name] = resolve_job(config, name)
    return resolved


def commented_block(text: str, first_line: str) -> str:
    """The commented YAML block that starts with ``# <first_line>``, uncommented."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"# {first_line}"))
    block: list[str] = []
    for line in lines[start:]:
        if not line.startswith("# ") and line != "#":
            break
        if line == "#":
            break
        block.append(line[2:])
    return "\n".join(block) + "\n"


def installed_script(name: str, missing: str) -> Path:
    """A console script from this interpreter's environment (or PATH); the test is skipped, saying ``missing``,
    without it."""
    beside = Path(sys.executable).parent / name
    found = beside if beside.exists() else (Path(p) if (p := shutil.which(name)) else None)
    if found is None:
        pytest.skip(missing)
    return found


def check_jsonschema() -> Path:
    return installed_script("check-jsonschema", "check-jsonschema is not installed (pip install '.[test]')")


def lint(*files: Path) -> subprocess.CompletedProcess[str]:
    """Validate GitLab CI files against the schema check-jsonschema ships (no download)."""
    env = {**os.environ, **OFFLINE_ENV}
    return subprocess.run([str(check_jsonschema()), "--builtin-schema", "vendor.gitlab-ci", *map(str, files)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
