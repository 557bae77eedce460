"""``tf-cleanup check`` end to end: the CLI, real openstacksdk over HTTP, the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kubespray_cleanup.simulator.store import iso_micro
from tests.check.conftest import check, finding
from tests.e2e.conftest import Stage

FAST = ("--poll-interval", "0.02")


def test_fit_project_passes_and_prints_the_shape_it_assumed(roomy: Stage) -> None:
    """Room for one more elastx cluster: exit 0, fit, the shape from the profile with the job id expanded."""
    code, doc = check(roomy)
    assert code == 0, doc["findings"]
    assert doc["fit"] is True
    assert doc["shape"]["cluster_name"] == "4800" and doc["shape"]["network_name"] == "ci-4800"
    assert {f["kind"] for f in doc["findings"] if f["severity"] == "error"} == set()
    assert any(p["kind"] == "endpoint" and p["name"] == "network" for p in doc["passed"])


def test_fit_project_with_leftovers_exits_2_with_detailed_exitcode(roomy: Stage) -> None:
    """The dead job 4711 is a leftover: fit, but --detailed-exitcode says there is something to clean."""
    code, doc = check(roomy, "--detailed-exitcode")
    assert code == 2 and doc["fit"] is True
    assert finding(doc, "leftovers", "pipeline 4711")["severity"] == "warning"


def test_csi_volumes_attached_to_a_dead_jobs_server_are_reported_with_quota_held(roomy: Stage) -> None:
    """Cinder CSI volumes of a cluster never uninstalled: reported by id under their server's owner, with the
    volumes and gigabytes they hold."""
    conn = roomy.sim.connect("elastx")
    server = next(s for s in conn.compute.servers() if s.name == "4711-k8s-node-1")
    ids = []
    for size in (5, 8):
        vol = conn.block_storage.create_volume(size=size, name=f"pvc-{size}",
                                               metadata={"cinder.csi.openstack.org/cluster": "kubernetes"})
        conn.block_storage.wait_for_status(vol, "available", wait=10, interval=0.05)
        conn.compute.create_volume_attachment(server, vol)
        ids.append(vol.id)
        # made by the cluster hours ago (a fresh object would make its owner look live)
        roomy.sim.store.get("volumes", vol.id)["created_at"] = iso_micro(datetime.now(UTC) - timedelta(hours=5))
    code, doc = check(roomy)
    owner = finding(doc, "leftovers", "pipeline 4711")
    volumes = {o["id"]: o for o in owner["objects"] if o["kind"] == "volume"}
    assert set(volumes) == set(ids)
    assert volumes[ids[1]]["holds"] == {"volumes": 1, "gigabytes": 8}
    assert owner["holds"]["volume.volumes"] == 2 and owner["holds"]["volume.gigabytes"] == 13
    assert code == 0


def test_one_floating_ip_short_is_reported_with_needed_and_available(roomy: Stage) -> None:
    """Two jobs hold 4 floating IPs; a limit of 5 leaves 1 for a cluster that needs 2. With job 4711 kept live
    nothing is reclaimable: not fit for a reason the cleanup cannot fix (9)."""
    roomy.sim.store.set_quota(roomy.sim.store.project_by_name("elastx").id, "network", floatingip=5)
    code, doc = check(roomy, "--live-owner", "4711")
    short = finding(doc, "quota", "floatingip")
    assert (short["needed"], short["available"], short["fixed_by_cleanup"]) == (2, 1, False)
    assert code == 9 and doc["fit"] is False


def test_floating_ips_a_cleanup_would_free_exit_8(roomy: Stage) -> None:
    """The same shortage while the dead job's 2 floating IPs are reclaimable: fixable by the cleanup (8)."""
    roomy.sim.store.set_quota(roomy.sim.store.project_by_name("elastx").id, "network", floatingip=5)
    code, doc = check(roomy)
    assert finding(doc, "quota", "floatingip")["fixed_by_cleanup"] is True
    assert code == 8


def test_existing_job_keypair_is_a_collision(roomy: Stage) -> None:
    """The next job's keypair kubernetes-$CI_JOB_ID already exists (job 4712's): Nova would refuse it."""
    code, doc = check(roomy, env={"CI_JOB_ID": "4712"})
    clash = finding(doc, "collision", "keypair kubernetes-4712")
    assert clash["severity"] == "error" and clash["objects"][0]["name"] == "kubernetes-4712"
    assert code == 9


def test_unknown_flavor_is_missing(roomy: Stage) -> None:
    """TF_VAR_flavor_k8s_node names a flavor the cloud does not have."""
    code, doc = check(roomy, env={"TF_VAR_flavor_k8s_node": "no-such-flavor"})
    assert finding(doc, "missing", "flavor no-such-flavor")["severity"] == "error"
    assert "TF_VAR_* environment" in doc["shape"]["sources"]
    assert code == 9


def test_fix_cleans_then_passes(stage: object, tmp_path: Path) -> None:
    """Not fit for leftovers only (Neutron's security group quota); --fix runs the cleanup, checks again: fit."""
    st = stage("kubespray")  # type: ignore[operator]
    code, doc = check(st)
    assert code == 8, doc["findings"]
    code, doc = check(st, "--fix", *FAST)
    assert code == 0 and doc["fit"] is True, doc["findings"]
    assert not any(n.startswith("4711-") for n in st.names())
    assert any(n.startswith("4712-") for n in st.names())


def test_a_service_refusing_its_quota_call_is_a_finding(roomy: Stage) -> None:
    """Neutron answers 403 to the quota call (policy): a warning naming the refusal, no traceback, and the
    Nova quotas are still checked."""
    from kubespray_cleanup.simulator.http import neutron_error

    handlers = roomy.sim.simulator.routes.handlers
    route = next(r for r in handlers if r.startswith("GET ") and r.endswith("/quotas/<project_id>/details"))

    def refuse(ctx: object, **kwargs: object) -> object:
        raise neutron_error(403, "PolicyNotAuthorized", "rule:get_quota is disallowed by policy")
    handlers[route] = refuse
    code, doc = check(roomy)
    refused = finding(doc, "quota", "network quota")
    assert refused["severity"] == "warning" and "403" in refused["message"]
    assert any(p["kind"] == "quota" and p["name"] == "instances" for p in doc["passed"])
    assert code == 0


def test_text_table_and_junit(roomy: Stage, tmp_path: Path) -> None:
    """The default output is a table with a verdict; --junit writes one testcase per check."""
    junit = tmp_path / "check.xml"
    result = roomy.run("check", "--project", "elastx", "--cloud", "elastx", "--state", str(roomy.states),
                       "--junit", str(junit), env={"CI_JOB_ID": "4800"})
    assert result.exit_code == 0
    assert "Neutron floating IPs" in result.stdout and "FIT: the project can hold one more cluster" in result.stdout
    text = junit.read_text()
    assert 'classname="check.quota" name="floatingip"' in text and "<failure" not in text


def test_bad_shape_file_is_a_one_line_usage_error(roomy: Stage, tmp_path: Path) -> None:
    """An unknown variable in --shape: exit 3, one line, nothing touched."""
    bad = tmp_path / "shape.yaml"
    bad.write_text(json.dumps({"number_of_k8s_nodez": 2}))
    result = roomy.run("check", "--project", "elastx", "--cloud", "elastx", "--shape", str(bad))
    assert result.exit_code == 3
    assert "unknown variable 'number_of_k8s_nodez'" in result.stderr and "Traceback" not in result.stderr
