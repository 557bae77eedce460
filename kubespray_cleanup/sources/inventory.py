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


def connect(cloud: str) -> Any:
    """An authenticated openstacksdk Connection, or CloudError with one line saying why not."""
    import openstack
    from keystoneauth1 import exceptions as ks_exc
    from openstack import exceptions as os_exc
    from openstack.config import exceptions as cfg_exc

    try:
        conn = openstack.connect(cloud=cloud)
        conn.authorize()
    except cfg_exc.OpenStackConfigException as exc:
        raise CloudError(f"cloud {cloud!r}: {_first_line(exc)}") from None
    except (ks_exc.ClientException, os_exc.SDKException) as exc:
        raise CloudError(f"cloud {cloud!r}: {_auth_failure(exc)}") from None
    _widen_connection_pool(conn)
    return conn


def _auth_failure(exc: BaseException) -> str:
    """One line for a failed authentication; the cause is found in the chain openstacksdk wraps."""
    from keystoneauth1 import exceptions as ks_exc

    chain: list[BaseException] = [exc]
    while chain[-1].__context__ is not None and len(chain) < 10:
        chain.append(chain[-1].__context__)
    text = " ".join(str(e) for e in chain)
    if any(isinstance(e, ks_exc.Unauthorized) for e in chain) or "HTTP 401" in text:
        return "authentication failed (401): check the credentials"
    if any(isinstance(e, (ks_exc.ConnectFailure, ks_exc.DiscoveryFailure, ks_exc.ConnectionError)) for e in chain) \
            or "Unable to establish connection" in text:
        return "cannot reach the identity endpoint"
    return _first_line(exc)


def _widen_connection_pool(conn: Any, size: int = 64) -> None:
    """Let parallel deletes reuse connections instead of opening one per call."""
    from requests.adapters import HTTPAdapter

    session = conn.session.session
    for prefix in ("http://", "https://"):
        session.mount(prefix, HTTPAdapter(pool_connections=16, pool_maxsize=size))


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
