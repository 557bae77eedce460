"""The benchmark's scenario: many leaked Kubespray CI clusters beside a few live ones, on Elastx-like ids."""

from __future__ import annotations

import random
from typing import Any

ELX_PUBLIC = "600b8501-78cb-4155-9c9f-23dfcba88828"
SHARED_ROUTER = "ab95917c-41fb-4881-b507-3a6dfe9403df"


# The rest of Kubespray's module, beside the elastx job's corner: every host kind, GlusterFS volumes, extra
# security groups, server groups, boot volumes, the module's own router, a network named ``internal``; or the
# k8s_masters / k8s_nodes maps with an additional server group.
MODULE_VARIANTS: tuple[dict[str, Any], ...] = (
    {"network_name": "internal", "router": "own", "bastions": 1, "masters_ne": 1, "masters_ne_nf": 1, "etcd": 1,
     "nodes_nf": 1, "gfs_nodes": 1, "extra_sec_groups": "custom", "server_group": True, "root_volume_size": 10,
     "csi_volumes": 1},
    {"network_name": "internal", "masters": 0, "nodes": 0, "master_map": ["cp-a"], "node_map": ["gpu", "b"],
     "additional_server_groups": ["gpu"], "server_group": True, "root_volume_size": 10, "csi_volumes": 1},
)


def bench_document(leaked: int, live: int, seed: int, variants: bool = False) -> dict[str, Any]:
    """A scenario document with ``leaked`` dead/lost/partial clusters and ``live`` running ones (all in elastx).

    Every third cluster has a data volume per node, every fifth a Kubespray API load balancer. With
    ``variants``, every fourth cluster also draws from the whole module (``MODULE_VARIANTS``, alternating);
    without, the document is the one earlier bench figures were measured on.
    Write it to a YAML file and pass the path to the simulator.
    """
    rng = random.Random(seed)
    job = 10_000_000_000 + rng.randrange(10**9)  # gitlab.com job ids have 11 digits by now
    hours = sorted((round(rng.uniform(4.5, 96.0), 2) for _ in range(leaked)), reverse=True)  # older = lower id
    minutes = sorted((rng.randint(5, 50) for _ in range(live)), reverse=True)
    clusters: list[dict[str, Any]] = []
    for number in range(leaked + live):
        job += rng.randint(1, 50)
        entry: dict[str, Any] = {"job": job, "project": "elastx"}
        if number < leaked:
            entry.update(fate=("dead", "lost", "partial")[number % 3], age_hours=hours[number])
        else:
            entry.update(fate="live", age_minutes=minutes[number - leaked])
        if number % 3 == 2:
            entry["volumes_per_node"] = 1
        if number % 5 == 4:
            entry.update(load_balancer=True, masters_with_fip=False)
        if variants and number % 4 == 3:
            entry.update(MODULE_VARIANTS[(number // 4) % len(MODULE_VARIANTS)])
            if entry.get("master_map"):
                entry.pop("load_balancer", None)  # the API LB's members are the numbered no-FIP masters
        clusters.append(entry)
    return {
        "name": "bench",
        "description": f"Benchmark: {leaked} leaked and {live} live Kubespray CI clusters (seed {seed})"
                       + (", every fourth from the whole module." if variants else "."),
        "extends": "empty",
        "external_network": {"name": "elx-public1", "id": ELX_PUBLIC, "cidr": "198.18.0.0/15",
                             "gateway_ip": "198.18.0.1"},
        "shared_routers": [{"project": "elastx", "name": "kubespray-ci-router", "id": SHARED_ROUTER}],
        "clusters": clusters,
    }
