"""Live inventory: every kind listed once per run through openstacksdk, kinds in parallel, all pages."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kubespray_cleanup.errors import CloudError
from kubespray_cleanup.kinds import HANDLERS
from kubespray_cleanup.model import Kind, Resource
from kubespray_cleanup.retry import call_with_retry

# Catalog service type needed by each listing call.
_SERVICE_TYPES = {"compute": "compute", "network": "network", "volume": "block-storage",
                  "load-balancer": "load-balancer"}


@dataclass
class Inventory:
    """What the cloud holds right now, for one project token."""

    project_id: str
    resources: list[Resource]
    skipped_kinds: dict[Kind, str] = field(default_factory=dict)  # kind -> why it was not listed


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]


def _has_service(conn: Any, service: str) -> bool:
    """Whether the catalog offers ``service``; a lookup that keeps failing (no token, Keystone down) is a CloudError.

    openstacksdk's ``has_service`` answers False for any failure, so a False is asked again holding a token.
    """
    kind = _SERVICE_TYPES[service]

    def ask() -> bool:
        if conn.has_service(kind):
            return True
        conn.authorize()  # raises when the token call fails
        return bool(conn.has_service(kind))

    try:
        return call_with_retry(ask)
    except Exception as exc:
        raise CloudError(f"service catalog lookup for {kind} failed: {_first_line(exc)}") from None


def _unavailable(conn: Any, handler: Any) -> str:
    try:
        return str(call_with_retry(lambda: handler.unavailable(conn)))
    except Exception as exc:
        raise CloudError(f"checking whether {handler.kind.value}s can be listed failed: {_first_line(exc)}") from None


def list_inventory(conn: Any, kinds: Iterable[Kind] | None = None, parallel: int = 8) -> Inventory:
    """List every requested kind (default: all) concurrently; an API failure raises CloudError."""
    wanted = [HANDLERS[k] for k in (kinds or HANDLERS)]
    skipped: dict[Kind, str] = {}
    runnable = []
    offered: dict[str, bool] = {}
    for handler in wanted:
        if handler.service not in offered:
            offered[handler.service] = _has_service(conn, handler.service)
        why = "" if offered[handler.service] else f"service {_SERVICE_TYPES[handler.service]} not in the catalog"
        why = why or _unavailable(conn, handler)
        if why:
            skipped[handler.kind] = why
        else:
            runnable.append(handler)
    resources: list[Resource] = []
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(runnable) or 1))) as pool:
        futures = {pool.submit(_list_one, conn, h): h for h in runnable}
        for future, handler in futures.items():
            try:
                resources.extend(future.result())
            except CloudError:
                raise
            except Exception as exc:
                raise CloudError(f"listing {handler.kind.value}s failed: {_first_line(exc)}") from None
    return Inventory(project_id=_project_id(conn), resources=resources, skipped_kinds=skipped)


def _project_id(conn: Any) -> str:
    """The token's project: a token call of its own once the cached token is near its end (retried)."""
    try:
        return str(call_with_retry(lambda: conn.current_project_id))
    except Exception as exc:
        raise CloudError(f"reading the token's project failed: {_first_line(exc)}") from None


def _list_one(conn: Any, handler: Any) -> list[Resource]:
    return list(call_with_retry(lambda: handler.list(conn)))
