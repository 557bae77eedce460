"""Contender 2: Kubespray's fixed-order CI cleanup (job ``tf-elastx_cleanup``), rewritten from its description.

Behaviour kept on purpose, because it is what the CI runs (see ../shared/anchors.md and the fixture NOTES):
- selection by age only: ``created_at`` older than ``--hours 4``; the ``default`` security group and external
  networks are skipped, nothing else is looked at;
- one kind at a time, sequential: servers, ports, security groups, subnets, networks, keypairs (``get_keypair``
  for each, as the list has no ``created_at``); it never waits for a delete to finish;
- one retry on a 409: when a port delete conflicts, every old subnet is tried and, if that conflicts too,
  detached from every router; old floating IPs are deleted (their only path); then ports are tried once more.
  When a security-group delete conflicts, old ports are deleted and groups tried once more;
- it never deletes routers, volumes, load balancers or server groups; any other error ends the run.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.contenders import CUTOFF, Attempt, Target

STEPS = ("servers", "ports", "security_groups", "subnets", "networks", "keypairs")


def created(item: Any) -> datetime:
    """The item's ``created_at`` as aware UTC (Neutron ``...Z``, Nova keypairs with microseconds, naive = UTC).

    A missing value raises ``TypeError``, as the script's ``datetime.strptime(obj.created_at, ...)`` does.
    """
    value = getattr(item, "created_at", None)
    if not value:
        raise TypeError(f"strptime() argument 1 must be str, not {type(value).__name__}")
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class FixedOrderCleanup:
    """One run of the script against an openstacksdk-like connection."""

    def __init__(self, conn: Any, oldest_allowed: datetime, conflict: type[BaseException] | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        if conflict is None:
            from openstack.exceptions import ConflictException

            conflict = ConflictException
        self.conn = conn
        self.oldest_allowed = oldest_allowed
        self.conflict = conflict
        self.log = log or (lambda line: None)
        self.deleted: Counter[str] = Counter()
        self.fallbacks: list[str] = []
        self.steps_done: list[str] = []

    # --- selection ------------------------------------------------------------------------------------
    def is_old(self, item: Any) -> bool:
        if getattr(item, "name", None) == "default":  # skip the default security group
            return False
        return created(item) < self.oldest_allowed

    def delete_if_old(self, delete: Callable[[Any], Any], item: Any, what: str) -> None:
        if self.is_old(item):
            self.log(f"deleting {what} {getattr(item, 'name', '')} ({getattr(item, 'id', '')})")
            delete(item)
            self.deleted[what] += 1

    def each_if_old(self, delete: Callable[[Any], Any], items: Iterable[Any], what: str) -> None:
        for item in items:
            self.delete_if_old(delete, item, what)

    # --- the fixed order ------------------------------------------------------------------------------------
    def run(self) -> None:
        for step in STEPS:
            getattr(self, step)()
            self.steps_done.append(step)

    def servers(self) -> None:
        self.each_if_old(self.conn.compute.delete_server, self.conn.compute.servers(), "server")

    def ports(self) -> None:
        net = self.conn.network
        try:
            self.each_if_old(net.delete_port, net.ports(), "port")
        except self.conflict as exc:
            self.fallbacks.append(f"ports: {_first_line(exc)}")
            self._detach_old_subnets()
            self.each_if_old(net.delete_ip, net.ips(), "floating_ip")
            self.each_if_old(net.delete_port, net.ports(), "port")  # the one retry: a new conflict ends the run

    def _detach_old_subnets(self) -> None:
        net = self.conn.network
        for subnet in net.subnets():
            try:
                self.delete_if_old(net.delete_subnet, subnet, "subnet")
            except self.conflict:
                for router in net.routers():
                    self.log(f"removing subnet {subnet.id} from router {router.id}")
                    try:
                        net.remove_interface_from_router(router, subnet=subnet.id)
                        self.deleted["router_interface"] += 1
                    except Exception as exc:  # the script only prints this one
                        self.log(f"failed to remove subnet from router: {_first_line(exc)}")

    def security_groups(self) -> None:
        net = self.conn.network
        try:
            self.each_if_old(net.delete_security_group, net.security_groups(), "security_group")
        except self.conflict as exc:
            self.fallbacks.append(f"security groups: {_first_line(exc)}")
            self.each_if_old(net.delete_port, net.ports(), "port")
            self.each_if_old(net.delete_security_group, net.security_groups(), "security_group")

    def subnets(self) -> None:
        self.each_if_old(self.conn.network.delete_subnet, self.conn.network.subnets(), "subnet")

    def networks(self) -> None:
        net = self.conn.network
        self.each_if_old(net.delete_network, (n for n in net.networks() if not n.is_router_external), "network")

    def keypairs(self) -> None:
        compute = self.conn.compute
        for listed in compute.keypairs():
            self.delete_if_old(compute.delete_keypair, compute.get_keypair(listed.name), "keypair")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:200]


def run_once(target: Target) -> tuple[FixedOrderCleanup, str | None, float]:
    """One CI job: the script, its error (the job fails but is allowed to), and its wall seconds."""
    from bench.contenders.project_cleanup import sdk_connect

    started = time.perf_counter()
    target.log_path.parent.mkdir(parents=True, exist_ok=True)
    with target.log_path.open("a") as log:
        conn = sdk_connect(target)

        def say(line: str) -> None:
            log.write(line + "\n")

        script = FixedOrderCleanup(conn, datetime.now(UTC) - CUTOFF, log=say)
        error = None
        try:
            script.run()
        except Exception as exc:  # the CI job dies here (allow_failure: true)
            error = f"{type(exc).__name__} in step {STEPS[len(script.steps_done)]}: {_first_line(exc)}"
            log.write(f"aborted: {error}\n")
        finally:
            conn.close()
    return script, error, time.perf_counter() - started


def run(target: Target) -> Attempt:
    script, error, wall = run_once(target)
    return Attempt(phases={"run": round(wall, 4)}, error=error,
                   details={"deleted": dict(script.deleted), "fallbacks": script.fallbacks,
                            "steps_done": script.steps_done, "hours": CUTOFF / timedelta(hours=1)})


def run_until_stable(target: Target, max_runs: int = 5) -> Attempt:
    """The script again and again, as successive pipelines run it, until a run deletes nothing.

    The cloud finishes its asynchronous deletes between runs (pipelines are hours apart); only the runs count.
    """
    runs: list[dict[str, Any]] = []
    for _ in range(max_runs):
        script, error, wall = run_once(target)
        runs.append({"wall_s": round(wall, 4), "deleted": dict(script.deleted), "error": error})
        target.settle()
        if not script.deleted:
            break
    return Attempt(wall=sum(r["wall_s"] for r in runs),
                   phases={f"run_{i + 1}": r["wall_s"] for i, r in enumerate(runs)}, error=runs[-1]["error"],
                   details={"runs": runs, "hours": CUTOFF / timedelta(hours=1)})
