"""Real OpenStack on 127.0.0.1 for the realstack tier: Keystone + Neutron (+ Cinder, + Nova on request).

Stdlib only, so any Python 3.11 runs it::

    python tests/realstack/stack.py venv                 # build (or reuse) the cached service venv
    python tests/realstack/stack.py up [--dir DIR]       # start, print REALSTACK_CLOUDS_YAML=..., serve until
                                                         # SIGINT/SIGTERM, then stop what it started
    python tests/realstack/stack.py check                # start, print timings and memory, stop

Options of ``up``/``check``: ``--cinder auto|on|off`` (auto: on when Debian's rabbitmq-server is
installed), ``--nova`` (Nova + Placement with the fake virt driver; implies Cinder), ``--octavia``
(Octavia's API and worker with no-op drivers, see ``octavia_stack.py``; needs rabbitmq-server), ``--keep``
(leave the temporary directory with its logs).

What it does, in order:

* a venv from ``requirements.txt`` (pinned) plus the test-only ML2 driver in ``mech/``, cached under
  ``$XDG_CACHE_HOME/kubespray-cleanup/realstack/venv-<sha>`` (``REALSTACK_VENV`` overrides the path);
* configs rendered from ``templates/`` into a fresh temporary directory, every service on a free
  127.0.0.1 port, sqlite databases initialised (Neutron's schema from its models, see
  ``service_init.py``);
* Keystone, Neutron (and Cinder's API, Nova's API, Placement) under gunicorn, Cinder's scheduler and
  volume service and Nova's conductor/scheduler/compute as plain processes, RabbitMQ as a private
  node with its own epmd, all bound to 127.0.0.1;
* Keystone users: projects ``elastx`` and ``other`` (users ``<project>-ci``, password
  ``<project>-password``, role member) and ``admin``, the same clouds as the simulator's ``empty``
  scenario, and the external network ``public`` (198.51.100.0/24, flat) made by admin;
* ``clouds.yaml`` and ``stack.json`` (ports, access logs, timings, memory) in the temporary directory.

Every process runs in its own session; :meth:`Stack.stop` ends exactly those process groups (and is
called from ``atexit``, from SIGTERM/SIGINT/SIGHUP handlers of ``up``, and by the pytest plugin). Each
service also gets SIGTERM from the kernel if the process that started it dies.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":   # run as a script: octavia.py imports this module by its package name
    sys.path.insert(0, str(HERE.parent.parent))
    sys.modules.setdefault("tests.realstack.stack", sys.modules[__name__])

from tests.realstack import octavia_stack as octavia_setup  # noqa: E402

TEMPLATES = HERE / "templates"
REQUIREMENTS = HERE / "requirements.txt"
MECH = HERE / "mech"
SERVICE_INIT = HERE / "service_init.py"
RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
RABBITMQ_APT_HINT = "apt-get install -y rabbitmq-server"

PROJECTS = ("elastx", "other")           # the simulator's ``empty`` scenario has the same two
ADMIN_PASSWORD = "admin-password"
SERVICE_PASSWORD = "service-password"
EXTERNAL_NETWORK = {"name": "public", "cidr": "198.51.100.0/24", "gateway_ip": "198.51.100.1"}
REGION = "RegionOne"
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(L)s'
STALE_VENV_DAYS = 7   # a cached venv of another lock file unused this long is removed


def log(message: str) -> None:
    print(f"realstack: {message}", file=sys.stderr, flush=True)


class StackError(RuntimeError):
    """The stack could not be built or started (the message names the step and the log to read)."""


# --- the service venv ------------------------------------------------------------------------------
def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kubespray-cleanup" / "realstack"


def venv_key() -> str:
    digest = hashlib.sha256()
    digest.update(f"{sys.version_info.major}.{sys.version_info.minor}".encode())
    for path in [REQUIREMENTS, *sorted(p for p in MECH.rglob("*") if p.is_file() and "egg-info" not in str(p))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _run_logged(argv: list[str], logfile: Path, what: str, env: dict[str, str] | None = None,
                cwd: Path | None = None) -> None:
    with logfile.open("ab") as out:
        result = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=cwd, check=False)
    if result.returncode != 0:
        raise StackError(f"{what} failed (exit {result.returncode}); last lines of {logfile}:\n{_tail(logfile)}")


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    text = [t for t in text if not t.startswith("WARNING: Location")]
    return "\n".join(text[-lines:])


def ensure_venv(fresh: bool = False) -> Path:
    """The service venv: reused when complete for this lock file, else built from scratch (under a lock)."""
    override = os.environ.get("REALSTACK_VENV")
    venv = Path(override) if override else cache_root() / f"venv-{venv_key()}"
    marker = venv / ".ksc-realstack-complete"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file() and not fresh:
            marker.touch()   # last use: what pruning goes by
            return venv
        started = time.monotonic()
        log(f"building the service venv {venv} (pinned {REQUIREMENTS.name}; about 1-2 minutes)")
        shutil.rmtree(venv, ignore_errors=True)
        if not override:
            _prune_stale_venvs(venv)
        venv.parent.mkdir(parents=True, exist_ok=True)
        logfile = venv.parent / f"{venv.name}.install.log"
        logfile.unlink(missing_ok=True)
        _run_logged([sys.executable, "-m", "venv", str(venv)], logfile, "python -m venv")
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        _run_logged([*pip, "install", "-q", "-r", str(REQUIREMENTS)], logfile, "pip install -r requirements.txt")
        with tempfile.TemporaryDirectory(prefix="ksc-mech-") as build:   # keep build/ and egg-info out of the tree
            shutil.copytree(MECH, Path(build) / "mech")
            _run_logged([*pip, "install", "-q", "--no-deps", str(Path(build) / "mech")],
                        logfile, "pip install mech/")
        marker.write_text(json.dumps({"key": venv_key(), "seconds": round(time.monotonic() - started, 1)}))
        log(f"service venv ready in {time.monotonic() - started:.0f}s ({_du(venv)})")
        return venv


def _prune_stale_venvs(keep: Path) -> None:
    """Remove the venvs of other lock files unused for STALE_VENV_DAYS (they are not relocatable). A
    checkout of another branch with another lock file shares the cache, so a recently used one stays."""
    cutoff = time.time() - STALE_VENV_DAYS * 86400
    for stale in keep.parent.glob("venv-*"):
        if not stale.is_dir() or stale == keep:
            continue
        marker = stale / ".ksc-realstack-complete"
        with contextlib.suppress(OSError), (stale.parent / f"{stale.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)   # OSError: being built right now
            if not marker.is_file() or marker.stat().st_mtime < cutoff:
                log(f"removing the unused service venv {stale}")
                shutil.rmtree(stale, ignore_errors=True)


def _du(path: Path) -> str:
    total = sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    return f"{total / 1e6:.0f} MB"


# --- helpers -----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the process that started it dies (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def http(method: str, url: str, body: Any = None, token: str | None = None,
         headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, Any, dict[str, str]]:
    """One JSON request (127.0.0.1 only); returns status, decoded body (or None) and headers."""
    if not url.startswith("http://127.0.0.1:"):
        raise StackError(f"refusing a request to {url}: the realstack tier talks to 127.0.0.1 only")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("X-Auth-Token", token)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status, hdrs = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        raw, status, hdrs = exc.read(), exc.code, dict(exc.headers)
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        decoded = raw.decode(errors="replace")
    return status, decoded, hdrs


def wait_until(what: str, probe: Callable[[], bool], timeout: float, proc: subprocess.Popen[bytes] | None = None,
               logfile: Path | None = None, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{what}: the process exited with {proc.returncode}; last lines of {logfile}:\n"
                             f"{_tail(logfile) if logfile else ''}")
        with contextlib.suppress(OSError, ValueError):
            if probe():
                return
        time.sleep(interval)
    raise StackError(f"{what}: not ready after {timeout:.0f}s; last lines of {logfile}:\n"
                     f"{_tail(logfile) if logfile else ''}")


def _http_up(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        return http("GET", url, timeout=5)[0] < 500
    return probe


def rabbitmq_available() -> bool:
    return RABBITMQ_SERVER.is_file() and shutil.which("epmd") is not None


# --- the stack ---------------------------------------------------------------------------------------
class Stack:
    """One running realstack: its directory, ports, processes and the clouds it serves."""

    def __init__(self, root: Path | None = None, *, cinder: str | bool = "auto", nova: bool = False,
                 octavia: str | bool = False, keep: bool = False) -> None:
        self.own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="ksc-realstack-")) if root is None else root.resolve()
        self.keep = keep
        self.nova = nova
        self.cinder_skip_reason: str | None = None
        self.octavia_skip_reason: str | None = None
        if octavia == "auto":
            octavia = rabbitmq_available()
            if not octavia:
                self.octavia_skip_reason = (f"Debian's rabbitmq-server is not installed ({RABBITMQ_APT_HINT}): "
                                            "Octavia is not started and its tests are skipped")
        self.octavia = bool(octavia)
        if cinder == "auto":
            cinder = rabbitmq_available() or nova
            if not cinder:
                self.cinder_skip_reason = (f"Debian's rabbitmq-server is not installed ({RABBITMQ_APT_HINT}): "
                                           "Cinder is not started and its tests are skipped")
        self.cinder = bool(cinder) or nova
        if self.cinder and not rabbitmq_available():
            raise StackError(f"Cinder needs Debian's rabbitmq-server and epmd: {RABBITMQ_APT_HINT}")
        if self.octavia and not rabbitmq_available():
            raise StackError(f"Octavia's worker needs Debian's rabbitmq-server and epmd: {RABBITMQ_APT_HINT}")
        self.rabbit = self.cinder or self.octavia
        self.etc, self.data, self.log_dir = self.root / "etc", self.root / "data", self.root / "log"
        self.ports: dict[str, int] = {}
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.timings: dict[str, float] = {}
        self.venv: Path | None = None
        self.admin_project_id = ""
        self.external_network_id = ""
        self.external_subnet_id = ""
        self._stopped = False
        self._lock = threading.Lock()

    # paths and urls
    @property
    def bin(self) -> Path:
        assert self.venv is not None
        return self.venv / "bin"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def clouds_yaml(self) -> Path:
        return self.root / "clouds.yaml"

    @property
    def info_path(self) -> Path:
        return self.root / "stack.json"

    def access_log(self, service: str) -> Path:
        return self.log_dir / f"{service}-access.log"

    # lifecycle
    def start(self) -> Stack:
        atexit.register(self.stop)
        t0 = time.monotonic()
        try:
            self.venv = self._timed("venv", ensure_venv)
            self._timed("configs", self._write_configs)
            self._timed("databases", self._init_databases)
            self._timed("services", self._start_services)
            self._timed("keystone_setup", self._keystone_setup)
            self._timed("neutron_setup", self._neutron_setup)
            if self.cinder:
                self._timed("cinder_ready", self._wait_cinder)
            if self.nova:   # after Keystone knows its service users: nova-conductor dies without them
                self._timed("nova_ready", self._start_nova)
            if self.octavia:
                self._timed("octavia_ready", lambda: octavia_setup.start(self))
            self.timings["total"] = round(time.monotonic() - t0, 1)
            self._write_clouds_yaml()
            self.info_path.write_text(json.dumps(self.info(), indent=1))
        except BaseException:
            self.keep = True   # leave the logs for whoever reads the error
            self.stop()
            raise
        log(f"up in {self.timings['total']:.0f}s ({', '.join(f'{k} {v:.1f}s' for k, v in self.timings.items())}); "
            f"RSS {self.rss_mb()['total']:.0f} MB; {self.clouds_yaml}")
        for service, reason in (("Cinder", self.cinder_skip_reason), ("Octavia", self.octavia_skip_reason)):
            if reason:
                log(f"SKIP {service}: {reason}")
        return self

    def _timed(self, name: str, step: Callable[[], Any]) -> Any:
        started = time.monotonic()
        result = step()
        self.timings[name] = round(time.monotonic() - started, 1)
        return result

    def stop(self) -> None:
        """End exactly the process groups this stack started (newest first); idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        for name, proc in reversed(self.procs):
            self._stop_group(name, proc)
        if self.own_root and not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)
        elif self.root.exists():
            log(f"logs kept in {self.log_dir}")

    @staticmethod
    def _stop_group(name: str, proc: subprocess.Popen[bytes]) -> None:
        if proc.poll() is not None and not _group_alive(proc.pid):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            proc.poll()
            if proc.returncode is not None and not _group_alive(proc.pid):
                return
            time.sleep(0.1)
        log(f"{name} (pgid {proc.pid}) ignored SIGTERM for 15s: SIGKILL")
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        out = (self.log_dir / f"{name}.out").open("ab")
        full_env = {**os.environ, **(env or {})}
        for var in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "OS_AUTH_URL"):
            full_env.pop(var, None)
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.root,
                                env=full_env, start_new_session=True, preexec_fn=_die_with_parent)
        out.close()
        self.procs.append((name, proc))
        return proc

    # configuration
    def _write_configs(self) -> None:
        services = ["keystone", "neutron"] + (["rabbitmq", "epmd", "rabbitmq_dist"] if self.rabbit else [])
        services += ["cinder"] if self.cinder else []
        services += ["nova", "placement"] if self.nova else []
        services += ["octavia"] if self.octavia else []
        used: set[int] = set()
        for service in services:
            port = free_port()
            while port in used:
                port = free_port()
            used.add(port)
            self.ports[service] = port
        values = {"ROOT": str(self.root), "ETC": str(self.etc), "DATA": str(self.data), "LOG": str(self.log_dir),
                  "KEYSTONE_URL": self.url("keystone"), "SERVICE_PASSWORD": SERVICE_PASSWORD, "VENV": str(self.venv),
                  **{f"{k.upper()}_PORT": str(v) for k, v in self.ports.items()}}
        for sub in ("data/neutron/lock", "data/cinder/lock", "data/nova/lock", "data/nova/instances",
                    "data/rabbitmq/home", "data/rabbitmq/mnesia", "log/rabbitmq", "wsgi"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        layout = {"keystone/keystone.conf": "keystone.conf", "neutron/neutron.conf": "neutron.conf",
                  "neutron/ml2_conf.ini": "ml2_conf.ini", "neutron/api-paste.ini": "neutron-api-paste.ini"}
        if self.rabbit:
            layout["rabbitmq/rabbitmq.conf"] = "rabbitmq.conf"
        if self.cinder:
            layout.update({"cinder/cinder.conf": "cinder.conf", "cinder/api-paste.ini": "cinder-api-paste.ini"})
        if self.nova:
            layout.update({"nova/nova.conf": "nova.conf", "nova/api-paste.ini": "nova-api-paste.ini",
                           "placement/placement.conf": "placement.conf"})
        if self.octavia:
            layout[octavia_setup.CONFIG] = "octavia.conf"
        for target, template in layout.items():
            path = self.etc / target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(string.Template((TEMPLATES / template).read_text()).substitute(values))
        if self.rabbit:
            (self.etc / "rabbitmq" / "enabled_plugins").write_text("[].\n")
        # WSGI entry points: reset argv (gunicorn's own options are not the service's) and point at the config
        apps = {
            "keystone_app": ("OS_KEYSTONE_CONFIG_DIR", "keystone", "from keystone.wsgi.api import application"),
            "neutron_app": ("OS_NEUTRON_CONFIG_DIR", "neutron", "from neutron.wsgi.api import application"),
            "cinder_app": (None, "cinder/cinder.conf", "from cinder.wsgi.api import application"),
            "nova_app": ("OS_NOVA_CONFIG_DIR", "nova", "from nova.wsgi.osapi_compute import application"),
            "placement_app": ("OS_PLACEMENT_CONFIG_DIR", "placement", "from placement.wsgi.api import application"),
        }
        for module, (env_var, where, import_line) in apps.items():
            lines = ['"""Generated by tests/realstack/stack.py."""', "import os", "import sys", ""]
            if env_var:
                lines += ["sys.argv = sys.argv[:1]", f"os.environ.setdefault({env_var!r}, {str(self.etc / where)!r})"]
            else:
                lines += [f"sys.argv = sys.argv[:1] + ['--config-file', {str(self.etc / where)!r}]"]
            if module == "neutron_app":
                lines.append("os.environ.setdefault('OS_NEUTRON_CONFIG_FILES', 'neutron.conf;ml2_conf.ini')")
            lines += [f"{import_line}  # noqa: E402,F401", ""]
            (self.root / "wsgi" / f"{module}.py").write_text("\n".join(lines))
        if self.octavia:
            octavia_setup.write_entry_points(self)

    def _init_databases(self) -> None:
        py = str(self.bin / "python")
        jobs: list[Callable[[], None]] = [
            lambda: _run_logged([py, str(SERVICE_INIT), "keystone", str(self.etc / "keystone/keystone.conf"),
                                 self.url("keystone") + "/v3/", ADMIN_PASSWORD],
                                self.log_dir / "keystone-init.log", "keystone db_sync/fernet/bootstrap"),
            lambda: _run_logged([py, str(SERVICE_INIT), "neutron", str(self.etc / "neutron/neutron.conf"),
                                 str(self.etc / "neutron/ml2_conf.ini")],
                                self.log_dir / "neutron-init.log", "neutron schema"),
        ]
        if self.cinder:
            jobs.append(lambda: _run_logged([str(self.bin / "cinder-manage"), "--config-file",
                                             str(self.etc / "cinder/cinder.conf"), "db", "sync"],
                                            self.log_dir / "cinder-init.log", "cinder-manage db sync"))
        if self.nova:
            jobs.append(self._init_nova_databases)
        if self.octavia:
            jobs.append(lambda: octavia_setup.init_database(self))
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()

    def _init_nova_databases(self) -> None:
        logfile = self.log_dir / "nova-init.log"
        _run_logged([str(self.bin / "placement-manage"), "--config-file", str(self.etc / "placement/placement.conf"),
                     "db", "sync"], logfile, "placement-manage db sync")
        manage = [str(self.bin / "nova-manage"), "--config-file", str(self.etc / "nova/nova.conf")]
        rabbit = f"rabbit://guest:guest@127.0.0.1:{self.ports['rabbitmq']}/"
        for args in (["api_db", "sync"],
                     ["cell_v2", "map_cell0", "--database_connection", f"sqlite:///{self.data}/nova_cell0.sqlite"],
                     ["cell_v2", "create_cell", "--name", "cell1", "--database_connection",
                      f"sqlite:///{self.data}/nova.sqlite", "--transport-url", rabbit],
                     ["db", "sync"]):
            _run_logged([*manage, *args], logfile, "nova-manage " + " ".join(args[:2]))

    # processes
    def _gunicorn(self, service: str, module: str) -> subprocess.Popen[bytes]:
        # One request at a time for the services that write sqlite from their API: concurrent writers
        # make sqlite answer "database is locked", which these services turn into 500s that a
        # MySQL-backed cloud would never give. Keystone (reads, cached tokens) keeps 4 threads.
        # Keep-alive longer than any client's pause: with gunicorn's default 2 s, a client polling every 2 s
        # races the server's close and gets "connection reset by peer".
        threads = "4" if service == "keystone" else "1"
        argv = [str(self.bin / "gunicorn"), "--chdir", str(self.root / "wsgi"), "-w", "1", "--threads", threads,
                "-k", "gthread", "--timeout", "120", "--keep-alive", "75", "--no-control-socket",
                "-b", f"127.0.0.1:{self.ports[service]}",
                "--access-logfile", str(self.access_log(service)), "--access-logformat", ACCESS_LOG_FORMAT,
                "--error-logfile", str(self.log_dir / f"{service}-gunicorn.log"), f"{module}:application"]
        return self.spawn(service, argv)

    def _rabbit_env(self) -> dict[str, str]:
        return {
            "HOME": str(self.data / "rabbitmq/home"),
            "RABBITMQ_NODENAME": f"ksc{self.ports['rabbitmq']}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.ports["rabbitmq"]),
            "RABBITMQ_DIST_PORT": str(self.ports["rabbitmq_dist"]),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.ports["epmd"]),
            "RABBITMQ_CONF_ENV_FILE": str(self.etc / "rabbitmq/rabbitmq-env.conf"),   # absent: not /etc's
            "RABBITMQ_CONFIG_FILE": str(self.etc / "rabbitmq/rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.etc / "rabbitmq/advanced.config"),
            "RABBITMQ_MNESIA_BASE": str(self.data / "rabbitmq/mnesia"),
            "RABBITMQ_LOG_BASE": str(self.log_dir / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.etc / "rabbitmq/enabled_plugins"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false",
        }

    def _start_services(self) -> None:
        if self.rabbit:   # the broker first: Cinder's services connect at start
            env = self._rabbit_env()
            epmd = shutil.which("epmd") or "epmd"
            self.spawn("epmd", [epmd, "-address", "127.0.0.1", "-port", str(self.ports["epmd"])], env)
            rabbit = self.spawn("rabbitmq", [str(RABBITMQ_SERVER)], env)
        keystone = self._gunicorn("keystone", "keystone_app")
        neutron = self._gunicorn("neutron", "neutron_app")
        wait_until("keystone", _http_up(self.url("keystone") + "/v3"), 120, keystone,
                   self.log_dir / "keystone-gunicorn.log")
        if self.rabbit:
            wait_until("rabbitmq", lambda: _tcp_open(self.ports["rabbitmq"]), 120, rabbit,
                       self.log_dir / "rabbitmq.out")
        if self.cinder:
            conf = str(self.etc / "cinder/cinder.conf")
            for svc in ("scheduler", "volume"):
                self.spawn(f"cinder-{svc}", [str(self.bin / f"cinder-{svc}"), "--config-file", conf,
                                             "--log-file", str(self.log_dir / f"cinder-{svc}.log")])
            self._gunicorn("cinder", "cinder_app")
        wait_until("neutron", _http_up(self.url("neutron") + "/"), 120, neutron, self.log_dir / "neutron-gunicorn.log")

    # keystone: projects, users, services, endpoints
    def token(self, user: str, password: str, project: str) -> tuple[str, dict[str, Any]]:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
        status, data, headers = http("POST", self.url("keystone") + "/v3/auth/tokens", body)
        if status != 201:
            raise StackError(f"keystone: token for {user}/{project} -> {status} {data}")
        return headers["X-Subject-Token"], data["token"]

    def admin_token(self) -> str:
        token, data = self.token("admin", ADMIN_PASSWORD, "admin")
        self.admin_project_id = data["project"]["id"]
        return token

    def _keystone_setup(self) -> None:
        ks = self.url("keystone") + "/v3"
        token = self.admin_token()

        def post(path: str, key: str, body: dict[str, Any]) -> dict[str, Any]:
            status, data, _ = http("POST", f"{ks}/{path}", {key: body}, token)
            if status not in (200, 201):
                raise StackError(f"keystone: POST /{path} {body.get('name', '')} -> {status} {data}")
            return dict(data[key])

        def grant(project: str, user: str, role: str) -> None:
            status, data, _ = http("PUT", f"{ks}/projects/{project}/users/{user}/roles/{roles[role]}", None, token)
            if status != 204:
                raise StackError(f"keystone: role {role} -> {status} {data}")

        roles = {r["name"]: r["id"] for r in http("GET", f"{ks}/roles", None, token)[1]["roles"]}
        for name in ("member", "service"):
            if name not in roles:
                roles[name] = post("roles", "role", {"name": name})["id"]
        service_project = post("projects", "project", {"name": "service", "domain_id": "default"})["id"]
        # (service user, catalog name, service type, endpoint url)
        catalog = [("neutron", "neutron", "network", self.url("neutron"))]
        if self.cinder:
            catalog.append(("cinder", "cinderv3", "volumev3", self.url("cinder") + "/v3/%(project_id)s"))
        if self.nova:
            catalog += [("nova", "nova", "compute", self.url("nova") + "/v2.1"),
                        ("placement", "placement", "placement", self.url("placement"))]
        if self.octavia:
            catalog.append(("octavia", "octavia", "load-balancer", self.url("octavia")))
        for username, name, service_type, url in catalog:
            user = post("users", "user", {"name": username, "password": SERVICE_PASSWORD, "domain_id": "default",
                                          "default_project_id": service_project})["id"]
            grant(service_project, user, "admin")
            grant(service_project, user, "service")
            service_id = post("services", "service", {"name": name, "type": service_type})["id"]
            for interface in ("public", "internal", "admin"):
                post("endpoints", "endpoint", {"service_id": service_id, "interface": interface, "url": url,
                                               "region_id": REGION})
        for project in PROJECTS:
            project_id = post("projects", "project", {"name": project, "domain_id": "default"})["id"]
            user = post("users", "user", {"name": f"{project}-ci", "password": f"{project}-password",
                                          "domain_id": "default", "default_project_id": project_id})["id"]
            grant(project_id, user, "member")

    def _neutron_setup(self) -> None:
        token = self.admin_token()
        base = self.url("neutron") + "/v2.0"
        status, data, _ = http("POST", base + "/networks", {"network": {
            "name": EXTERNAL_NETWORK["name"], "router:external": True, "provider:network_type": "flat",
            "provider:physical_network": "public"}}, token)
        if status != 201:
            raise StackError(f"neutron: external network -> {status} {data}")
        self.external_network_id = data["network"]["id"]
        status, data, _ = http("POST", base + "/subnets", {"subnet": {
            "name": EXTERNAL_NETWORK["name"] + "-subnet", "network_id": self.external_network_id, "ip_version": 4,
            "cidr": EXTERNAL_NETWORK["cidr"], "gateway_ip": EXTERNAL_NETWORK["gateway_ip"], "enable_dhcp": False}},
            token)
        if status != 201:
            raise StackError(f"neutron: external subnet -> {status} {data}")
        self.external_subnet_id = data["subnet"]["id"]

    def _wait_cinder(self) -> None:
        token = self.admin_token()
        url = f"{self.url('cinder')}/v3/{self.admin_project_id}/scheduler-stats/get_pools"

        def pools() -> bool:
            status, data, _ = http("GET", url, None, token, timeout=10)
            return status == 200 and bool(data.get("pools"))

        wait_until("cinder volume backend reporting to the scheduler", pools, 180,
                   logfile=self.log_dir / "cinder-volume.log", interval=0.5)

    def _start_nova(self) -> None:
        self._gunicorn("placement", "placement_app")
        conf = str(self.etc / "nova/nova.conf")
        for svc in ("conductor", "scheduler", "compute"):
            self.spawn(f"nova-{svc}", [str(self.bin / f"nova-{svc}"), "--config-file", conf,
                                       "--log-file", str(self.log_dir / f"nova-{svc}.log")])
        self._gunicorn("nova", "nova_app")
        manage = [str(self.bin / "nova-manage"), "--config-file", str(self.etc / "nova/nova.conf"), "cell_v2",
                  "list_hosts"]

        def mapped() -> bool:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    raise StackError(f"{name} exited with {proc.returncode}; last lines of its log:\n"
                                     f"{_tail(self.log_dir / (name + '.log'))}")
            out = subprocess.run(manage, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
            return "realstack-compute" in out.stdout

        wait_until("nova-compute mapped to cell1", mapped, 240, logfile=self.log_dir / "nova-compute.log",
                   interval=1.0)

    # outputs
    def clouds(self) -> dict[str, Any]:
        auth_url = self.url("keystone") + "/v3"
        creds = {p: (f"{p}-ci", f"{p}-password", p) for p in PROJECTS}
        creds["admin"] = ("admin", ADMIN_PASSWORD, "admin")
        return {"clouds": {cloud: {
            "auth_type": "password",
            "auth": {"auth_url": auth_url, "username": user, "password": password, "project_name": project,
                     "user_domain_name": "Default", "project_domain_name": "Default"},
            "region_name": REGION, "interface": "public", "identity_api_version": 3,
        } for cloud, (user, password, project) in creds.items()}}

    def _write_clouds_yaml(self) -> None:
        # JSON is YAML: no PyYAML needed in whatever Python runs this script
        self.clouds_yaml.write_text(json.dumps(self.clouds(), indent=1) + "\n")

    def rss_mb(self) -> dict[str, float]:
        by_service: dict[str, float] = {}
        groups = {proc.pid: name for name, proc in self.procs}
        for pid_dir in Path("/proc").iterdir():
            if not pid_dir.name.isdigit():
                continue
            try:
                pgid = os.getpgid(int(pid_dir.name))
                if pgid not in groups:
                    continue
                rss_kb = next(int(line.split()[1]) for line in (pid_dir / "status").read_text().splitlines()
                              if line.startswith("VmRSS:"))
            except (OSError, StopIteration, ValueError):
                continue
            by_service[groups[pgid]] = by_service.get(groups[pgid], 0.0) + rss_kb / 1024
        by_service = {k: round(v, 1) for k, v in sorted(by_service.items())}
        by_service["total"] = round(sum(by_service.values()), 1)
        return by_service

    def info(self) -> dict[str, Any]:
        return {
            "root": str(self.root), "clouds_yaml": str(self.clouds_yaml), "venv": str(self.venv),
            "urls": {name: self.url(name) for name in self.ports if name in
                     ("keystone", "neutron", "cinder", "nova", "placement", "octavia")},
            "cinder": self.cinder, "cinder_skip_reason": self.cinder_skip_reason, "nova": self.nova,
            "octavia": self.octavia, "octavia_skip_reason": self.octavia_skip_reason,
            "octavia_database": str(octavia_setup.database(self)) if self.octavia else None,
            "access_logs": {name: str(self.access_log(name)) for name in ("keystone", "neutron", "cinder", "nova",
                                                                          "octavia") if name in self.ports},
            "log_dir": str(self.log_dir), "external_network_id": self.external_network_id,
            "processes": {name: proc.pid for name, proc in self.procs},
            "timings_s": self.timings, "rss_mb": self.rss_mb(),
        }


def _tcp_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def running_stack(**kwargs: Any) -> Iterator[Stack]:
    stack = Stack(**kwargs).start()
    try:
        yield stack
    finally:
        stack.stop()


# --- command line ------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stack.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    venv = sub.add_parser("venv", help="build or reuse the cached service venv and print its path")
    venv.add_argument("--fresh", action="store_true", help="rebuild it even when complete")
    for name, text in (("up", "start and serve until SIGINT/SIGTERM"), ("check", "start, report, stop")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--dir", type=Path, help="directory for configs, data and logs (default: a new temp dir)")
        cmd.add_argument("--cinder", choices=("auto", "on", "off"), default=os.environ.get("REALSTACK_CINDER", "auto"))
        cmd.add_argument("--nova", action="store_true", default=os.environ.get("REALSTACK_NOVA") == "1")
        cmd.add_argument("--octavia", action="store_true", default=os.environ.get("REALSTACK_OCTAVIA") == "1")
        cmd.add_argument("--keep", action="store_true", help="keep the directory (and logs) after stopping")
    args = parser.parse_args(argv)
    if args.command == "venv":
        print(ensure_venv(fresh=args.fresh))
        return 0
    cinder = {"auto": "auto", "on": True, "off": False}[args.cinder]
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)

    def on_signal(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    stack = Stack(args.dir, cinder=cinder, nova=args.nova, octavia=args.octavia, keep=args.keep)
    try:
        stack.start()
        if args.command == "check":
            print(json.dumps(stack.info(), indent=1))
            return 0
        print(f"REALSTACK_CLOUDS_YAML={stack.clouds_yaml}", flush=True)
        while True:
            time.sleep(3600)
    except StackError as exc:
        log(f"error: {exc}")
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
