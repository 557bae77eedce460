"""Ground truth: simulator records owned by CI jobs by name and link; what a run left or wrongly took."""

from __future__ import annotations

from typing import Any

from bench.truth import job_of_name, judge, owners

JOB, LIVE = "10144272548", "10144272999"


def snapshot() -> dict[str, list[dict[str, Any]]]:
    return {
        "networks": [{"id": "n1", "name": f"ci-{JOB}"}, {"id": "n2", "name": f"ci-{LIVE}"},
                     {"id": "ext", "name": "elx-public1"}],
        "subnets": [{"id": "s1", "name": "", "network_id": "n1"}],
        "ports": [{"id": "p1", "name": f"{JOB}-k8s-node-1", "network_id": "n1", "device_owner": "compute:nova"},
                  {"id": "p-dhcp", "name": "", "network_id": "n1", "device_owner": "network:dhcp"},
                  {"id": "p-fip", "name": "", "network_id": "ext", "device_owner": "network:floatingip",
                   "device_id": "f1"},
                  {"id": "p-gw", "name": "", "network_id": "ext", "device_owner": "network:router_gateway"}],
        "floating_ips": [{"id": "f1", "port_id": "p1"}],
        "security_groups": [{"id": "g1", "name": f"{JOB}-k8s"}, {"id": "g0", "name": "default"}],
        "security_group_rules": [{"id": "r1", "security_group_id": "g1"}, {"id": "r0", "security_group_id": "g0"}],
        "keypairs": [{"id": 1, "name": f"kubernetes-{JOB}"}],
        "routers": [{"id": "rt", "name": "kubespray-ci-router"}],
        "_pending_events": 0,  # type: ignore[dict-item]
    }


def test_job_ids_are_read_from_kubespray_names() -> None:
    assert job_of_name(f"ci-{JOB}") == JOB
    assert job_of_name(f"{JOB}-k8s-master-1") == JOB
    assert job_of_name(f"kubernetes-{JOB}") == JOB
    assert job_of_name("kubespray-ci-router") is None
    assert job_of_name("default") is None


def test_records_without_a_job_name_belong_to_the_job_they_hang_off() -> None:
    found = owners(snapshot())
    for key in (("subnets", "s1"), ("ports", "p-dhcp"), ("floating_ips", "f1"), ("ports", "p-fip"),
                ("security_group_rules", "r1"), ("keypairs", f"kubernetes-{JOB}")):
        assert found[key] == JOB, key
    assert found[("ports", "p-gw")] is None
    assert found[("routers", "rt")] is None
    assert found[("security_group_rules", "r0")] is None


def test_judge_counts_what_was_left_and_what_was_wrongly_taken() -> None:
    before = snapshot()
    after = {table: [r for r in rows if r.get("id") not in ("n1", "s1", "p1", "f1", "p-fip", "n2", "g0", "r0")]
             for table, rows in before.items() if isinstance(rows, list)}
    damage = judge(before, after, {JOB})
    assert damage.left_behind_by_table == {"keypairs": 1, "security_groups": 1}  # DHCP port, rule: with parents
    assert damage.left_behind == 2 and damage.left_behind_records == 4
    assert damage.wrongly_deleted_by_table == {"networks": 1, "security_group_rules": 1, "security_groups": 1}
    assert damage.deleted_records == 5
    assert damage.deleted_objects == 4  # the FIP's own port goes with the FIP
    assert damage.leaked_records == 9
