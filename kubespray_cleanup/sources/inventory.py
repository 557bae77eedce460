"""Live inventory: every kind listed once per run through openstacksdk, kinds in parallel, all pages."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kubespray_cleanup.errors import CloudError
from kubespray_cleanup.kinds import HANDLERS
from kubespray_cleanup.model import Kind, Resource

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
    try:
        return bool(conn.has_service(_SERVICE_TYPES[service]))
    except Exception:
        return False


def list_inventory(conn: Any, kinds: Iterable[Kind] | None = None, parallel: int = 8) -> Inventory:
    """List every requested kind (default: all) concurrently; an API failure raises CloudError."""
    wanted = [HANDLERS[k] for k in (kinds or HANDLERS)]
    skipped: dict[Kind, str] = {}
    runnable = []
    for handler in wanted:
        if _has_service(conn, handler.service):
            runnable.append(handler)
        else:
            skipped[handler.kind] = f"service {_SERVICE_TYPES[handler.service]} not in the catalog"
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
    return Inventory(project_id=str(conn.current_project_id), resources=resources, skipped_kinds=skipped)


def _list_one(conn: Any, handler: Any) -> list[Resource]:
    from kubespray_cleanup.retry import call_with_retry

    return list(call_with_retry(lambda: handler.list(conn)))
