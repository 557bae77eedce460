"""The fixed-order baseline: Kubespray's CI cleanup selection, order and one-shot conflict fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from bench.contenders.baseline import STEPS, FixedOrderCleanup, created

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OLD = (NOW - timedelta(hours=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
YOUNG = (NOW - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")


class Conflict(Exception):
    """Stands in for openstacksdk's ConflictException."""


def item(name: str, created_at: str | None = OLD, **attrs: Any) -> SimpleNamespace:
    return SimpleNamespace(id=f"id-{name}", name=name, created_at=created_at, **attrs)


class FakeCloud:
    """Lists fixed items; records every call; ``refuse`` maps a call name to item names that answer 409."""

    def __init__(self, **kinds: list[SimpleNamespace]) -> None:
        self.kinds = kinds
        self.calls: list[tuple[str, str]] = []
        self.refuse: dict[str, set[str]] = {}
        self.compute = SimpleNamespace(servers=lambda: self._list("servers"),
                                       keypairs=lambda: [SimpleNamespace(name=k.name) for k in self.kinds["keypairs"]],
                                       get_keypair=self._get_keypair,
                                       delete_server=self._deleter("delete_server"),
                                       delete_keypair=self._deleter("delete_keypair"))
        self.network = SimpleNamespace(ports=lambda: self._list("ports"), ips=lambda: self._list("ips"),
                                       security_groups=lambda: self._list("security_groups"),
                                       subnets=lambda: self._list("subnets"), networks=lambda: self._list("networks"),
                                       routers=lambda: self._list("routers"),
                                       remove_interface_from_router=self._remove_interface)
        for name in ("delete_port", "delete_ip", "delete_security_group", "delete_subnet", "delete_network"):
            setattr(self.network, name, self._deleter(name))

    def _list(self, kind: str) -> list[SimpleNamespace]:
        self.calls.append(("list", kind))
        return list(self.kinds.get(kind, []))

    def _get_keypair(self, name: str) -> SimpleNamespace:
        self.calls.append(("get_keypair", name))
        return next(k for k in self.kinds["keypairs"] if k.name == name)

    def _deleter(self, call: str) -> Any:
        def delete(obj: SimpleNamespace) -> None:
            self.calls.append((call, obj.name))
            if obj.name in self.refuse.get(call, set()):
                raise Conflict(f"409 on {obj.name}")
        return delete

    def _remove_interface(self, router: SimpleNamespace, subnet: str) -> None:
        self.calls.append(("remove_interface_from_router", f"{router.name}/{subnet}"))
        self.refuse.get("delete_port", set()).discard("router-port")  # the interface port is gone now
        self.refuse.get("delete_subnet", set()).discard(subnet.removeprefix("id-"))  # and no longer holds the subnet

    def deletes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0].startswith(("delete_", "remove_"))]


def cloud(**overrides: list[SimpleNamespace]) -> FakeCloud:
    kinds = {
        "servers": [item("old-server"), item("young-server", YOUNG)],
        "ports": [item("old-port"), item("young-port", YOUNG)],
        "ips": [item("old-fip"), item("young-fip", YOUNG)],
        "security_groups": [item("default"), item("old-sg"), item("young-sg", YOUNG)],
        "subnets": [item("old-subnet"), item("young-subnet", YOUNG)],
        "networks": [item("public", is_router_external=True), item("old-net", is_router_external=False),
                     item("young-net", YOUNG, is_router_external=False)],
        "routers": [item("shared-router"), item("other-router")],
        "keypairs": [item("kubernetes-1", "2026-11-25T01:00:00.123456"), item("kubernetes-2", YOUNG)],
    }
    kinds.update(overrides)
    return FakeCloud(**kinds)


def script(fake: FakeCloud) -> FixedOrderCleanup:
    return FixedOrderCleanup(fake, NOW - timedelta(hours=4), conflict=Conflict)


def test_deletes_by_age_alone_one_kind_at_a_time_in_the_fixed_order() -> None:
    fake = cloud()
    run = script(fake)
    run.run()
    assert fake.deletes() == [("delete_server", "old-server"), ("delete_port", "old-port"),
                              ("delete_security_group", "old-sg"), ("delete_subnet", "old-subnet"),
                              ("delete_network", "old-net"), ("delete_keypair", "kubernetes-1")]
    assert run.steps_done == list(STEPS)


def test_never_deletes_the_default_group_or_an_external_network_even_when_old() -> None:
    fake = cloud()
    script(fake).run()
    names = {name for _, name in fake.deletes()}
    assert "default" not in names
    assert "public" not in names


def test_floating_ips_routers_and_young_resources_are_left_alone_without_a_conflict() -> None:
    fake = cloud()
    script(fake).run()
    touched = {name for _, name in fake.deletes()}
    assert not touched & {"old-fip", "shared-router", "other-router"}
    assert not any(name.startswith("young") for name in touched)


def test_keypairs_are_fetched_one_by_one_for_their_age() -> None:
    fake = cloud()
    script(fake).run()
    assert [c for c in fake.calls if c[0] == "get_keypair"] == [("get_keypair", "kubernetes-1"),
                                                               ("get_keypair", "kubernetes-2")]


def test_a_port_conflict_detaches_old_subnets_from_every_router_deletes_fips_then_retries_ports() -> None:
    fake = cloud(ports=[item("router-port"), item("old-port")])
    fake.refuse = {"delete_port": {"router-port"}, "delete_subnet": {"old-subnet"}}
    run = script(fake)
    run.run()
    ports_step = fake.deletes()[1:9]
    assert ports_step == [("delete_port", "router-port"),  # 409: the fallback starts
                          ("delete_subnet", "old-subnet"),  # 409 again: detach it from every router
                          ("remove_interface_from_router", "shared-router/id-old-subnet"),
                          ("remove_interface_from_router", "other-router/id-old-subnet"),
                          ("delete_ip", "old-fip"),
                          ("delete_port", "router-port"), ("delete_port", "old-port"),  # the one retry
                          ("delete_security_group", "old-sg")]
    assert len(run.fallbacks) == 1


def test_a_second_port_conflict_ends_the_run() -> None:
    fake = cloud(ports=[item("stuck-port")])
    fake.refuse = {"delete_port": {"stuck-port"}}
    run = script(fake)
    with pytest.raises(Conflict):
        run.run()
    assert run.steps_done == ["servers"]
    assert not any(c[0] == "delete_security_group" for c in fake.calls)


def test_a_security_group_conflict_deletes_old_ports_and_retries_groups_once() -> None:
    fake = cloud()
    fake.refuse = {"delete_security_group": {"old-sg"}}
    run = script(fake)
    with pytest.raises(Conflict):  # still refused on the retry: the run ends there
        run.run()
    assert [c for c in fake.deletes() if c[0] in ("delete_port", "delete_security_group")] == [
        ("delete_port", "old-port"), ("delete_security_group", "old-sg"),
        ("delete_port", "old-port"), ("delete_security_group", "old-sg")]
    assert run.steps_done == ["servers", "ports"]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25T09:42:01Z", datetime(2026, 11, 25, 9, 42, 1, tzinfo=UTC)),
    ("2026-11-25T09:42:01.411777", datetime(2026, 11, 25, 9, 42, 1, 411777, tzinfo=UTC)),
    ("2026-11-25T09:42:01+00:00", datetime(2026, 11, 25, 9, 42, 1, tzinfo=UTC)),
])
def test_api_timestamps_are_read_as_utc(text: str, expected: datetime) -> None:
    assert created(SimpleNamespace(created_at=text)) == expected


def test_an_item_without_a_creation_time_ends_the_run_as_the_real_script_does() -> None:
    """The script parses ``created_at`` with ``strptime``: a missing one raises TypeError instead of being skipped."""
    with pytest.raises(TypeError):
        script(cloud()).is_old(item("no-date", None))
