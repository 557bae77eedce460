"""The parallel walk with an injected clock: retries, 404s, refusals, waits, timeouts and skipped dependents.

The cloud here is a small in-memory stand-in that answers the kinds' plain requests (see
tests/stand_in_transport.py);
end-to-end behaviour against real openstacksdk is covered by tests/e2e.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from openstack import exceptions

from kubespray_cleanup.clock import FakeClock
from kubespray_cleanup.config import get_profile
from kubespray_cleanup.executor import DONE, FAILED, SKIPPED, Executor, ExecutorOptions
from kubespray_cleanup.model import Kind, Resource
from kubespray_cleanup.planner import Options, Plan, make_plan
from kubespray_cleanup.synthetic import PROJECT, cluster, shared
from tests.stand_in_transport import plug, proxy_methods

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def http_error(status: int, retry_after: str | None = None) -> exceptions.HttpException:
    response = requests.Response()
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    cls = {404: exceptions.NotFoundException, 409: exceptions.ConflictException}.get(status,
                                                                                    exceptions.HttpException)
    return cls(message=f"status {status}", response=response)


class _Obj:
    def __init__(self, attrs: dict[str, Any]) -> None:
        self.attrs = attrs
        self.id = attrs["id"]

    def to_dict(self, **_: Any) -> dict[str, Any]:
        return dict(self.attrs)


class FakeCloud:
    """Objects by kind; deletes remove them (servers after ``server_polls`` listings); scripted failures."""

    def __init__(self, resources: list[Resource], server_polls: int = 1) -> None:
        self.objects: dict[tuple[Kind, str], dict[str, Any]] = {(r.kind, r.id): dict(r.attrs) for r in resources}
        self.failures: dict[str, list[BaseException]] = {}
        self.deleting: dict[str, int] = {}
        self.server_polls = server_polls
        self.admin = False
        self.error_deleting: set[str] = set()  # ids whose (non-forced) delete ends in error_deleting
        self.calls: list[str] = []
        self.lock = threading.Lock()
        self.network = self.compute = self.block_storage = self.load_balancer = self
        plug(self, proxy_methods(self))

    def _admin_only(self, call: str) -> None:
        with self.lock:
            self.calls.append(call)
            if not self.admin:
                raise http_error(403)

    def _forced(self, kind: Kind, rid: str) -> None:
        self._admin_only(f"force-delete {kind.value} {rid}")
        with self.lock:
            self.deleting.pop(rid, None)
            self.objects.pop((kind, rid), None)

    def fail(self, rid: str, *errors: BaseException) -> None:
        self.failures[rid] = list(errors)

    def _delete(self, kind: Kind, rid: str) -> None:
        with self.lock:
            self.calls.append(f"delete {kind.value} {rid}")
            pending = self.failures.get(rid)
            if pending:
                raise pending.pop(0)
            if rid in self.error_deleting:
                self.objects[(kind, rid)]["status"] = "error_deleting"
                return
            if kind is Kind.SERVER:
                self.deleting[rid] = self.server_polls
            else:
                self.objects.pop((kind, rid), None)

    def _list(self, kind: Kind) -> list[_Obj]:
        with self.lock:
            self.calls.append(f"list {kind.value}")
            if kind is Kind.SERVER:
                for rid in list(self.deleting):
                    self.deleting[rid] -= 1
                    if self.deleting[rid] < 0:
                        self.objects.pop((kind, rid), None)
                        del self.deleting[rid]
            return [_Obj(a) for (k, _), a in self.objects.items() if k is kind]

    # openstacksdk proxy surface used by the kinds
    def delete_server(self, rid: str, force: bool = False, **_: Any) -> None:
        if force:
            self._forced(Kind.SERVER, rid)
        else:
            self._delete(Kind.SERVER, rid)
    def delete_port(self, rid: str, **_: Any) -> None: self._delete(Kind.PORT, rid)
    def delete_ip(self, rid: str, **_: Any) -> None: self._delete(Kind.FLOATING_IP, rid)
    def delete_subnet(self, rid: str, **_: Any) -> None: self._delete(Kind.SUBNET, rid)
    def delete_network(self, rid: str, **_: Any) -> None: self._delete(Kind.NETWORK, rid)
    def delete_security_group(self, rid: str, **_: Any) -> None: self._delete(Kind.SECURITY_GROUP, rid)
    def delete_keypair(self, rid: str, **_: Any) -> None: self._delete(Kind.KEYPAIR, rid)
    def delete_volume(self, rid: str, force: bool = False, **_: Any) -> None:
        if force:
            self._forced(Kind.VOLUME, rid)
        else:
            self._delete(Kind.VOLUME, rid)

    def reset_volume_status(self, rid: str, **_: Any) -> None:
        self._admin_only(f"reset volume {rid}")
    def remove_interface_from_router(self, router: str, subnet: str) -> None:
        port = next(rid for (k, rid), a in self.objects.items() if k is Kind.ROUTER_INTERFACE
                    and subnet in a.get("subnet_ids", ()))
        self._delete(Kind.ROUTER_INTERFACE, port)
    def get(self, path: str, **_: Any) -> requests.Response:
        """List calls as the kinds make them (GET on the collection path), answered with JSON."""
        kinds = {"/servers/detail": ("servers", [Kind.SERVER]), "/volumes/detail": ("volumes", [Kind.VOLUME]),
                 "/subnets": ("subnets", [Kind.SUBNET]), "/lbaas/loadbalancers": ("loadbalancers",
                                                                                   [Kind.LOAD_BALANCER]),
                 "/ports": ("ports", [Kind.PORT, Kind.ROUTER_INTERFACE]),
                 "/floatingips": ("floatingips", [Kind.FLOATING_IP]),
                 "/security-groups": ("security_groups", [Kind.SECURITY_GROUP])}
        collection, listed = kinds[path.split("?", 1)[0]]  # filters narrow a listing; ids decide anyway
        response = requests.Response()
        response.status_code = 200
        rows = [o.to_dict() for kind in listed for o in self._list(kind)]
        response._content = json.dumps({collection: rows}).encode()
        return response
    def delete_load_balancer(self, rid: str, **_: Any) -> None: self._delete(Kind.LOAD_BALANCER, rid)
    def delete(self, path: str, **_: Any) -> requests.Response:
        """Deletes as the kinds make them (DELETE on the object's path); scripted failures raise."""
        collection, rid = path.split("?", 1)[0].rsplit("/", 1)
        kinds = {"/ports": Kind.PORT, "/floatingips": Kind.FLOATING_IP, "/subnets": Kind.SUBNET,
                 "/networks": Kind.NETWORK, "/security-groups": Kind.SECURITY_GROUP, "/os-keypairs": Kind.KEYPAIR,
                 "/servers": Kind.SERVER, "/volumes": Kind.VOLUME, "/lbaas/loadbalancers": Kind.LOAD_BALANCER}
        if kinds[collection] is Kind.VOLUME:
            self.delete_volume(rid)
        else:
            self._delete(kinds[collection], rid)
        response = requests.Response()
        response.status_code = 204
        return response
    def request(self, path: str, method: str, json: dict[str, Any] | None = None, **_: Any) -> requests.Response:
        """``PUT /routers/<id>/remove_router_interface`` as the router-interface kind sends it."""
        assert method == "PUT" and path.endswith("/remove_router_interface") and json is not None
        self.remove_interface_from_router(path.split("/")[2], subnet=json["subnet_id"])
        response = requests.Response()
        response.status_code = 200
        return response


def leaked_plan(**cluster_kw: Any) -> tuple[Plan, list[Resource]]:
    resources = shared(NOW) + cluster("4711", NOW - timedelta(hours=6), **cluster_kw)
    options = Options(NOW, timedelta(hours=2), timedelta(hours=3))
    return make_plan(resources, [], get_profile("elastx"), PROJECT, options), resources


def run(plan: Plan, cloud: FakeCloud, clock: FakeClock, **opts: Any) -> Any:
    options = ExecutorOptions(**{"poll_interval": 1.0, "retry_base": 0.5, **opts})
    return Executor(cloud, plan, options, clock=clock).run()


def _id(plan: Plan, kind: Kind, name: str = "") -> str:
    return next(e.resource.id for e in plan.entries.values()
                if e.resource.kind is kind and (not name or e.resource.name == name))


def test_leaked_cluster_is_deleted_in_dependency_order() -> None:
    """Every action completes, and no delete is issued before its predecessors are gone."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources)
    result = run(plan, cloud, FakeClock())
    assert result.clean and len(result.outcomes) == len(plan.order())
    deletes = [c.split(" ", 2)[2] for c in cloud.calls if c.startswith("delete")]
    position = {rid: i for i, rid in enumerate(deletes)}
    for before, after in plan.action_graph().edges:
        assert position[plan.entries[before].resource.id] < position[plan.entries[after].resource.id]


def test_transient_503_is_retried_with_backoff_without_real_sleep() -> None:
    """Two 503s on a port delete: retried with growing injected sleeps, then done."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources)
    port = _id(plan, Kind.PORT, "4711-k8s-node-1")
    cloud.fail(port, http_error(503), http_error(503))
    clock = FakeClock()
    result = run(plan, cloud, clock)
    assert result.clean
    assert result.outcomes[f"port:{port}"].status == DONE
    assert [s for s in clock.slept if s >= 0.5][:2] == sorted([s for s in clock.slept if s >= 0.5][:2])
    assert cloud.calls.count(f"delete port {port}") == 3


def test_429_waits_as_long_as_retry_after_says() -> None:
    """A 429 with Retry-After: 7 sleeps exactly 7 s (on the injected clock) before the next try."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources)
    sg = _id(plan, Kind.SECURITY_GROUP, "4711-bastion")
    cloud.fail(sg, http_error(429, retry_after="7"))
    clock = FakeClock()
    assert run(plan, cloud, clock).clean
    assert 7.0 in clock.slept


def test_404_on_delete_counts_as_done() -> None:
    """A resource that vanished meanwhile is done, and its dependents proceed."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources)
    keypair = _id(plan, Kind.KEYPAIR)
    cloud.fail(keypair, http_error(404))
    result = run(plan, cloud, FakeClock())
    assert result.clean
    assert "404" in result.outcomes[f"keypair:{keypair}"].message


def test_failed_node_skips_its_dependents_and_is_the_only_root_cause() -> None:
    """A 403 on the subnet: the network is skipped; the summary's root cause is the subnet alone."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources)
    subnet = _id(plan, Kind.SUBNET)
    cloud.fail(subnet, http_error(403))
    result = run(plan, cloud, FakeClock())
    network = "network:" + _id(plan, Kind.NETWORK, "ci-4711")
    assert result.outcomes[network].status == SKIPPED
    assert result.outcomes[network].cause == f"subnet:{subnet}"
    assert [o.key for o in result.root_causes] == [f"subnet:{subnet}"]
    assert not result.clean


def test_conflict_names_a_blocker_that_is_not_in_the_plan() -> None:
    """A 409 on the network: the re-list finds a port created after planning; the network fails naming it."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources)
    network = _id(plan, Kind.NETWORK, "ci-4711")
    intruder = {"id": "intruder", "name": "someone-else", "network_id": network, "device_owner": "",
                "fixed_ips": [], "security_groups": []}
    cloud.objects[(Kind.PORT, "intruder")] = intruder
    cloud.fail(network, http_error(409))
    result = run(plan, cloud, FakeClock())
    outcome = result.outcomes[f"network:{network}"]
    assert outcome.status == FAILED
    assert "someone-else" in outcome.message and "not in the plan" in outcome.message


def test_conflict_without_visible_blocker_is_retried_then_succeeds() -> None:
    """A 409 with nothing blocking in the listings (e.g. Nova lag) is retried after a backoff."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources)
    sg = _id(plan, Kind.SECURITY_GROUP, "4711-k8s")
    cloud.fail(sg, http_error(409))
    clock = FakeClock()
    result = run(plan, cloud, clock)
    assert result.clean
    assert result.outcomes[f"security_group:{sg}"].attempts == 2


def test_conflict_retries_are_bounded() -> None:
    """A refusal that never clears fails after conflict_retries attempts instead of looping."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources)
    sg = _id(plan, Kind.SECURITY_GROUP, "4711-k8s")
    cloud.fail(sg, *[http_error(409) for _ in range(10)])
    result = run(plan, cloud, FakeClock(), conflict_retries=3)
    outcome = result.outcomes[f"security_group:{sg}"]
    assert outcome.status == FAILED and outcome.attempts == 3


def test_server_delete_waits_until_the_listing_no_longer_shows_it() -> None:
    """Ports of a server are deleted only after the server disappeared from a servers listing."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources, server_polls=3)
    result = run(plan, cloud, FakeClock())
    assert result.clean
    server = _id(plan, Kind.SERVER, "4711-k8s-node-1")
    port = _id(plan, Kind.PORT, "4711-k8s-node-1")
    gone_at = max(i for i, c in enumerate(cloud.calls) if c == "list server")
    assert cloud.calls.index(f"delete port {port}") > gone_at
    assert cloud.calls.index(f"delete server {server}") < gone_at


def test_server_that_never_goes_away_times_out_and_skips_its_ports() -> None:
    """A delete that never completes fails after resource_timeout; its ports are skipped, not attempted."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources, server_polls=10**9)
    result = run(plan, cloud, FakeClock(), resource_timeout=30.0)
    server = _id(plan, Kind.SERVER, "4711-k8s-node-1")
    assert result.outcomes[f"server:{server}"].status == FAILED
    assert "30s after delete" in result.outcomes[f"server:{server}"].message
    port = _id(plan, Kind.PORT, "4711-k8s-node-1")
    assert result.outcomes[f"port:{port}"].status == SKIPPED
    assert not any(c == f"delete port {port}" for c in cloud.calls)


def test_volume_stuck_in_error_deleting_is_reported_as_stuck() -> None:
    """A volume that turns error_deleting after delete fails with that status named."""
    plan, resources = leaked_plan(volumes=1)
    cloud = FakeCloud(resources)
    volume = _id(plan, Kind.VOLUME)
    cloud.error_deleting.add(volume)
    result = run(plan, cloud, FakeClock())
    assert result.outcomes[f"volume:{volume}"].status == FAILED
    assert "error_deleting" in result.outcomes[f"volume:{volume}"].message


def test_stop_interrupts_remaining_work() -> None:
    """stop() before the walk: nothing is attempted and every action is 'interrupted'."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources)
    executor = Executor(cloud, plan, ExecutorOptions(), clock=FakeClock())
    executor.stop()
    result = executor.run()
    assert result.interrupted
    assert {o.status for o in result.outcomes.values()} == {"interrupted"}
    assert not [c for c in cloud.calls if c.startswith("delete")]


def test_stuck_server_is_force_deleted_when_the_credentials_allow() -> None:
    """A server delete that never finishes is force-deleted (admin) and its ports then proceed."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources, server_polls=10**9)
    cloud.admin = True
    result = run(plan, cloud, FakeClock(), resource_timeout=30.0)
    assert result.clean
    server = _id(plan, Kind.SERVER, "4711-k8s-node-1")
    assert f"force-delete server {server}" in cloud.calls


def test_stuck_server_without_admin_is_reported_with_what_was_tried() -> None:
    """Without admin rights the force delete is refused; the summary says what was tried and why it failed."""
    plan, resources = leaked_plan()
    cloud = FakeCloud(resources, server_polls=10**9)
    result = run(plan, cloud, FakeClock(), resource_timeout=30.0)
    server = _id(plan, Kind.SERVER, "4711-k8s-node-1")
    message = result.outcomes[f"server:{server}"].message
    assert "tried: delete" in message and "refused: 403" in message


def test_volume_in_error_deleting_is_reset_and_force_deleted_by_admin() -> None:
    """error_deleting: reset the status, force delete, and the volume is gone."""
    plan, resources = leaked_plan(volumes=1)
    cloud = FakeCloud(resources)
    cloud.admin = True
    volume = _id(plan, Kind.VOLUME)
    cloud.error_deleting.add(volume)
    result = run(plan, cloud, FakeClock())
    assert result.outcomes[f"volume:{volume}"].status == DONE
    assert cloud.calls.index(f"reset volume {volume}") < cloud.calls.index(f"force-delete volume {volume}")


def test_load_balancer_pending_update_is_waited_for_then_deleted() -> None:
    """409 'Invalid state PENDING_UPDATE' is not a blocker to name: the delete is retried until it goes through."""
    lb = Resource(Kind.LOAD_BALANCER, "lb1", "4711-api-loadbalancer", PROJECT, NOW - timedelta(hours=6),
                  {"id": "lb1", "name": "4711-api-loadbalancer", "provisioning_status": "ACTIVE"})
    resources = shared(NOW) + [lb]
    plan = make_plan(resources, [], get_profile("elastx"), PROJECT, Options(NOW, timedelta(hours=2),
                                                                            timedelta(hours=3)))
    cloud = FakeCloud(resources)
    pending = exceptions.ConflictException(message="Invalid state PENDING_UPDATE of loadbalancer resource lb1",
                                           response=http_error(409).response)
    cloud.fail("lb1", pending, pending, pending)
    result = run(plan, cloud, FakeClock(), resource_timeout=600.0)
    assert result.outcomes["load_balancer:lb1"].status == DONE
    assert result.outcomes["load_balancer:lb1"].attempts == 4


def test_load_balancer_stuck_pending_is_reported_after_the_resource_timeout() -> None:
    """An LB that stays PENDING_UPDATE is waited on by listing (no repeated 409s), then reported as stuck."""
    lb = Resource(Kind.LOAD_BALANCER, "lb1", "4711-api-loadbalancer", PROJECT, NOW - timedelta(hours=6),
                  {"id": "lb1", "name": "4711-api-loadbalancer"})
    resources = shared(NOW) + [lb]
    plan = make_plan(resources, [], get_profile("elastx"), PROJECT, Options(NOW, timedelta(hours=2),
                                                                            timedelta(hours=3)))
    cloud = FakeCloud(resources)
    pending = exceptions.ConflictException(message="Invalid state PENDING_UPDATE of loadbalancer resource lb1",
                                           response=http_error(409).response)
    cloud.fail("lb1", pending)
    cloud.objects[(Kind.LOAD_BALANCER, "lb1")]["provisioning_status"] = "PENDING_UPDATE"
    result = run(plan, cloud, FakeClock(), resource_timeout=20.0)
    outcome = result.outcomes["load_balancer:lb1"]
    assert outcome.status == FAILED and "PENDING_UPDATE" in outcome.message
    assert cloud.calls.count("delete load_balancer lb1") == 1


def test_server_already_deleting_is_only_waited_for() -> None:
    """A server an earlier run already deleted (task_state deleting) gets no second DELETE; its ports follow."""
    plan, resources = leaked_plan()
    server = _id(plan, Kind.SERVER, "4711-k8s-node-1")
    key = f"server:{server}"
    entry = plan.entries[key]
    entry.resource = Resource(entry.resource.kind, entry.resource.id, entry.resource.name, entry.resource.project_id,
                              entry.resource.created_at, {**entry.resource.attrs, "OS-EXT-STS:task_state": "deleting"})
    cloud = FakeCloud(resources)
    cloud.deleting[server] = 1
    result = run(plan, cloud, FakeClock())
    assert result.clean
    assert f"delete server {server}" not in cloud.calls


def test_load_balancer_listed_pending_create_is_deleted_once_active() -> None:
    """A busy LB is not sent a DELETE (which would be a 409) until a listing shows it ACTIVE."""
    lb = Resource(Kind.LOAD_BALANCER, "lb1", "4711-api-loadbalancer", PROJECT, NOW - timedelta(hours=6),
                  {"id": "lb1", "name": "4711-api-loadbalancer", "status": "PENDING_CREATE"})
    resources = shared(NOW) + [lb]
    plan = make_plan(resources, [], get_profile("elastx"), PROJECT, Options(NOW, timedelta(hours=2),
                                                                            timedelta(hours=3)))
    cloud = FakeCloud(resources)
    cloud.objects[(Kind.LOAD_BALANCER, "lb1")]["provisioning_status"] = "PENDING_CREATE"
    original = cloud._list

    def settle(kind: Kind) -> list[_Obj]:
        listed = original(kind)
        if kind is Kind.LOAD_BALANCER and cloud.calls.count("list load_balancer") >= 3:
            for obj in listed:
                obj.attrs["provisioning_status"] = cloud.objects[(kind, obj.id)]["provisioning_status"] = "ACTIVE"
        return listed

    cloud._list = settle  # type: ignore[method-assign]
    result = run(plan, cloud, FakeClock())
    assert result.outcomes["load_balancer:lb1"].status == DONE
    first_delete = cloud.calls.index("delete load_balancer lb1")
    assert cloud.calls[:first_delete].count("list load_balancer") >= 3
