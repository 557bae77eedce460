"""pytest plugin of the realstack tier: real Keystone + Neutron (+ Cinder) on 127.0.0.1 for one session.

    pytest -p tests.realstack.plugin --realstack tests/conformance tests/realstack     # what tox -e realstack runs

``--realstack`` adds the ``realstack`` target to every conformance test and enables the end-to-end
tests in ``tests/realstack``. The session fixture :func:`realstack` starts the stack once (see
``stack.py``) and stops it at the end of the session, or uses a running one when
``REALSTACK_CLOUDS_YAML`` names its ``clouds.yaml`` (``python tests/realstack/stack.py up`` prints it;
``stack.json`` beside it tells which services run and where their access logs are).
``--realstack-nova`` (or ``REALSTACK_NOVA=1``) also starts Nova with the fake driver;
Octavia's API and worker (no-op drivers) start whenever rabbitmq-server is installed, like Cinder;
``--realstack-octavia`` (or ``REALSTACK_OCTAVIA=1``) insists on them, ``REALSTACK_OCTAVIA=0`` leaves
them out, as ``REALSTACK_CINDER=off`` does Cinder.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.realstack.stack import Stack

PLUGIN_NAME = "tests.realstack.plugin"
_SUMMARY: list[str] = []
OFF = "realstack tier is off: run `tox -e realstack` (pytest -p tests.realstack.plugin --realstack)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("realstack", "real Keystone + Neutron (+ Cinder) on 127.0.0.1")
    group.addoption("--realstack", action="store_true",
                    help="run the conformance tests against the real services too, and the realstack end-to-end tests")
    group.addoption("--realstack-nova", action="store_true", default=os.environ.get("REALSTACK_NOVA") == "1",
                    help="also start Nova (fake virt driver) and Placement")
    group.addoption("--realstack-octavia", action="store_const", const="on",
                    default=os.environ.get("REALSTACK_OCTAVIA", "auto"),
                    help="start Octavia (API + worker, no-op amphora/compute/network drivers) or fail; default "
                         "REALSTACK_OCTAVIA or auto: when rabbitmq-server is installed (0/off: never)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "realstack: needs the realstack tier (real OpenStack services on 127.0.0.1)")


def pytest_report_header(config: pytest.Config) -> str:
    running = os.environ.get("REALSTACK_CLOUDS_YAML")
    if not config.getoption("realstack"):
        return "realstack: off"
    return f"realstack: on ({'running stack ' + running if running else 'starting one for this session'})"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _SUMMARY:
        terminalreporter.write_line(line)


@dataclass
class AccessLog:
    """A gunicorn access log: lines appended since :meth:`mark`, counted by status."""

    path: Path
    offset: int = 0

    def mark(self) -> AccessLog:
        self.offset = self.path.stat().st_size if self.path.exists() else 0
        return self

    def lines(self) -> list[str]:
        if not self.path.exists():
            return []
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            return handle.read().decode(errors="replace").splitlines()

    def statuses(self) -> list[tuple[str, int]]:
        """(request line, status) per request since the mark; format ``%(h)s "%(r)s" %(s)s %(L)s``."""
        result = []
        for line in self.lines():
            match = re.match(r'^\S+ "(?P<request>[^"]*)" (?P<status>\d{3}) ', line)
            if match:
                result.append((match.group("request"), int(match.group("status"))))
        return result

    def count(self, status: int) -> int:
        return sum(1 for _, s in self.statuses() if s == status)


@dataclass
class RealStack:
    """A running realstack as the tests see it: clouds, connections, services and their access logs."""

    clouds: dict[str, Any]
    info: dict[str, Any]
    _connections: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_clouds_yaml(cls, path: Path) -> RealStack:
        clouds = yaml.safe_load(path.read_text())
        info_path = path.parent / "stack.json"
        info = json.loads(info_path.read_text()) if info_path.is_file() else {}
        for cloud in clouds["clouds"].values():
            if not re.match(r"^http://(127\.0\.0\.1|localhost)[:/]", cloud["auth"]["auth_url"]):
                raise pytest.UsageError(f"{path}: the realstack tier only talks to 127.0.0.1, not "
                                        f"{cloud['auth']['auth_url']}")
        return cls(clouds=clouds, info=info)

    @property
    def cinder(self) -> bool:
        return bool(self.info.get("cinder", True))

    @property
    def cinder_skip_reason(self) -> str:
        return str(self.info.get("cinder_skip_reason") or "Cinder is not running in this realstack")

    @property
    def nova(self) -> bool:
        return bool(self.info.get("nova", False))

    @property
    def octavia(self) -> bool:
        return bool(self.info.get("octavia", False))

    @property
    def octavia_skip_reason(self) -> str:
        return str(self.info.get("octavia_skip_reason") or "Octavia is not running in this realstack "
                   "(--realstack-octavia / REALSTACK_OCTAVIA=1)")

    @property
    def octavia_database(self) -> Path | None:
        """Octavia's sqlite file (tests use it to put a load balancer in ERROR, as a failed flow would)."""
        path = self.info.get("octavia_database")
        return Path(path) if path else None

    def access_log(self, service: str) -> AccessLog:
        path = self.info.get("access_logs", {}).get(service)
        if not path:
            pytest.skip(f"no access log of {service} for this realstack (stack.json missing)")
        return AccessLog(Path(path)).mark()

    def cloud(self, name: str) -> dict[str, Any]:
        return dict(self.clouds["clouds"][name])

    def connect(self, cloud: str) -> Any:
        """A cached openstacksdk Connection for one of the stack's clouds (``elastx``, ``other``, ``admin``)."""
        if cloud not in self._connections:
            self._connections[cloud] = connect(self.cloud(cloud))
        return self._connections[cloud]

    def new_project(self, prefix: str) -> tuple[str, dict[str, Any]]:
        """A fresh project with a member user, as a clouds.yaml cloud entry (name, entry)."""
        identity = self.connect("admin").identity
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        project = identity.create_project(name=name, domain_id="default")
        password = uuid.uuid4().hex
        user = identity.create_user(name=f"{name}-ci", password=password, domain_id="default",
                                    default_project_id=project.id)
        identity.assign_project_role_to_user(project, user, identity.find_role("member"))
        entry = self.cloud("elastx")
        entry["auth"] = {**entry["auth"], "username": f"{name}-ci", "password": password, "project_name": name}
        return name, entry


def connect(cloud: dict[str, Any]) -> Any:
    import openstack.config
    import openstack.connection

    config = openstack.config.OpenStackConfig(load_yaml_config=False, load_envvars=False)
    return openstack.connection.Connection(config=config.get_one(cloud=None, **cloud))


@pytest.fixture(scope="session")
def realstack(request: pytest.FixtureRequest) -> Iterator[RealStack]:
    """The session's realstack: a running one from ``REALSTACK_CLOUDS_YAML``, or one started here."""
    if not request.config.getoption("realstack"):
        pytest.skip(OFF)
    running = os.environ.get("REALSTACK_CLOUDS_YAML")
    if running:
        yield RealStack.from_clouds_yaml(Path(running))
        return
    cinder = {"auto": "auto", "on": True, "off": False}.get(os.environ.get("REALSTACK_CINDER", "auto"), "auto")
    octavia = {"auto": "auto", "on": True, "1": True, "off": False, "0": False}.get(
        str(request.config.getoption("realstack_octavia")), "auto")
    stack = Stack(cinder=cinder, nova=request.config.getoption("realstack_nova"), octavia=octavia)
    started = time.monotonic()
    try:
        stack.start()
        yield RealStack.from_clouds_yaml(stack.clouds_yaml)
        rss = stack.rss_mb()
        _SUMMARY.append(f"realstack: setup {stack.timings['total']:.0f}s "
                        f"({', '.join(f'{k} {v:.0f}s' for k, v in stack.timings.items() if k != 'total')}), "
                        f"session {time.monotonic() - started:.0f}s; RSS at the end {rss['total']:.0f} MB "
                        f"({', '.join(f'{k} {v:.0f}' for k, v in rss.items() if k != 'total')})")
        if stack.cinder_skip_reason:
            _SUMMARY.append(f"realstack: SKIPPED Cinder: {stack.cinder_skip_reason}")
        if stack.octavia_skip_reason:
            _SUMMARY.append(f"realstack: SKIPPED Octavia: {stack.octavia_skip_reason}")
    finally:
        stack.stop()
