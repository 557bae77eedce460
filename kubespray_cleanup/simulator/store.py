"""In-memory tables, identity and a scaled clock: the simulator's single source of truth."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kubespray_cleanup.simulator.deployment import Deployment

Record = dict[str, Any]

# Table names follow the collection keys of an inventory dump (see shared fixtures).
TABLES = (
    "servers",
    "ports",
    "networks",
    "subnets",
    "routers",
    "security_groups",
    "security_group_rules",
    "floating_ips",
    "keypairs",
    "server_groups",
    "volumes",
    "snapshots",
    "load_balancers",
    "listeners",
    "pools",
    "members",
    "health_monitors",
    "l7policies",
    "images",
    "flavors",
    "trunks",
)

# Fields with a secondary index (value -> records), so filtered lookups on hot paths do not scan a table.
# ``Store.iter`` uses them transparently; ``put``/``remove`` maintain them, and code that changes one of
# these fields in place calls ``Store.reindex`` (Neutron's ``touch`` does, after every update).
INDEXED: dict[str, tuple[str, ...]] = {
    "ports": ("network_id", "device_id"),
    "subnets": ("network_id",),
    "floating_ips": ("port_id", "router_id"),
    "security_groups": ("project_id", "name"),
    "security_group_rules": ("security_group_id", "remote_group_id"),
    "keypairs": ("name",),
}


@dataclass
class Project:
    id: str
    name: str
    domain_id: str = "default"


@dataclass
class User:
    id: str
    name: str
    password: str
    default_project_id: str
    roles: dict[str, list[str]] = field(default_factory=dict)  # project id -> role names
    domain_id: str = "default"


@dataclass
class AppCredential:
    id: str
    name: str
    secret: str
    user_id: str
    project_id: str
    roles: list[str]


@dataclass
class Token:
    id: str
    user_id: str
    project_id: str
    roles: list[str]
    expires_at: datetime

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def iso(dt: datetime) -> str:
    """Neutron/Nova style timestamp: second precision, ``Z`` suffix."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_micro(dt: datetime) -> str:
    """Cinder/Keystone style timestamp with microseconds."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


class Store:
    """All simulated resources, guarded by one re-entrant lock.

    Asynchronous operations (a server going away some seconds after DELETE)
    are scheduled events on a heap, applied lazily by :meth:`advance` at the
    start of every request, so no background thread mutates state.
    """

    def __init__(self, time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.lock = threading.RLock()
        self.time_scale = time_scale
        self._clock = clock
        self._events: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.tables: dict[str, dict[str, Record]] = defaultdict(dict)
        # (table, field) -> value -> {record id: insertion number}; each bucket is kept in insertion order,
        # so indexed lookups yield records in table order like a scan would. _order: (table, id) -> that
        # number, _indexed_as: (table, id) -> the indexed values the record was filed under.
        self._index: dict[tuple[str, str], dict[Any, dict[Any, int]]] = {
            (table, name): {} for table, names in INDEXED.items() for name in names}
        self._indexed_as: dict[tuple[str, Any], tuple[Any, ...]] = {}
        self._order: dict[tuple[str, Any], int] = {}
        self._order_seq = itertools.count()
        self.projects: dict[str, Project] = {}
        self.users: dict[str, User] = {}
        self.app_credentials: dict[str, AppCredential] = {}
        self.tokens: dict[str, Token] = {}
        self.token_ttl = timedelta(hours=1)
        self.quotas: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)  # project -> service -> limits
        self.wall_offset = timedelta(0)
        self.deployment = Deployment()

    # --- quotas -------------------------------------------------------------
    QUOTA_SERVICES = ("compute", "network", "block-storage", "load-balancer")

    def set_quota(self, project_id: str, service: str, **limits: int) -> None:
        """Override quota limits of a project for one service (its catalog type; ``volume`` = block-storage)."""
        service = "block-storage" if service == "volume" else service
        if service not in self.QUOTA_SERVICES:
            raise ValueError(f"quotas: unknown service {service!r} (known: {', '.join(self.QUOTA_SERVICES)})")
        with self.lock:
            self.quotas[project_id].setdefault(service, {}).update(limits)

    # --- time -------------------------------------------------------------
    def monotonic(self) -> float:
        return self._clock()

    def utcnow(self) -> datetime:
        return datetime.now(UTC) + self.wall_offset

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` once ``delay`` simulated seconds have passed (scaled by time_scale)."""
        due = self._clock() + max(0.0, delay) / self.time_scale
        with self.lock:
            heapq.heappush(self._events, (due, next(self._seq), action))

    def advance(self) -> None:
        """Apply every scheduled event that is due."""
        now = self._clock()
        with self.lock:
            while self._events and self._events[0][0] <= now:
                _, _, action = heapq.heappop(self._events)
                action()

    def pending_events(self) -> int:
        with self.lock:
            return len(self._events)

    # --- ids and identity -------------------------------------------------------
    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    @staticmethod
    def new_hex_id() -> str:
        return uuid.uuid4().hex

    def project_by_name(self, name: str) -> Project | None:
        return next((p for p in self.projects.values() if p.name == name), None)

    def user_by_name(self, name: str) -> User | None:
        return next((u for u in self.users.values() if u.name == name), None)

    def add_project(self, name: str, project_id: str | None = None) -> Project:
        project = Project(id=project_id or self.new_hex_id(), name=name)
        self.projects[project.id] = project
        return project

    def add_user(self, name: str, password: str, project: Project, roles: Iterable[str] = ("member",),
                 user_id: str | None = None) -> User:
        user = User(id=user_id or self.new_hex_id(), name=name, password=password,
                    default_project_id=project.id, roles={project.id: list(roles)})
        self.users[user.id] = user
        return user

    # --- tables ---------------------------------------------------------------
    def table(self, name: str) -> dict[str, Record]:
        return self.tables[name]

    def get(self, table: str, rid: str) -> Record | None:
        return self.tables[table].get(rid)

    def put(self, table: str, record: Record) -> Record:
        rid = record["id"]
        rows = self.tables[table]
        if table in INDEXED:
            if rid not in rows:
                self._order[(table, rid)] = next(self._order_seq)
            rows[rid] = record
            self._index_record(table, record)
        else:
            rows[rid] = record
        return record

    def remove(self, table: str, rid: str) -> Record | None:
        record = self.tables[table].pop(rid, None)
        if record is not None and table in INDEXED:
            self._order.pop((table, rid), None)
            self._unindex(table, rid)
        return record

    def reindex(self, record: Record, table: str | None = None) -> None:
        """Refresh the indexes of ``record`` after one of its indexed fields changed in place.

        Without ``table`` every indexed table holding this very record (by identity) is refreshed.
        """
        rid: Any = record.get("id")
        for name in (table,) if table else INDEXED:
            if name in INDEXED and self.tables[name].get(rid) is record:
                self._index_record(name, record)

    def _index_record(self, table: str, record: Record) -> None:
        rid = record["id"]
        values = tuple(_hashable(record.get(name)) for name in INDEXED[table])
        old = self._indexed_as.get((table, rid))
        if old == values:
            return
        if old is not None:
            self._unindex(table, rid)
        number = self._order[(table, rid)]
        for name, value in zip(INDEXED[table], values, strict=True):
            if value is _UNHASHABLE:
                continue
            buckets = self._index[(table, name)]
            bucket = buckets.setdefault(value, {})
            if bucket and next(reversed(bucket.values())) > number:  # moved in place: restore table order
                bucket[rid] = number
                buckets[value] = dict(sorted(bucket.items(), key=lambda item: item[1]))
            else:
                bucket[rid] = number
        self._indexed_as[(table, rid)] = values

    def _unindex(self, table: str, rid: Any) -> None:
        old = self._indexed_as.pop((table, rid), None)
        if old is None:
            return
        for name, value in zip(INDEXED[table], old, strict=True):
            bucket = self._index[(table, name)].get(value) if value is not _UNHASHABLE else None
            if bucket is not None:
                bucket.pop(rid, None)
                if not bucket:
                    del self._index[(table, name)][value]

    def iter(self, table: str, **filters: Any) -> Iterator[Record]:
        """Records of ``table`` whose fields equal every given filter value (in table order).

        Iterates over a snapshot, so callers may remove records while iterating.
        """
        rows = self.tables[table]
        if not filters:
            return iter(list(rows.values()))
        candidates = self._candidates(table, filters)
        if candidates is None:
            items = filters.items()
            return iter([rec for rec in list(rows.values()) if all(rec.get(k) == v for k, v in items)])
        if len(filters) == 1:
            ((key, value),) = filters.items()
            return iter([rec for rid in candidates if (rec := rows.get(rid)) is not None and rec.get(key) == value])
        return iter([rec for rid in candidates if (rec := rows.get(rid)) is not None
                     and all(rec.get(k) == v for k, v in filters.items())])

    def _candidates(self, table: str, filters: dict[str, Any]) -> list[Any] | None:
        """Ids from the smallest index bucket among the filtered fields, or None when none is indexed."""
        best: dict[Any, int] | None = None
        for name in INDEXED.get(table, ()):
            if name not in filters:
                continue
            try:
                bucket = self._index[(table, name)].get(filters[name], _EMPTY)
            except TypeError:  # an unhashable filter value: no index can answer
                continue
            if best is None or len(bucket) < len(best):
                best = bucket
        return None if best is None else list(best)

    def count(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items() if rows}

    def snapshot(self) -> dict[str, list[Record]]:
        """A deep-enough copy of every table for ``/_sim/state`` (internal ``_`` keys dropped)."""
        with self.lock:
            return {
                name: [public(rec) for rec in rows.values()]
                for name, rows in sorted(self.tables.items())
                if rows
            }


_UNHASHABLE = object()
_EMPTY: dict[Any, int] = {}


def _hashable(value: Any) -> Any:
    """``value`` if it can be an index key, else a marker (no hashable filter value equals it anyway)."""
    try:
        hash(value)
    except TypeError:
        return _UNHASHABLE
    return value


def public(record: Record) -> Record:
    """The record without bookkeeping keys (those starting with ``_``)."""
    return {k: v for k, v in record.items() if not k.startswith("_")}
