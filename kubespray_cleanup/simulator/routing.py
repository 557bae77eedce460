"""What a handler sees and how services declare their routes: ``Ctx`` per request, ``Routes`` per app.

Core: knows no service. Services import it (mostly for typing) to register handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from kubespray_cleanup.simulator.http import read_json
from kubespray_cleanup.simulator.store import Record, Store, Token

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.app import Simulator

Handler = Callable[..., Response]

# Path prefix of each service below the simulator's root URL; the catalog is built from these.
SERVICE_PREFIXES = {
    "identity": "/identity",
    "compute": "/compute",
    "network": "/network",
    "block-storage": "/volume",
    "image": "/image",
    "load-balancer": "/load-balancer",
}


@dataclass
class Ctx:
    """What a handler gets: the simulator, the request and the caller's token."""

    sim: Simulator
    request: Request
    token: Token | None

    @property
    def store(self) -> Store:
        return self.sim.store

    @property
    def project_id(self) -> str:
        return self.token.project_id if self.token else ""

    @property
    def user_id(self) -> str:
        return self.token.user_id if self.token else ""

    @property
    def is_admin(self) -> bool:
        return bool(self.token and self.token.is_admin)

    def body(self) -> dict[str, Any]:
        return read_json(self.request)

    def owns(self, record: Record, key: str = "project_id") -> bool:
        """True when the caller may see/touch ``record`` (admin sees every project)."""
        return self.is_admin or record.get(key) == self.project_id

    def scoped(self, records: Iterable[Record], key: str = "project_id",
               all_projects: bool = True) -> list[Record]:
        """Records the caller may list; admin sees all projects unless ``all_projects`` is False."""
        if self.is_admin and all_projects:
            return list(records)
        return [r for r in records if r.get(key) == self.project_id]

    def op_time(self, operation: str) -> float:
        """Simulated seconds an asynchronous operation takes under the latency profile."""
        return self.sim.latency.operation(operation)

    def url(self, service: str, path: str = "") -> str:
        return self.request.host_url.rstrip("/") + SERVICE_PREFIXES[service] + path


class Routes:
    """Collects ``(method, path) -> handler`` rules from each service module."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self.handlers: dict[str, Handler] = {}
        self.public: set[str] = set()

    def add(self, method: str, path: str, handler: Handler, *, public: bool = False) -> None:
        endpoint = f"{method} {path}"
        self.rules.append(Rule(path, endpoint=endpoint, methods=[method], strict_slashes=False))
        self.handlers[endpoint] = handler
        if public:
            self.public.add(endpoint)


# What each service package exposes to the app factory: ``register(routes)`` adds its handlers.
ServiceRegistration = Callable[[Routes], None]
