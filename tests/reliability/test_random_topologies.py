"""Random CI projects (hypothesis): the plan keeps what is kept, removes what dangles, in an enforced order.

Most examples are planned in process (``topologies.plan_world``: the store is listed through the
simulator's WSGI app without HTTP); a subset runs the real CLI over HTTP and checks the cloud after.
The truth (``world.Truth``) comes from the records the simulator holds, not from the planner.
"""

from __future__ import annotations

import io
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import example, given, settings

from kubespray_cleanup.errors import ExitCode
from kubespray_cleanup.planner import ACTIONS
from kubespray_cleanup.simulator.scenarios.kubespray import write_states
from kubespray_cleanup.sources.inventory import list_inventory
from tests.reliability.checks import Expectation
from tests.reliability.conftest import FAST, PROFILE, WorldStage, scaled
from tests.reliability.inproc import InProcessCloud
from tests.reliability.topologies import plan_world, topologies
from tests.reliability.world import base_document, build_world

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # openstacksdk's own


def _cluster(job: int, fate: str, **options: Any) -> dict[str, Any]:
    age = {"age_minutes": 30} if fate == "live" else {"age_hours": 6 + job % 5}
    if "age_minutes" in options or "age_hours" in options:
        age = {}
    return {"job": job, "project": options.pop("project", "elastx"), "fate": fate, **age, **options}


# Hand-written topologies every run includes: the cross-pipeline cases the issue names.
CROSS = base_document(
    clusters=[_cluster(7101, "live", nodes=2, volumes_per_node=1, occm_lb=True),
              _cluster(7102, "dead", nodes=2, volumes_per_node=1, load_balancer=True, masters_with_fip=False,
                       server_group=True),
              _cluster(7103, "lost", router="own", occm_lb=True, extra_leaked_fips=1),
              _cluster(7104, "partial", nodes=2, bastions=1),
              _cluster(7105, "dead", project="other")],
    links={"sg_refs": [{"from": ["7101", "k8s"], "to": ["7102", "k8s"]},  # live -> leaked: 7102-k8s stays
                       {"from": ["7102", "k8s-worker"], "to": ["7101", "k8s-master"]},  # leaked -> live
                       {"from": ["7103", "k8s"], "to": ["7104", "k8s-worker"]}],  # leaked -> leaked
           "volumes": [{"owner": "7102", "server_of": "7101"},  # a leaked volume on a live server: kept
                       {"owner": "7101", "server_of": "7103"}],  # a live volume on a leaked server: detached
           "ports": [{"owner": "7104", "network_of": "7104"}, {"owner": "7103", "network_of": "7101"},
                     {"owner": "7101", "network_of": "7102"}],
           "state_drops": [{"job": "7102", "every": 3, "offset": 1}]},
    leaked_fips=[{"project": "elastx", "age_days": 4}])
PROTECTED = base_document(
    clusters=[_cluster(7201, "dead", nodes=2, volumes_per_node=1), _cluster(7202, "live"),
              _cluster(7203, "partial", load_balancer=True)],
    protected_names=["7201-k8s-node-1"])
ONLY_LIVE = base_document(clusters=[_cluster(7301, "live"), _cluster(7302, "lost", age_minutes=40)])
MUTUAL_IN_PIPELINE = base_document(
    clusters=[_cluster(7401, "dead"), _cluster(7402, "live")],
    links={"sg_refs": [{"from": ["7401", "k8s-master"], "to": ["7401", "k8s-worker"]},
                       {"from": ["7401", "k8s-worker"], "to": ["7401", "k8s-master"]}]})


def _features(document: dict[str, Any]) -> set[str]:
    """What a generated document exercises (counted over the run, asserted to be well covered)."""
    fates = {str(c["job"]): c["fate"] if c["fate"] != "lost" or c.get("age_hours") or c.get("age_minutes", 0) > 130
             else "young" for c in document["clusters"]}
    links = {key: document.get("links", {}).get(key) or [] for key in ("sg_refs", "volumes", "ports", "state_drops")}
    found = {f"fate_{f}" for f in fates.values()}
    found |= {"project_other"} if any(c["project"] == "other" for c in document["clusters"]) else set()
    found |= {"protected"} if document.get("protected_names") else set()
    found |= {"sg_ref_live_to_leaked" for r in links["sg_refs"]
              if fates[r["from"][0]] in ("live", "young") and fates[r["to"][0]] not in ("live", "young")}
    found |= {"volume_across" for _ in links["volumes"]} | {"state_drop" for _ in links["state_drops"]}
    found |= {"port_across" for p in links["ports"] if p["owner"] != p["network_of"]}
    found |= {"load_balancer"} if any(c.get("load_balancer") or c.get("occm_lb") for c in document["clusters"]) \
        else set()
    found |= {"module_maps" for c in document["clusters"] if c.get("node_map")}
    found |= {"module_numbered" for c in document["clusters"] if c.get("gfs_nodes") or c.get("etcd")}
    found |= {"network_internal" for c in document["clusters"] if c.get("network_name") == "internal"}
    return found


def _check_plan(document: dict[str, Any]) -> None:
    world = build_world(document)
    truth = world.truth()
    plan = plan_world(world)
    order = plan.order()
    assert all(plan.entries[k].decision in ACTIONS for k in order)
    scheduled = {k.replace("floating_ip_association:", "floating_ip:") for k in order}
    wrongly = sorted(k for k in order if k.startswith("floating_ip_association:") is False
                     and (k not in truth.nodes or k in truth.kept))
    assert not wrongly, f"kept resources scheduled: {wrongly}"
    detached = [k for k in order if k.startswith("floating_ip_association:")]
    assert all(k.replace("floating_ip_association:", "floating_ip:") in truth.kept for k in detached)
    missing = sorted(f"{k} ({plan.entries[k].decision}: {plan.entries[k].reason})" if k in plan.entries else k
                     for k in truth.dangling - scheduled)
    assert not missing, f"dangling resources not scheduled: {missing}"
    assert truth.order_violations(order) == []


def test_random_topology_plans_remove_dangling_keep_kept_in_enforced_order(record_figures: Any) -> None:
    """Plan: every dangling resource scheduled, nothing kept (or depended on) scheduled, order topological."""
    runs: list[float] = []
    features: Counter[str] = Counter()

    @settings(settings.get_profile(PROFILE))
    @given(document=topologies())
    @example(document=CROSS)
    @example(document=PROTECTED)
    @example(document=ONLY_LIVE)
    def check(document: dict[str, Any]) -> None:
        started = time.perf_counter()
        _check_plan(document)
        runs.append(time.perf_counter() - started)
        features.update(_features(document))

    started = time.perf_counter()
    check()
    record_figures(plan_examples=len(runs), seconds=round(time.perf_counter() - started, 1), profile=PROFILE,
                   examples_with=dict(sorted(features.items())))
    assert len(runs) >= settings.get_profile(PROFILE).max_examples
    assert all(features[f] >= 10 for f in ("sg_ref_live_to_leaked", "volume_across", "port_across", "protected",
                                           "project_other", "fate_lost", "fate_partial", "state_drop", "module_maps",
                                           "module_numbered", "network_internal")), features


def test_random_topologies_clean_over_http_with_zero_conflicts(record_figures: Any) -> None:
    """The real CLI over HTTP: exit 0 (2 when nothing dangles), no 409, no leftover, nothing kept touched."""
    runs: list[float] = []
    wanted = scaled(20, 100)

    @settings(settings.get_profile(PROFILE), max_examples=wanted)
    @given(document=topologies(max_clusters=4))
    @example(document=CROSS)
    @example(document=PROTECTED)
    @example(document=ONLY_LIVE)
    def check(document: dict[str, Any]) -> None:
        started = time.perf_counter()
        _check_http_run(document)
        runs.append(time.perf_counter() - started)

    started = time.perf_counter()
    check()
    record_figures(http_examples=len(runs), seconds=round(time.perf_counter() - started, 1), profile=PROFILE)
    assert len(runs) >= wanted


def _check_http_run(document: dict[str, Any]) -> None:
    log = io.StringIO()
    world = build_world(document)
    expect = Expectation.of(world)
    sim = world.serve(latency="fast", time_scale=400.0, request_log=log)
    try:
        with tempfile.TemporaryDirectory(prefix="topology-") as tmp:
            stage = WorldStage(world, sim, sim.write_clouds_yaml(Path(tmp) / "clouds.yaml"), Path(tmp) / "states",
                               Path(tmp))
            write_states(world.scenario, stage.states)
            args = ["--project", "elastx", *FAST]
            if world.scenario.states:
                args += ["--state", str(stage.states)]
            if world.protected_names:
                config = Path(tmp) / "tf-cleanup.yaml"
                config.write_text(yaml.safe_dump({"profiles": {"elastx": {
                    "protected_names": list(world.protected_names)}}}))
                args += ["--config", str(config)]
            result = stage.run(*args)
    finally:
        sim.stop()
    wanted = {ExitCode.CLEAN}
    assert result.exit_code in wanted, result.output[-3000:]
    assert "Traceback" not in result.output
    assert stage.conflicts() == 0
    assert expect.leftovers() == []
    assert expect.touched() == []
    assert expect.foreign_writes(log.getvalue()) == []


def test_mutually_referencing_security_groups_do_not_stop_the_plan() -> None:
    """Two leaked groups with rules pointing at each other (a cycle of ordering-only edges): both are deleted."""
    _check_plan(MUTUAL_IN_PIPELINE)


@pytest.mark.parametrize("live_first", [True, False], ids=["live-group-listed-first", "leaked-group-listed-first"])
def test_leaked_group_referenced_by_a_live_group_in_a_cycle_is_kept(live_first: bool) -> None:
    """A live and a leaked group referencing each other: the leaked one is kept (the live rule needs it)."""
    from datetime import timedelta

    from kubespray_cleanup.config import get_profile
    from kubespray_cleanup.model import Kind, Resource
    from kubespray_cleanup.planner import Options, make_plan, now_utc

    now, profile = now_utc(), get_profile("elastx")

    def group(rid: str, name: str, remote: str) -> Resource:
        return Resource(Kind.SECURITY_GROUP, rid, name, "p1", now - timedelta(days=1),
                        {"id": rid, "name": name, "security_group_rules": [{"remote_group_id": remote}]})

    live, leaked = group("aaaa", "7502-k8s", "bbbb"), group("bbbb", "7501-k8s", "aaaa")
    listed = [live, leaked] if live_first else [leaked, live]
    plan = make_plan(listed, [], profile, "p1", Options(now, profile.min_age, profile.state_max_age,
                                                         frozenset({"7502"})))
    assert plan.entries[live.key].decision == "keep"
    assert plan.order() == [], {k: (e.decision, e.reason) for k, e in plan.entries.items()}


def test_mutually_referencing_security_groups_are_cleaned_end_to_end() -> None:
    """The same over HTTP: exit 0, the leaked pipeline with its two groups gone, the live one untouched."""
    _check_http_run(MUTUAL_IN_PIPELINE)


def test_protected_server_keeps_only_its_own_port() -> None:
    """Protecting node-1 of a dead two-node pipeline keeps node-1 and what it uses; node-2's port and FIP go."""
    document = base_document(clusters=[_cluster(7601, "dead", nodes=2, volumes_per_node=1)],
                             protected_names=["7601-k8s-node-1"])
    world = build_world(document)
    truth, plan = world.truth(), plan_world(world)
    order = set(plan.order())
    left = {k: plan.entries[k].reason for k in truth.dangling - order}
    assert left == {}
    by_name = {(e.resource.kind.value, e.resource.name): e for e in plan.entries.values()}
    server, port = by_name[("server", "7601-k8s-node-1")], by_name[("port", "7601-k8s-node-1")]
    volume, network = by_name[("volume", "7601-k8s-node-1-volume")], by_name[("network", "ci-7601")]
    assert {server.resource.key, port.resource.key, volume.resource.key, network.resource.key} <= truth.kept
    assert not any(e.resource.key in order for e in (server, port, volume, network))
    assert order.isdisjoint(truth.kept)
    other = by_name[("port", "7601-k8s-node-2")]
    assert other.resource.key in order and by_name[("server", "7601-k8s-node-2")].resource.key in order


def test_in_process_listing_matches_openstacksdk_over_http(world_stage: Any) -> None:
    """The in-process listing the plan tests use yields exactly the Resources a real connection lists."""
    st = world_stage(CROSS)
    conn = st.sim.connect("elastx")
    real = list_inventory(conn)
    mine = list_inventory(InProcessCloud(st.sim.simulator, "elastx", base_url=st.sim.url + "/"), parallel=1)

    def rows(inventory: Any) -> list[tuple[Any, ...]]:
        return sorted((r.kind.value, r.id, r.name, r.project_id, r.created_at, repr(sorted(r.attrs.items())))
                      for r in inventory.resources)

    assert mine.project_id == real.project_id
    assert rows(mine) == rows(real)
