"""Bad input gives one line on stderr, its documented exit code, no traceback and zero deletions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kubespray_cleanup.errors import ExitCode
from tests.e2e.conftest import FAST, Stage


def _one_line_error(result: object) -> str:
    out = getattr(result, "output", "")
    assert "Traceback" not in out
    errors = [line for line in out.splitlines() if line.startswith("tf-cleanup: error:")]
    assert len(errors) == 1, out
    return errors[0]


def _set_auth(st: Stage, key: str, value: str) -> None:
    """Change one auth field of the elastx cloud in the stage's clouds.yaml."""
    doc = yaml.safe_load(st.clouds.read_text())
    doc["clouds"]["elastx"]["auth"][key] = value
    st.clouds.write_text(yaml.safe_dump(doc))


@pytest.mark.parametrize("content, reason", [
    ("{not json", "JSON"),
    ('{"version": 4, "resources": [', "truncated"),
    ('{"version": 3, "resources": []}', "version"),
    ("", "empty"),
])
def test_unreadable_state_stops_before_any_delete(stage: Callable[..., Stage], tmp_path: Path, content: str,
                                                  reason: str) -> None:
    """A corrupt, truncated or unknown-version state: exit 5, nothing deleted."""
    st = stage("demo")
    bad = tmp_path / "bad.tfstate"
    bad.write_text(content)
    result = st.run("--project", "elastx", "--state", str(st.states), "--state", str(bad), *FAST)
    assert result.exit_code == ExitCode.STATE
    assert "bad.tfstate" in _one_line_error(result)
    assert st.requests("DELETE") == 0


def test_unknown_profile_is_a_usage_error(stage: Callable[..., Stage]) -> None:
    """--project with a profile nobody defined: exit 3."""
    st = stage("demo")
    result = st.run("--project", "nosuch", *FAST)
    assert result.exit_code == ExitCode.USAGE
    assert "unknown profile" in _one_line_error(result)


def test_missing_cloud_is_a_configuration_error(stage: Callable[..., Stage]) -> None:
    """A cloud name absent from clouds.yaml is a configuration mistake: exit 3, naming the cloud and the file."""
    st = stage("demo")
    result = st.run("--project", "elastx", "--cloud", "nowhere", *FAST)
    assert result.exit_code == ExitCode.USAGE
    assert str(st.clouds) in result.output
    assert "nowhere" in _one_line_error(result)


def test_wrong_password_is_a_cloud_error(stage: Callable[..., Stage], tmp_path: Path) -> None:
    """Keystone answers 401: exit 4, and the password is not echoed."""
    st = stage("demo")
    _set_auth(st, "password", "wrong-secret-123")
    result = st.run("--project", "elastx", *FAST)
    assert result.exit_code == ExitCode.CLOUD
    assert "wrong-secret-123" not in result.output
    assert "authentication" in _one_line_error(result)


def test_unreachable_endpoint_is_a_cloud_error(stage: Callable[..., Stage]) -> None:
    """Nothing listens at the auth URL: exit 4."""
    st = stage("demo")
    _set_auth(st, "auth_url", "http://127.0.0.1:9/identity/v3")
    result = st.run("--project", "elastx", *FAST)
    assert result.exit_code == ExitCode.CLOUD
    _one_line_error(result)


@pytest.mark.parametrize("args", [
    ("--min-age", "-3h"),
    ("--min-age", "soon"),
    ("--state-max-age", "1x"),
    ("--max-parallel", "0"),
    ("--output", "xml"),
    ("--backend-config", "novalue"),
])
def test_bad_option_values_are_usage_errors(stage: Callable[..., Stage], args: tuple[str, str]) -> None:
    """Negative ages, malformed durations and out-of-range numbers: exit 3."""
    st = stage("demo")
    result = st.run("--project", "elastx", *args, *FAST)
    assert result.exit_code == ExitCode.USAGE
    _one_line_error(result)
    assert st.requests("DELETE") == 0


@pytest.mark.parametrize("config", [
    "profiles: [1, 2]",
    "profiles:\n  elastx:\n    min_age: banana\n",
    "profiles:\n  mine:\n    extends: nothing\n",
    "profiles:\n  elastx:\n    owner_patterns:\n      server: '^(\\d+)-x$'\n",
    "profiles:\n  elastx:\n    colour: blue\n",
    "profiles: {elastx: {owner_patterns: {spaceship: '^(?P<owner>x)$'}}}",
    ":\n  - [",
])
def test_bad_config_files_are_usage_errors(stage: Callable[..., Stage], tmp_path: Path, config: str) -> None:
    """Malformed config files and profiles: exit 3 with the file named."""
    st = stage("demo")
    path = tmp_path / "tf-cleanup.yaml"
    path.write_text(config)
    result = st.run("--project", "elastx", "--config", str(path), *FAST)
    assert result.exit_code == ExitCode.USAGE
    assert "tf-cleanup.yaml" in _one_line_error(result)
