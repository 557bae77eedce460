"""Octavia records and their state machine, shared by the v2 API handlers and scenario seeding."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubespray_cleanup.simulator.neutron import interface as neutron
from kubespray_cleanup.simulator.store import Record, Store

LOAD_BALANCERS = "load_balancers"
LISTENERS = "listeners"
POOLS = "pools"
MEMBERS = "members"
HEALTH_MONITORS = "health_monitors"
L7POLICIES = "l7policies"

ACTIVE = "ACTIVE"
ERROR = "ERROR"
DELETED = "DELETED"
PENDING_CREATE = "PENDING_CREATE"
PENDING_UPDATE = "PENDING_UPDATE"
PENDING_DELETE = "PENDING_DELETE"
# octavia/common/constants.py
MUTABLE_STATUSES = (ACTIVE,)
DELETABLE_STATUSES = (ACTIVE, ERROR)
OCTAVIA_OWNER = "Octavia"
DEFAULT_PROVIDER = "amphora"


def stamp(when: datetime) -> str:
    """Octavia's timestamps: WSME ``isoformat()`` of a naive UTC DB datetime (no zone, no fraction)."""
    return when.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()


def _operating(provisioning_status: str) -> str:
    if provisioning_status == ACTIVE:
        return "ONLINE"
    return "ERROR" if provisioning_status == ERROR else "OFFLINE"


def _base(store: Store, rid: str | None, project_id: str, name: str, created_at: datetime | None,
          provisioning_status: str) -> Record:
    created = stamp(created_at or store.utcnow())
    return {
        "id": rid or store.new_id(), "name": name, "project_id": project_id, "tenant_id": project_id,
        "provisioning_status": provisioning_status, "operating_status": _operating(provisioning_status),
        "admin_state_up": True, "created_at": created,
        "updated_at": None if provisioning_status == PENDING_CREATE else created,  # seeded: went ACTIVE once
        "tags": [],
    }


def visible(record: Record | None) -> bool:
    """Octavia hides rows marked DELETED from GET and lists (``show_deleted=False``)."""
    return record is not None and record.get("provisioning_status") != DELETED


def touch(store: Store, record: Record, provisioning_status: str | None = None) -> None:
    if provisioning_status is not None:
        record["provisioning_status"] = provisioning_status
    record["updated_at"] = stamp(store.utcnow())


# --- relations (internal ``_lb_id``/``_pool_id`` first, public fields as fallback) -----------------
def _first_id(refs: Any) -> str | None:
    if isinstance(refs, list) and refs and isinstance(refs[0], dict):
        return str(refs[0].get("id"))
    return None


def lb_of(store: Store, table: str, record: Record) -> str | None:
    """Id of the load balancer a child record belongs to."""
    if record.get("_lb_id"):
        return str(record["_lb_id"])
    if table in (LISTENERS, POOLS):
        return _first_id(record.get("loadbalancers"))
    parent: Record | None = None
    if table == MEMBERS:
        parent = store.get(POOLS, pool_of_member(store, record) or "")
    elif table == HEALTH_MONITORS:
        parent = store.get(POOLS, _first_id(record.get("pools")) or "")
    elif table == L7POLICIES:
        parent = store.get(LISTENERS, str(record.get("listener_id") or ""))
    if parent is None:
        return None
    return lb_of(store, POOLS if table != L7POLICIES else LISTENERS, parent)


def pool_of_member(store: Store, member: Record) -> str | None:
    if member.get("_pool_id"):
        return str(member["_pool_id"])
    for pool in store.iter(POOLS):
        if any(ref.get("id") == member["id"] for ref in pool.get("members") or []):
            member["_pool_id"] = pool["id"]
            return str(pool["id"])
    return None


def pool_of_monitor(monitor: Record) -> str | None:
    return str(monitor["_pool_id"]) if monitor.get("_pool_id") else _first_id(monitor.get("pools"))


def children(store: Store, table: str, lb_id: str) -> list[Record]:
    return [r for r in store.iter(table) if visible(r) and lb_of(store, table, r) == lb_id]


def pool_members(store: Store, pool_id: str) -> list[Record]:
    return [m for m in store.iter(MEMBERS) if visible(m) and pool_of_member(store, m) == pool_id]


def pool_monitors(store: Store, pool_id: str) -> list[Record]:
    return [h for h in store.iter(HEALTH_MONITORS) if visible(h) and pool_of_monitor(h) == pool_id]


def pool_l7policies(store: Store, pool_id: str) -> list[Record]:
    return [p for p in store.iter(L7POLICIES) if visible(p) and p.get("redirect_pool_id") == pool_id]


def refresh(store: Store, lb_id: str) -> None:
    """Recompute the id lists a load balancer and its children show (listeners, pools, members ...)."""
    lb = store.get(LOAD_BALANCERS, lb_id)
    listeners = children(store, LISTENERS, lb_id)
    pools = children(store, POOLS, lb_id)
    if lb is not None:
        lb["listeners"] = [{"id": r["id"]} for r in listeners]
        lb["pools"] = [{"id": r["id"]} for r in pools]
    policies = children(store, L7POLICIES, lb_id)
    for listener in listeners:
        listener["l7policies"] = [{"id": p["id"]} for p in policies if p.get("listener_id") == listener["id"]]
        if listener.get("default_pool_id") and not visible(store.get(POOLS, listener["default_pool_id"])):
            listener["default_pool_id"] = None
    for pool in pools:
        pool["members"] = [{"id": m["id"]} for m in pool_members(store, pool["id"])]
        monitors = pool_monitors(store, pool["id"])
        pool["healthmonitor_id"] = monitors[0]["id"] if monitors else None
        pool["listeners"] = [{"id": li["id"]} for li in listeners if li.get("default_pool_id") == pool["id"]]


# --- model functions (API and seeding) ----------------------------------------------------------
def create_load_balancer(store: Store, project_id: str, name: str, *, vip_subnet_id: str, lb_id: str | None = None,
                         created_at: datetime | None = None, provisioning_status: str = ACTIVE,
                         description: str = "", vip_port_id: str | None = None, vip_address: str | None = None,
                         provider: str = DEFAULT_PROVIDER, tags: list[str] | None = None,
                         flavor_id: str | None = None, availability_zone: str | None = None,
                         admin_state_up: bool = True, vip_sg_ids: list[str] | None = None) -> Record:
    """A load balancer plus, unless ``vip_port_id`` is given, the VIP port Octavia creates for it.

    ``vip_sg_ids`` (API v2.29) are put on the VIP port, so they stay in use until the LB is gone.
    """
    subnet = store.get("subnets", vip_subnet_id)
    if subnet is None:
        raise ValueError(f"load balancer {name!r}: subnet {vip_subnet_id} does not exist")
    lb = _base(store, lb_id, project_id, name, created_at, provisioning_status)
    if vip_port_id is None:
        fixed: dict[str, Any] = {"subnet_id": vip_subnet_id}
        if vip_address:
            fixed["ip_address"] = vip_address
        port = neutron.create_port(store, subnet["network_id"], project_id, name=f"octavia-lb-{lb['id']}",
                                   fixed_ips=[fixed], security_group_ids=list(vip_sg_ids or []),
                                   device_id=f"lb-{lb['id']}",
                                   device_owner=OCTAVIA_OWNER, created_at=created_at, admin_state_up=False)
    else:
        found = store.get("ports", vip_port_id)
        if found is None:
            raise ValueError(f"load balancer {name!r}: VIP port {vip_port_id} does not exist")
        port = found
        if vip_sg_ids:
            neutron.update_port(store, port["id"], security_groups=list(vip_sg_ids))
    address = next((ip["ip_address"] for ip in port.get("fixed_ips") or [] if ip.get("subnet_id") == vip_subnet_id),
                   vip_address)
    lb.update({
        "description": description, "vip_address": address, "vip_port_id": port["id"],
        "vip_subnet_id": vip_subnet_id, "vip_network_id": subnet["network_id"], "vip_qos_policy_id": None,
        "vip_sg_ids": list(vip_sg_ids or []), "vip_vnic_type": "normal", "additional_vips": [], "listeners": [],
        "pools": [],
        "provider": provider, "flavor_id": flavor_id, "availability_zone": availability_zone,
        "tags": list(tags or []), "admin_state_up": admin_state_up,
    })
    return store.put(LOAD_BALANCERS, lb)


def _load_balancer(store: Store, lb_id: str) -> Record:
    lb = store.get(LOAD_BALANCERS, lb_id)
    if lb is None:
        raise ValueError(f"load balancer {lb_id} does not exist")
    return lb


def create_listener(store: Store, lb_id: str, name: str, *, protocol: str = "TCP", protocol_port: int = 80,
                    listener_id: str | None = None, created_at: datetime | None = None,
                    provisioning_status: str = ACTIVE, description: str = "", default_pool_id: str | None = None,
                    connection_limit: int = -1, tags: list[str] | None = None) -> Record:
    lb = _load_balancer(store, lb_id)
    listener = _base(store, listener_id, lb["project_id"], name, created_at, provisioning_status)
    listener.update({
        "description": description, "protocol": protocol, "protocol_port": int(protocol_port),
        "connection_limit": connection_limit, "default_tls_container_ref": None, "sni_container_refs": [],
        "default_pool_id": default_pool_id, "l7policies": [], "insert_headers": {},
        "loadbalancers": [{"id": lb_id}], "timeout_client_data": 50000, "timeout_member_connect": 5000,
        "timeout_member_data": 50000, "timeout_tcp_inspect": 0, "client_ca_tls_container_ref": None,
        "client_authentication": "NONE", "client_crl_container_ref": None, "allowed_cidrs": None,
        "tls_ciphers": None, "tls_versions": None, "alpn_protocols": None, "hsts_max_age": None,
        "hsts_include_subdomains": False, "hsts_preload": False, "tags": list(tags or []), "_lb_id": lb_id,
    })
    store.put(LISTENERS, listener)
    refresh(store, lb_id)
    return listener


def create_pool(store: Store, lb_id: str, name: str, *, listener_id: str | None = None, protocol: str = "TCP",
                lb_algorithm: str = "ROUND_ROBIN", pool_id: str | None = None, created_at: datetime | None = None,
                provisioning_status: str = ACTIVE, description: str = "",
                session_persistence: dict[str, Any] | None = None, tags: list[str] | None = None) -> Record:
    lb = _load_balancer(store, lb_id)
    pool = _base(store, pool_id, lb["project_id"], name, created_at, provisioning_status)
    pool.update({
        "description": description, "protocol": protocol, "lb_algorithm": lb_algorithm,
        "session_persistence": session_persistence, "loadbalancers": [{"id": lb_id}], "listeners": [],
        "healthmonitor_id": None, "members": [], "tls_container_ref": None, "ca_tls_container_ref": None,
        "crl_container_ref": None, "tls_enabled": False, "tls_ciphers": None, "tls_versions": None,
        "alpn_protocols": None, "tags": list(tags or []), "_lb_id": lb_id,
    })
    store.put(POOLS, pool)
    listener = store.get(LISTENERS, listener_id) if listener_id else None
    if listener is not None:
        listener["default_pool_id"] = pool["id"]
    refresh(store, lb_id)
    return pool


def _pool(store: Store, pool_id: str) -> tuple[Record, str]:
    pool = store.get(POOLS, pool_id)
    lb_id = lb_of(store, POOLS, pool) if pool is not None else None
    if pool is None or lb_id is None:
        raise ValueError(f"pool {pool_id} does not exist")
    return pool, lb_id


def create_member(store: Store, pool_id: str, address: str, protocol_port: int, *, subnet_id: str | None = None,
                  name: str = "", member_id: str | None = None, created_at: datetime | None = None,
                  provisioning_status: str = ACTIVE, weight: int = 1, backup: bool = False,
                  monitor_address: str | None = None, monitor_port: int | None = None,
                  tags: list[str] | None = None) -> Record:
    pool, lb_id = _pool(store, pool_id)
    member = _base(store, member_id, pool["project_id"], name, created_at, provisioning_status)
    if provisioning_status == ACTIVE:
        member["operating_status"] = "ONLINE" if pool_monitors(store, pool_id) else "NO_MONITOR"
    member.update({
        "address": address, "protocol_port": int(protocol_port), "weight": weight, "backup": backup,
        "subnet_id": subnet_id, "monitor_address": monitor_address, "monitor_port": monitor_port,
        "vnic_type": "normal", "tags": list(tags or []), "_pool_id": pool_id, "_lb_id": lb_id,
    })
    store.put(MEMBERS, member)
    refresh(store, lb_id)
    return member


def create_health_monitor(store: Store, pool_id: str, *, type: str = "TCP", delay: int = 10,  # noqa: A002
                          timeout: int = 5, max_retries: int = 3, hm_id: str | None = None, name: str = "",
                          created_at: datetime | None = None, provisioning_status: str = ACTIVE,
                          max_retries_down: int = 3, http_method: str | None = None, url_path: str | None = None,
                          expected_codes: str | None = None, tags: list[str] | None = None) -> Record:
    pool, lb_id = _pool(store, pool_id)
    http = type in ("HTTP", "HTTPS")
    monitor = _base(store, hm_id, pool["project_id"], name, created_at, provisioning_status)
    monitor.update({
        "type": type, "delay": int(delay), "timeout": int(timeout), "max_retries": int(max_retries),
        "max_retries_down": int(max_retries_down), "http_method": http_method or ("GET" if http else None),
        "url_path": url_path or ("/" if http else None), "expected_codes": expected_codes or ("200" if http else None),
        "pools": [{"id": pool_id}], "http_version": None, "domain_name": None, "tags": list(tags or []),
        "_pool_id": pool_id, "_lb_id": lb_id,
    })
    store.put(HEALTH_MONITORS, monitor)
    refresh(store, lb_id)
    return monitor


def create_l7policy(store: Store, listener_id: str, *, action: str = "REDIRECT_TO_POOL",
                    redirect_pool_id: str | None = None, redirect_url: str | None = None, name: str = "",
                    position: int | None = None, policy_id: str | None = None, created_at: datetime | None = None,
                    provisioning_status: str = ACTIVE, description: str = "",
                    tags: list[str] | None = None) -> Record:
    listener = store.get(LISTENERS, listener_id)
    lb_id = lb_of(store, LISTENERS, listener) if listener is not None else None
    if listener is None or lb_id is None:
        raise ValueError(f"listener {listener_id} does not exist")
    siblings = [p for p in store.iter(L7POLICIES, listener_id=listener_id) if visible(p)]
    policy = _base(store, policy_id, listener["project_id"], name, created_at, provisioning_status)
    policy.update({
        "description": description, "action": action, "listener_id": listener_id,
        "redirect_pool_id": redirect_pool_id, "redirect_url": redirect_url, "redirect_prefix": None,
        "position": position or len(siblings) + 1, "rules": [], "redirect_http_code": 302 if redirect_url else None,
        "tags": list(tags or []), "_lb_id": lb_id,
    })
    store.put(L7POLICIES, policy)
    refresh(store, lb_id)
    return policy


# --- removal (what the controller worker does once a delete completes) ----------------------------
def remove_l7policy(store: Store, policy_id: str) -> None:
    store.remove(L7POLICIES, policy_id)


def remove_member(store: Store, member_id: str) -> None:
    store.remove(MEMBERS, member_id)


def remove_health_monitor(store: Store, hm_id: str) -> None:
    store.remove(HEALTH_MONITORS, hm_id)


def remove_pool(store: Store, pool_id: str) -> None:
    """A pool goes with its members and health monitor (pool_flows); listeners lose it as default pool."""
    for member in pool_members(store, pool_id):
        remove_member(store, member["id"])
    for monitor in pool_monitors(store, pool_id):
        remove_health_monitor(store, monitor["id"])
    for listener in store.iter(LISTENERS, default_pool_id=pool_id):
        listener["default_pool_id"] = None
    store.remove(POOLS, pool_id)


def remove_listener(store: Store, listener_id: str) -> None:
    """A listener goes with its L7 policies; its default pool stays on the load balancer."""
    for policy in list(store.iter(L7POLICIES, listener_id=listener_id)):
        remove_l7policy(store, policy["id"])
    store.remove(LISTENERS, listener_id)


def remove_load_balancer(store: Store, lb_id: str) -> None:
    """Cascade: children, then the VIP port when Octavia created it (FIPs on it are only disassociated)."""
    for policy in children(store, L7POLICIES, lb_id):
        remove_l7policy(store, policy["id"])
    for listener in children(store, LISTENERS, lb_id):
        remove_listener(store, listener["id"])
    for pool in children(store, POOLS, lb_id):
        remove_pool(store, pool["id"])
    lb = store.remove(LOAD_BALANCERS, lb_id)
    port = store.get("ports", str(lb.get("vip_port_id") or "")) if lb else None
    if port is not None and port.get("device_owner") == OCTAVIA_OWNER:
        neutron.remove_port(store, port["id"])


# --- asynchronous completion ---------------------------------------------------------------------
def settle(store: Store, lb_id: str) -> None:
    """The provider finished: the load balancer and its updated children are ACTIVE again (unless stuck)."""
    refresh(store, lb_id)
    lb = store.get(LOAD_BALANCERS, lb_id)
    if lb is None or lb.get("_stuck"):
        return
    for table in (LISTENERS, POOLS, L7POLICIES):
        for rec in children(store, table, lb_id):
            if rec["provisioning_status"] == PENDING_UPDATE and not rec.get("_stuck"):
                touch(store, rec, ACTIVE)
    if lb["provisioning_status"] in (PENDING_UPDATE, PENDING_CREATE):
        touch(store, lb, ACTIVE)
        lb["operating_status"] = "ONLINE"


def finish(store: Store, lb_id: str, work: Callable[[], None]) -> Callable[[], None]:
    """An event that applies ``work`` and then settles the load balancer."""

    def run() -> None:
        lb = store.get(LOAD_BALANCERS, lb_id)
        if lb is None or lb.get("_stuck"):
            return
        work()
        settle(store, lb_id)

    return run


def activate(store: Store, table: str, rid: str) -> Callable[[], None]:
    """Work item: a PENDING_CREATE record becomes ACTIVE/ONLINE."""

    def run() -> None:
        rec = store.get(table, rid)
        if rec is None or rec.get("_stuck") or rec["provisioning_status"] != PENDING_CREATE:
            return
        touch(store, rec, ACTIVE)
        if table == MEMBERS:
            pool = pool_of_member(store, rec)
            rec["operating_status"] = "ONLINE" if pool and pool_monitors(store, pool) else "NO_MONITOR"
        else:
            rec["operating_status"] = "ONLINE"

    return run


def finish_lb_delete(store: Store, lb_id: str) -> Callable[[], None]:
    def run() -> None:
        lb = store.get(LOAD_BALANCERS, lb_id)
        if lb is not None and lb["provisioning_status"] == PENDING_DELETE and not lb.get("_stuck"):
            remove_load_balancer(store, lb_id)

    return run
