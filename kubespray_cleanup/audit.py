"""The audit log (``--audit-log FILE``): one JSON line per mutating API call, for whoever must answer "what did
the cleanup do to our project, and when?".

Every HTTP answer to a DELETE, PUT, POST or PATCH made through the run's connection is written, whatever its
status (a refused or failed call is a fact too): UTC time, cloud project, kind, id and name of the resource
being acted on, the operation (delete, force_delete, reset_state, remove_interface, remove_routes,
disassociate), HTTP method and status, the OpenStack request id and the duration. Lines are appended and
flushed one by one, so a killed run leaves every line it wrote. No header, body or URL query is written,
so no token or secret can reach the file. Token requests to Keystone are not mutations of the project and
are left out.

The resource comes from the executor, which names what it is acting on for the duration of each call
(:func:`acting_on`); the operation comes from the request itself.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from kubespray_cleanup.model import Resource

_MUTATING = frozenset({"DELETE", "PUT", "POST", "PATCH"})
_current = threading.local()

# Request body keys of action calls -> operation names.
_ACTIONS = {"forceDelete": "force_delete", "os-force_delete": "force_delete", "os-reset_status": "reset_state",
            "os-detach": "detach", "os-force_detach": "force_detach", "restore": "restore"}


@contextlib.contextmanager
def acting_on(resource: Resource) -> Iterator[None]:
    """Name the resource the calls made by this thread act on, for the length of the block."""
    previous = getattr(_current, "resource", None)
    _current.resource = resource
    try:
        yield
    finally:
        _current.resource = previous


def operation_of(method: str, path: str, body: Any) -> str:
    """The operation an HTTP request performs, from its method, path and (JSON) body."""
    tail = path.rstrip("/").rsplit("/", 1)[-1]
    if method == "DELETE":
        return "delete"
    if tail == "remove_router_interface":
        return "remove_interface"
    if tail == "remove_extraroutes":
        return "remove_routes"
    if tail == "action":
        data = _json(body)
        for key in data if isinstance(data, dict) else ():
            return _ACTIONS.get(str(key), str(key))
    if method == "PUT" and "/floatingips/" in path:
        data = _json(body)
        fip = data.get("floatingip") if isinstance(data, dict) else None
        if isinstance(fip, dict) and fip.get("port_id") is None and "port_id" in fip:
            return "disassociate"
        return "update"
    return "update" if method in ("PUT", "PATCH") else "create"


def _json(body: Any) -> Any:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class AuditLog:
    """Writes one line per mutating call answered on the connections it is attached to."""

    def __init__(self, path: Path, project_id: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.project_id = project_id
        self.lines = 0
        self._lock = threading.Lock()
        self._stream: IO[str] | None = path.open("a", encoding="utf-8")

    def attach(self, conn: Any) -> None:
        """Hook into the connection's HTTP session (requests' response hook): sees every answer, retries too."""
        conn.session.session.hooks.setdefault("response", []).append(self._on_response)

    def _on_response(self, response: Any, *args: Any, **kwargs: Any) -> None:
        request = getattr(response, "request", None)
        method = str(getattr(request, "method", "") or "").upper()
        if method not in _MUTATING:
            return
        path = urlsplit(str(getattr(request, "url", "") or "")).path
        if path.rstrip("/").endswith("/auth/tokens"):
            return
        resource: Resource | None = getattr(_current, "resource", None)
        headers = getattr(response, "headers", {}) or {}
        elapsed = getattr(response, "elapsed", None)
        self.write({
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "project_id": self.project_id,
            "kind": resource.kind.value if resource else None,
            "id": resource.id if resource else None,
            "name": resource.name if resource else None,
            "operation": operation_of(method, path, getattr(request, "body", None)),
            "method": method,
            "path": path,
            "status": int(getattr(response, "status_code", 0) or 0),
            "request_id": headers.get("x-openstack-request-id") or headers.get("x-compute-request-id"),
            "duration_ms": round(elapsed.total_seconds() * 1000, 1) if elapsed is not None else None,
        })

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=False) + "\n"
        with self._lock:
            if self._stream is None:
                return
            self._stream.write(line)
            self._stream.flush()
            self.lines += 1

    def close(self) -> None:
        with self._lock:
            if self._stream is not None:
                self._stream.close()
                self._stream = None
