"""Hypothesis strategy for whole CI projects, and the plan a cleanup of one would make (no HTTP).

A generated document holds 2-5 elastx pipelines (live, young without state, dead, lost, partial)
with random Kubespray options drawn from the whole module (every host kind, map-keyed hosts, extra
security groups, server groups, boot, GlusterFS and CSI volumes, networks named ``internal``), maybe
a pipeline in project ``other``, floating IPs leaked long ago,
and ``links:`` between pipelines: security-group rules whose remote group is another pipeline's
group (live -> leaked included), volumes attached to another pipeline's server, pre-created ports
without a server (also on another pipeline's network), and state entries dropped from a state.
Rules only point from a lower to a higher rank of a drawn order of all groups, so they never form a cycle;
``test_random_topologies.py`` covers the cyclic case on its own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from kubespray_cleanup.config import Profile, get_profile
from kubespray_cleanup.planner import Options, Plan, make_plan, now_utc
from kubespray_cleanup.simulator.app import Simulator
from kubespray_cleanup.sources.inventory import list_inventory
from tests.reliability.inproc import InProcessCloud
from tests.reliability.world import World, base_document

GROUPS = ("k8s", "k8s-master", "k8s-worker", "bastion")
FATES = ("live", "live", "young", "dead", "lost", "partial")


@st.composite
def clusters(draw: st.DrawFn, job: int, project: str, fates: tuple[str, ...] = FATES) -> dict[str, Any]:
    fate = draw(st.sampled_from(fates))
    entry: dict[str, Any] = {"job": job, "project": project}
    if fate == "live":
        entry.update(fate="live", age_minutes=draw(st.integers(5, 600)))
    elif fate == "young":  # a runner that has not written its state yet: kept by min-age
        entry.update(fate="lost", age_minutes=draw(st.integers(5, 100)))
    else:
        entry.update(fate=fate, age_minutes=draw(st.integers(240 if fate != "lost" else 200, 72 * 60)))
    entry["masters"] = draw(st.integers(0, 2))
    entry["nodes"] = draw(st.integers(0 if entry["masters"] else 1, 2))
    entry.update(masters_with_fip=draw(st.booleans()), volumes_per_node=draw(st.integers(0, 2)),
                 load_balancer=draw(st.booleans()), occm_lb=draw(st.booleans()), server_group=draw(st.booleans()),
                 bastions=draw(st.integers(0, 1)), router=draw(st.sampled_from([None, None, "own"])))
    entry.update(draw(module_variants()))
    if fate in ("dead", "lost", "partial"):
        extra = draw(st.integers(0, 1))
        if extra:
            entry["extra_leaked_fips"] = extra
    return entry


@st.composite
def module_variants(draw: st.DrawFn) -> dict[str, Any]:
    """The rest of Kubespray's module: other host kinds, map-keyed hosts (which replace the numbered ones, as in
    the module), extra security groups, boot volumes, GlusterFS and CSI volumes, networks named ``internal``."""
    kind = draw(st.sampled_from(["elastx", "elastx", "numbered", "maps"]))
    if kind == "elastx":
        return {}
    found: dict[str, Any] = {
        "extra_sec_groups": draw(st.sampled_from([None, "custom", "gpu-rules"])),
        "root_volume_size": draw(st.sampled_from([0, 10])), "csi_volumes": draw(st.integers(0, 1)),
        "network_name": draw(st.sampled_from([None, "internal"])),
    }
    if kind == "numbered":
        found.update({key: draw(st.integers(0, 1)) for key in
                      ("masters_ne", "masters_ne_nf", "etcd", "nodes_nf", "gfs_nodes")})
        return found
    keys = st.sampled_from(["1", "cp-a", "gpu", "b"])
    found.update(masters=0, nodes=0, load_balancer=False, master_map=draw(st.lists(keys, max_size=2, unique=True)),
                 node_map=draw(st.lists(keys, min_size=1, max_size=2, unique=True)))
    found["additional_server_groups"] = [k for k in found["node_map"] if k == "gpu"]
    return found


@st.composite
def topologies(draw: st.DrawFn, max_clusters: int = 5) -> dict[str, Any]:
    """A scenario document with cross-pipeline links (see the module docstring)."""
    count = draw(st.integers(2, max_clusters))
    jobs = draw(st.lists(st.integers(1000, 99999), min_size=count + 1, max_size=count + 1, unique=True))
    entries = [draw(clusters(job, "elastx")) for job in jobs[:count]]
    if draw(st.booleans()):
        entries.append(draw(clusters(jobs[count], "other", ("live", "dead", "lost"))))
    elastx = [str(e["job"]) for e in entries if e["project"] == "elastx"]
    slots = [(i, g) for i in range(len(elastx)) for g in GROUPS]
    rank = draw(st.permutations(range(len(slots))))  # rules point from lower to higher rank: never a cycle
    pairs = st.tuples(st.integers(0, len(slots) - 1), st.integers(0, len(slots) - 1)).filter(lambda p: p[0] != p[1])
    refs = sorted({(a, b) if rank[a] < rank[b] else (b, a) for a, b in draw(st.lists(pairs, max_size=4))})
    cross = st.tuples(st.integers(0, len(elastx) - 1), st.integers(0, len(elastx) - 1))
    links = {
        "sg_refs": [{"from": [elastx[slots[a][0]], slots[a][1]], "to": [elastx[slots[b][0]], slots[b][1]]}
                    for a, b in refs],
        "volumes": [{"owner": elastx[a], "server_of": elastx[b]}
                    for a, b in draw(st.lists(cross.filter(lambda p: p[0] != p[1]), max_size=2))],
        "ports": [{"owner": elastx[a], "network_of": elastx[b]} for a, b in draw(st.lists(cross, max_size=2))],
        "state_drops": [{"job": elastx[i], "every": every, "offset": offset} for i, every, offset in draw(
            st.lists(st.tuples(st.integers(0, len(elastx) - 1), st.integers(2, 5), st.integers(0, 4)), max_size=2))],
    }
    fips = [{"project": "elastx", "age_days": d} for d in draw(st.lists(st.integers(1, 20), max_size=2))]
    protected: list[str] = []
    if draw(st.integers(0, 3)) == 0:
        job = draw(st.sampled_from(elastx))
        protected.append(draw(st.sampled_from([f"{job}-k8s-node-1", f"{job}-k8s-master-1", f"{job}-k8s-master-nf-1",
                                               f"{job}-k8s-node-1-volume", f"ci-{job}", f"{job}-k8s"])))
    return base_document(clusters=entries, leaked_fips=fips, links=links, protected_names=protected)


def profile_for(document: dict[str, Any]) -> Profile:
    """The built-in elastx profile with the document's protected names added."""
    base = get_profile("elastx")
    names = tuple(document.get("protected_names") or ())
    return replace(base, protected_names=base.protected_names + names) if names else base


_SIMULATOR: list[Simulator] = []


def plan_world(world: World) -> Plan:
    """List the world as the elastx CI user sees it (in process) and plan exactly as a run would."""
    if not _SIMULATOR:
        _SIMULATOR.append(Simulator())
    simulator = _SIMULATOR[0]
    simulator.store = world.store
    cloud = InProcessCloud(simulator, "elastx")
    inventory = list_inventory(cloud, parallel=1)
    profile = profile_for(world.document)
    options = Options(now=now_utc(), min_age=profile.min_age, state_max_age=profile.state_max_age)
    return make_plan(inventory.resources, world.state_files(), profile, inventory.project_id, options)
