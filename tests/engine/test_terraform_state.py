"""Tests for the native Terraform/OpenTofu v4 state parser."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kubespray_cleanup.errors import StateError
from kubespray_cleanup.model import Kind
from kubespray_cleanup.sources.terraform_state import (
    StateEntry,
    StateFile,
    load_state_file,
    load_state_paths,
    parse_state,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "states"
ELASTX = DATA / "elastx-cluster.tfstate"
REPO = Path(__file__).resolve().parents[2]
GENERATOR_DIRS = (
    REPO.parent / "shared" / "fixtures" / "kubespray-elastx",
    Path("/work/shared/fixtures/kubespray-elastx"),
)
PROJECT = "564c6b461c6b44b1bb19cdb9c2d928e4"
OPENSTACK_COUNTS = {
    Kind.SERVER: 2,
    Kind.KEYPAIR: 1,
    Kind.FLOATING_IP: 4,
    Kind.PORT: 2,
    Kind.SECURITY_GROUP: 4,
    Kind.SECURITY_GROUP_RULE: 14,
    Kind.NETWORK: 1,
    Kind.SUBNET: 1,
    Kind.ROUTER_INTERFACE: 1,
}


def _minimal(**overrides: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 1,
        "lineage": "lin",
        "outputs": {},
        "resources": [],
    }
    state.update(overrides)
    return state


def _resource(tf_type: str, name: str, instances: Any, **extra: Any) -> dict[str, Any]:
    provider = 'provider["registry.opentofu.org/terraform-provider-openstack/openstack"]'
    return {"mode": "managed", "type": tf_type, "name": name, "provider": provider, "instances": instances, **extra}


def _port_state(instances: Any) -> str:
    return json.dumps(_minimal(resources=[_resource("openstack_networking_port_v2", "p", instances)]))


def _entry(state: StateFile, address: str) -> StateEntry:
    matches = [e for e in state.entries if e.address == address and e.deposed is None]
    assert len(matches) == 1, address
    return matches[0]


def _generator() -> Path:
    for folder in GENERATOR_DIRS:
        if (folder / "gen_fixture.py").is_file():
            return folder / "gen_fixture.py"
    pytest.skip("shared fixture generator gen_fixture.py not found")


def _generate(tmp_path: Path, *args: str) -> Path:
    subprocess.run(
        [sys.executable, str(_generator()), "--outdir", str(tmp_path), *args],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return tmp_path / "elastx-cluster.tfstate"


@pytest.fixture(scope="module")
def elastx() -> StateFile:
    return load_state_file(ELASTX)


def test_elastx_fixture_header_fields(elastx: StateFile) -> None:
    """The fixture's serial, lineage, version, source and mtime are carried over."""
    assert elastx.serial == 7
    assert elastx.lineage == "00e958d3-baee-4e0f-8544-e8144f9672c4"
    assert elastx.terraform_version == "1.12.6"
    assert elastx.source == str(ELASTX)
    assert elastx.locked is False
    assert elastx.modified_at is not None and elastx.modified_at.tzinfo == UTC
    assert elastx.unknown_types == ()


def test_elastx_fixture_managed_instances_become_entries(elastx: StateFile) -> None:
    """31 managed instances become entries; the 5 data instances are skipped."""
    assert len(elastx.entries) == 31
    assert not any(".data." in e.address or e.address.startswith("data.") for e in elastx.entries)
    assert len(elastx.by_address()) == 30


def test_elastx_fixture_kind_counts(elastx: StateFile) -> None:
    """30 OpenStack entries map to kinds (the 2 FIP associates included); null_resource maps to None."""
    counts = Counter(e.kind for e in elastx.entries)
    assert counts.pop(None) == 1
    assert dict(counts) == OPENSTACK_COUNTS
    assert sum(counts.values()) == 30


def test_elastx_fixture_ids_dedupe_fip_associates(elastx: StateFile) -> None:
    """ids() has 28 objects: each FIP associate repeats its FIP's id."""
    ids = elastx.ids()
    assert len(ids) == 28
    fip = _entry(elastx, "module.ips.openstack_networking_floatingip_v2.k8s_master[0]")
    assoc = _entry(elastx, "module.compute.openstack_networking_floatingip_associate_v2.k8s_master[0]")
    assert assoc.kind is Kind.FLOATING_IP and assoc.id == fip.id
    assert (Kind.FLOATING_IP, fip.id) in ids


def test_elastx_fixture_keypair_id_is_name(elastx: StateFile) -> None:
    """The keypair's id is its name."""
    keypair = _entry(elastx, "module.compute.openstack_compute_keypair_v2.k8s")
    assert (keypair.kind, keypair.id, keypair.name) == (Kind.KEYPAIR, "kubernetes-4711", "kubernetes-4711")


def test_elastx_fixture_router_interface_id_is_port(elastx: StateFile) -> None:
    """The router interface's id is its port id and keeps router_id and subnet_id."""
    iface = _entry(elastx, "module.network.openstack_networking_router_interface_v2.k8s[0]")
    assert iface.kind is Kind.ROUTER_INTERFACE
    assert iface.id == iface.attributes["port_id"] == "4edbea59-89e3-4949-b399-5201dde53f64"
    assert iface.attributes["router_id"] == "ab95917c-41fb-4881-b507-3a6dfe9403df"


def test_elastx_fixture_tenant_id_becomes_project_id(elastx: StateFile) -> None:
    """Provider 1.54 writes tenant_id; entries expose it as project_id."""
    port = _entry(elastx, "module.compute.openstack_networking_port_v2.k8s_master_port[0]")
    assert port.project_id == PROJECT and port.name == "4711-k8s-master-1"
    assert _entry(elastx, "module.compute.openstack_compute_instance_v2.k8s_master[0]").project_id == ""


def test_elastx_fixture_dependencies_kept_verbatim(elastx: StateFile) -> None:
    """Dependencies are resource addresses as written, including ones absent from the state."""
    keypair = _entry(elastx, "module.compute.openstack_compute_keypair_v2.k8s")
    assert keypair.dependencies == (
        "module.network.openstack_networking_network_v2.k8s",
        "module.network.openstack_networking_subnet_v2.k8s",
    )
    server = _entry(elastx, "module.compute.openstack_compute_instance_v2.k8s_master[0]")
    assert "module.compute.openstack_compute_servergroup_v2.k8s_master" in server.dependencies
    assert "module.compute.openstack_compute_servergroup_v2.k8s_master" not in elastx.by_address()
    assert _entry(elastx, "module.network.openstack_networking_network_v2.k8s[0]").dependencies == ()


def test_by_address_groups_count_instances(elastx: StateFile) -> None:
    """by_address() groups instances of one counted resource under the index-free address."""
    rules = elastx.by_address()["module.compute.openstack_networking_secgroup_rule_v2.worker_ipv6_ingress"]
    assert [e.address[-3:] for e in rules] == ["[0]", "[1]"]


def test_compact_single_line_state_from_generator(tmp_path: Path) -> None:
    """A generated state re-serialised compactly, as OpenTofu 1.8-1.11 writes it, parses the same."""
    pretty = _generate(tmp_path, "--job-id", "12345678901", "--seed", "3", "--tofu-version", "1.9.1")
    document = json.loads(pretty.read_text())
    compact = json.dumps(document, separators=(",", ":"))
    assert "\n" not in compact
    state = parse_state(compact, "compact")
    assert state.terraform_version == "1.9.1"
    assert len(state.entries) == 31 and len(state.ids()) == 28
    names = {e.name for e in state.entries if e.kind is Kind.NETWORK}
    assert names == {"ci-12345678901"}
    assert state.ids() == load_state_file(pretty).ids()


def test_registry_terraform_io_provider_parses(tmp_path: Path) -> None:
    """A Terraform-written state (registry.terraform.io providers) maps the same kinds."""
    path = _generate(tmp_path, "--registry-host", "registry.terraform.io")
    assert "registry.terraform.io/terraform-provider-openstack" in path.read_text()
    state = load_state_file(path)
    counts = Counter(e.kind for e in state.entries if e.kind is not None)
    assert dict(counts) == OPENSTACK_COUNTS


def test_for_each_string_keys_render_like_terraform() -> None:
    """String index keys render as ["key"], with quotes escaped as terraform state list shows."""
    state = load_state_file(DATA / "nested-foreach.tfstate")
    addresses = [e.address for e in state.entries]
    assert addresses == [
        'module.cluster.module.net.openstack_networking_port_v2.node["worker-a"]',
        'module.cluster.module.net.openstack_networking_port_v2.node["we\\"ird[key]"]',
        "module.cluster.module.net.openstack_networking_network_v2.k8s",
    ]


def test_nested_modules_group_by_resource_address() -> None:
    """Nested module addresses group for_each instances under one resource address."""
    state = load_state_file(DATA / "nested-foreach.tfstate")
    grouped = state.by_address()
    assert list(grouped) == [
        "module.cluster.module.net.openstack_networking_port_v2.node",
        "module.cluster.module.net.openstack_networking_network_v2.k8s",
    ]
    assert [e.id for e in grouped["module.cluster.module.net.openstack_networking_port_v2.node"]] == [
        "port-a",
        "port-b",
    ]


def test_project_id_preferred_over_tenant_id() -> None:
    """project_id wins when present; tenant_id is the fallback."""
    state = load_state_file(DATA / "nested-foreach.tfstate")
    assert [e.project_id for e in state.entries] == ["proj-new", "proj-new", "proj-old"]


def test_tainted_instance_is_flagged() -> None:
    """status 'tainted' sets tainted and keeps the object owned."""
    state = load_state_file(DATA / "lifecycle.tfstate")
    tainted = _entry(state, "openstack_compute_instance_v2.k8s_master[0]")
    assert tainted.tainted and tainted.deposed is None and tainted.id == "srv-tainted"
    assert (Kind.SERVER, "srv-tainted") in state.ids()


def test_deposed_instance_is_a_separate_entry() -> None:
    """A deposed object is its own entry with its deposed key, and its id is owned."""
    state = load_state_file(DATA / "lifecycle.tfstate")
    deposed = [e for e in state.entries if e.deposed]
    assert [(e.address, e.id, e.deposed, e.tainted) for e in deposed] == [
        ("openstack_compute_instance_v2.k8s_master[0]", "srv-deposed", "a1b2c3d4", False)
    ]
    assert {i for k, i in state.ids() if k is Kind.SERVER} == {"srv-tainted", "srv-deposed", "srv-current"}
    assert len(state.by_address()["openstack_compute_instance_v2.k8s_master"]) == 3


def test_type_mapping_covers_every_listed_type() -> None:
    """Each listed OpenStack type maps to its kind; LB children and attachments map to None."""
    state = load_state_file(DATA / "all-types.tfstate")
    kinds = {e.tf_type: e.kind for e in state.entries}
    assert kinds == {
        "openstack_networking_router_v2": Kind.ROUTER,
        "openstack_networking_router_interface_v2": Kind.ROUTER_INTERFACE,
        "openstack_compute_servergroup_v2": Kind.SERVER_GROUP,
        "openstack_blockstorage_volume_v2": Kind.VOLUME,
        "openstack_blockstorage_volume_v3": Kind.VOLUME,
        "openstack_lb_loadbalancer_v2": Kind.LOAD_BALANCER,
        "openstack_lb_listener_v2": None,
        "openstack_lb_pool_v2": None,
        "openstack_lb_member_v2": None,
        "openstack_lb_monitor_v2": None,
        "openstack_lb_l7policy_v2": None,
        "openstack_compute_volume_attach_v2": None,
        "openstack_compute_floatingip_associate_v2": None,
        "openstack_dns_recordset_v2": None,
        "openstack_objectstorage_container_v1": None,
        "random_id": None,
        "local_file": None,
    }


def test_unknown_openstack_types_reported_not_fatal() -> None:
    """Unmapped openstack_* managed types are listed; other providers and data sources are not."""
    state = load_state_file(DATA / "all-types.tfstate")
    assert state.unknown_types == ("openstack_dns_recordset_v2", "openstack_objectstorage_container_v1")


def test_compute_floatingip_associate_has_no_kind() -> None:
    """The nova FIP association's composite id is not an OpenStack object id."""
    state = load_state_file(DATA / "all-types.tfstate")
    assoc = _entry(state, "openstack_compute_floatingip_associate_v2.cfa")
    assert assoc.kind is None and assoc.id == "198.51.100.7/srv-1/10.0.0.5"
    assert all(i != assoc.id for _, i in state.ids())


def test_attributes_flat_from_upgraded_v3_state_is_read() -> None:
    """An instance carrying only attributes_flat (upgraded from state v3) still yields id, name and project."""
    flat = {"id": "net-9", "name": "ci-old", "tenant_id": "p-old", "tags.#": "0"}
    state = parse_state(_port_state([{"schema_version": 0, "attributes_flat": flat}]), "flat")
    assert [(e.id, e.name, e.project_id) for e in state.entries] == [("net-9", "ci-old", "p-old")]


def test_bytes_with_bom_parse() -> None:
    """UTF-8 bytes with a byte-order mark parse like plain text."""
    raw = b"\xef\xbb\xbf" + json.dumps(_minimal(serial=9)).encode()
    assert parse_state(raw, "bom").serial == 9
    assert parse_state(raw.decode("utf-8"), "bom-str").serial == 9


def test_empty_state_is_valid() -> None:
    """A state with an empty resources list parses to no entries."""
    state = parse_state(json.dumps(_minimal()), "empty", locked=True)
    assert state.entries == () and state.ids() == set() and state.by_address() == {}
    assert state.locked is True and state.modified_at is None


def test_modified_at_passed_through() -> None:
    """parse_state keeps the modified_at it is given."""
    when = datetime(2026, 11, 25, 9, 42, tzinfo=UTC)
    assert parse_state(json.dumps(_minimal()), "x", modified_at=when).modified_at == when


def test_lock_info_beside_file_marks_locked(tmp_path: Path) -> None:
    """A .<name>.lock.info file beside a local state marks it locked."""
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(_minimal()))
    assert load_state_file(path).locked is False
    (tmp_path / ".terraform.tfstate.lock.info").write_text("{}")
    assert load_state_file(path).locked is True


def test_directory_recursion_skips_backups_and_dot_terraform(tmp_path: Path) -> None:
    """A directory yields its *.tfstate files recursively, not backups or .terraform/ backend files."""
    (tmp_path / "terraform.tfstate.d" / "ws").mkdir(parents=True)
    (tmp_path / ".terraform").mkdir()
    (tmp_path / "terraform.tfstate").write_text(json.dumps(_minimal(serial=1)))
    (tmp_path / "terraform.tfstate.backup").write_text("not json")
    (tmp_path / "terraform.tfstate.d" / "ws" / "terraform.tfstate").write_text(json.dumps(_minimal(serial=2)))
    (tmp_path / ".terraform" / "terraform.tfstate").write_text(json.dumps({"version": 3, "backend": {}}))
    states = load_state_paths([str(tmp_path)])
    assert sorted(s.serial for s in states) == [1, 2]


def test_glob_and_duplicates_load_each_file_once(tmp_path: Path) -> None:
    """Globs expand, and a file named twice is loaded once."""
    for serial in (1, 2):
        (tmp_path / f"job{serial}.tfstate").write_text(json.dumps(_minimal(serial=serial)))
    states = load_state_paths([str(tmp_path / "*.tfstate"), str(tmp_path / "job1.tfstate")])
    assert [s.serial for s in states] == [1, 2]


def test_explicit_file_path_loads(tmp_path: Path) -> None:
    """A plain file path loads that file whatever its name."""
    path = tmp_path / "state.json"
    path.write_text(json.dumps(_minimal(serial=5)))
    assert [s.serial for s in load_state_paths([str(path)])] == [5]


MALFORMED: dict[str, tuple[str | bytes, str]] = {
    "empty file": ("", "empty file"),
    "whitespace only": ("  \n\t", "empty file"),
    "truncated JSON": (json.dumps(_minimal())[:-20], "truncated JSON"),
    "not JSON": ("resources = []", "not JSON"),
    "JSON array": ("[]", "not a JSON object (got an array)"),
    "JSON string": ('"state"', "not a JSON object"),
    "no version": (json.dumps({"resources": []}), "no state 'version'"),
    "version 3": (json.dumps(_minimal(version=3)), "unsupported state version 3"),
    "version string": (json.dumps(_minimal(version="4")), "unsupported state version '4'"),
    "version bool": (json.dumps(_minimal(version=True)), "unsupported state version True"),
    "missing resources": (json.dumps({"version": 4, "serial": 1}), "missing 'resources'"),
    "resources object": (json.dumps(_minimal(resources={})), "'resources' is an object, not a list"),
    "resource not object": (json.dumps(_minimal(resources=[7])), "resources[0] is a number"),
    "resource without type": (
        json.dumps(_minimal(resources=[{"mode": "managed", "name": "x", "instances": []}])),
        "resources[0] has no 'type' string",
    ),
    "unknown mode": (
        json.dumps(_minimal(resources=[{"mode": "x", "type": "t", "name": "n", "instances": []}])),
        "unknown mode 'x'",
    ),
    "instances not list": (_port_state({}), "instances is an object, not a list"),
    "instance not object": (_port_state([[]]), "instances[0] of openstack_networking_port_v2.p is an array"),
    "instance without attributes": (
        _port_state([{"schema_version": 0}]),
        "openstack_networking_port_v2.p has no attributes object",
    ),
    "bad index_key": (_port_state([{"index_key": 1.5, "attributes": {}}]), "index_key that is a number"),
    "dependencies not list": (
        _port_state([{"attributes": {}, "dependencies": "x"}]),
        "'dependencies' is not a list of strings",
    ),
    "deposed not string": (_port_state([{"attributes": {}, "deposed": 1}]), "'deposed' is not a string"),
    "serial not int": (json.dumps(_minimal(serial="7")), "'serial' is a string, not an integer"),
    "lineage not string": (json.dumps(_minimal(lineage=5)), "'lineage' is a number, not a string"),
    "binary garbage": (bytes(range(256)) * 4, "not UTF-8 text"),
    "deeply nested": ("[" * 100000 + "]" * 100000, "not JSON"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_state_raises_one_line_state_error(case: str) -> None:
    """Each malformed input raises StateError with a short one-line reason naming the source."""
    text, expected = MALFORMED[case]
    with pytest.raises(StateError) as caught:
        parse_state(text, "bad.tfstate")
    assert expected in caught.value.reason
    assert caught.value.source == "bad.tfstate"
    assert "\n" not in str(caught.value) and len(caught.value.reason) < 200


def test_missing_file_raises_state_error(tmp_path: Path) -> None:
    """load_state_file on a missing file raises StateError, not OSError."""
    with pytest.raises(StateError, match="cannot read file"):
        load_state_file(tmp_path / "nope.tfstate")


def test_unreadable_path_raises_state_error(tmp_path: Path) -> None:
    """load_state_file on a directory raises StateError, not IsADirectoryError."""
    with pytest.raises(StateError, match="cannot read file"):
        load_state_file(tmp_path)


def test_missing_path_argument_raises_state_error(tmp_path: Path) -> None:
    """A path that does not exist raises StateError."""
    with pytest.raises(StateError, match="no such file or directory"):
        load_state_paths([str(tmp_path / "absent")])


def test_directory_without_states_raises_state_error(tmp_path: Path) -> None:
    """A directory with no *.tfstate (only backups) raises StateError."""
    (tmp_path / "terraform.tfstate.backup").write_text("{}")
    with pytest.raises(StateError, match=r"no \*\.tfstate file in directory"):
        load_state_paths([str(tmp_path)])


def test_glob_matching_nothing_raises_state_error(tmp_path: Path) -> None:
    """A glob that matches nothing raises StateError naming the pattern."""
    pattern = str(tmp_path / "*.tfstate")
    with pytest.raises(StateError) as caught:
        load_state_paths([pattern])
    assert caught.value.source == pattern and "no file matches" in caught.value.reason


def test_malformed_file_in_directory_names_that_file(tmp_path: Path) -> None:
    """A bad file found by directory recursion fails with its own path as source."""
    (tmp_path / "good.tfstate").write_text(json.dumps(_minimal()))
    bad = tmp_path / "bad.tfstate"
    bad.write_text(json.dumps(_minimal(version=3)))
    with pytest.raises(StateError) as caught:
        load_state_paths([str(tmp_path)])
    assert caught.value.source == str(bad) and caught.value.reason == "unsupported state version 3"
