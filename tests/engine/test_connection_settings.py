"""Per-call environment lookups are skipped only when skipping them changes nothing (no proxy, no netrc)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from kubespray_cleanup.sources.credentials import _skip_environment_lookups


def _conn() -> SimpleNamespace:
    return SimpleNamespace(session=SimpleNamespace(verify=True, session=SimpleNamespace(trust_env=True)))


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "NETRC", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(key, raising=False)
        monkeypatch.delenv(key.lower(), raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return monkeypatch


def test_a_ca_bundle_from_the_environment_is_set_once_on_the_session(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/private-ca.pem")
    conn = _conn()
    _skip_environment_lookups(conn)
    assert conn.session.session.trust_env is False and conn.session.verify == "/etc/ssl/private-ca.pem"


@pytest.mark.parametrize("setting", ["https_proxy", "NO_PROXY", "netrc-file"])
def test_a_proxy_or_netrc_keeps_requests_reading_the_environment(bare_env: pytest.MonkeyPatch, tmp_path: Path,
                                                                  setting: str) -> None:
    if setting == "netrc-file":
        (tmp_path / ".netrc").write_text("machine cloud.example login u password p\n")
    else:
        bare_env.setenv(setting, "http://proxy.example:3128")
    conn = _conn()
    _skip_environment_lookups(conn)
    assert conn.session.session.trust_env is True and conn.session.verify is True
