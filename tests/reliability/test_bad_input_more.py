"""More malformed inputs: one ``tf-cleanup: error:`` line, the documented exit code, no traceback, no DELETE.

State sources fail with 5 (nothing deleted), config files and option values with 3, clouds.yaml with 4.
Every case runs against one shared simulator of the ``demo`` scenario whose DELETE count must stay 0.
Together with ``tests/e2e/test_bad_input.py`` (22 cases) the project checks well over 30 bad inputs.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubespray_cleanup.cli import main
from kubespray_cleanup.errors import ExitCode
from kubespray_cleanup.simulator.kubespray import write_states
from kubespray_cleanup.simulator.server import SimulatorServer
from tests.reliability.world import build_world

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # openstacksdk's own

GARBAGE = bytes(random.Random(6).randrange(256) for _ in range(2048))
LIVE_STATE = "4709/terraform.tfstate"  # demo: a live pipeline older than min-age, its state locked


@dataclass
class Shared:
    sim: SimulatorServer
    clouds: Path
    states: Path
    tmp: Path

    def write(self, name: str, content: str | bytes) -> str:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return str(path)

    def run(self, *args: str, clouds: Path | None = None) -> Any:
        env = {"OS_CLIENT_CONFIG_FILE": str(clouds or self.clouds), "CI": "true", "OS_CLOUD": ""}
        return CliRunner().invoke(main, ["--project", "elastx", *args], env=env, catch_exceptions=False)

    def deletes(self) -> int:
        return sum(r["count"] for r in self.sim.simulator.stats_json()["routes"] if r["method"] == "DELETE")


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    tmp = tmp_path_factory.mktemp("bad-input")
    world = build_world("demo")
    sim = world.serve()
    states = tmp / "states"
    write_states(world.scenario, states)
    yield Shared(sim, sim.write_clouds_yaml(tmp / "clouds.yaml"), states, tmp)
    sim.stop()


def _state(resources: list[Any]) -> str:
    return json.dumps({"version": 4, "terraform_version": "1.9.1", "serial": 1, "lineage": "x",
                       "resources": resources})


def _server(instances: Any, **extra: Any) -> dict[str, Any]:
    return {"mode": "managed", "type": "openstack_compute_instance_v2", "name": "k8s_node", **extra,
            "provider": 'provider["registry.opentofu.org/terraform-provider-openstack/openstack"]',
            "instances": instances}


def _mixed_dir(st: Shared) -> str:
    st.write("mixed/good/terraform.tfstate", (st.states / "4700/terraform.tfstate").read_text())
    st.write("mixed/bad/terraform.tfstate", '{"version": 4, "resources": [{"mode": "managed",')
    return str(st.tmp / "mixed")


def _empty_dir(st: Shared) -> str:
    (st.tmp / "no-states").mkdir(exist_ok=True)
    st.write("no-states/README.md", "no state here")
    return str(st.tmp / "no-states")


# (id, arguments maker, expected exit code, text the error line must contain)
Case = tuple[str, Callable[[Shared], list[str]], ExitCode, str]
STATE_CASES: list[Case] = [
    ("deeply-nested-arrays", lambda st: ["--state", st.write("deep1.tfstate", "[" * 100_000 + "]" * 100_000)],
     ExitCode.STATE, "deep1.tfstate"),
    ("deeply-nested-objects", lambda st: ["--state", st.write(
        "deep2.tfstate", '{"version": 4, "resources": [' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "]}")],
     ExitCode.STATE, "deep2.tfstate"),
    ("instances-is-a-string", lambda st: ["--state", st.write("t1.tfstate", _state([_server("none")]))],
     ExitCode.STATE, "t1.tfstate"),
    ("instance-without-attributes", lambda st: ["--state", st.write("t2.tfstate", _state([_server([{"x": 1}])]))],
     ExitCode.STATE, "t2.tfstate"),
    ("resource-is-a-number", lambda st: ["--state", st.write("t3.tfstate", _state([42]))],
     ExitCode.STATE, "t3.tfstate"),
    ("dependencies-not-a-list", lambda st: ["--state", st.write("t4.tfstate", _state([_server(
        [{"attributes": {"id": "a", "name": "4700-k8s-node-9"}, "dependencies": "module.network"}])]))],
     ExitCode.STATE, "t4.tfstate"),
    ("binary-garbage", lambda st: ["--state", st.write("garbage.tfstate", GARBAGE)], ExitCode.STATE,
     "garbage.tfstate"),
    ("utf16-with-bom", lambda st: ["--state", st.write("utf16.tfstate", _state([]).encode("utf-16"))],
     ExitCode.STATE, "utf16.tfstate"),
    ("directory-with-one-bad-state", lambda st: ["--state", _mixed_dir(st)], ExitCode.STATE,
     "bad/terraform.tfstate"),
    ("glob-matching-nothing", lambda st: ["--state", str(st.tmp / "nowhere" / "*.tfstate")], ExitCode.STATE,
     "no file matches"),
    ("directory-without-states", lambda st: ["--state", _empty_dir(st)], ExitCode.STATE, "no-states"),
    ("tf-dir-is-a-file", lambda st: ["--tf-dir", st.write("not-a-dir.txt", "x")], ExitCode.STATE,
     "not-a-dir.txt"),
    ("tf-dir-missing", lambda st: ["--tf-dir", str(st.tmp / "missing-dir")], ExitCode.STATE, "missing-dir"),
]


def _config(name: str, text: str | bytes) -> Callable[[Shared], list[str]]:
    return lambda st: ["--config", st.write(f"config/{name}.yaml", text), "--state", str(st.states)]


CONFIG_CASES: list[Case] = [
    ("protected-names-is-a-mapping", _config("c1", "profiles:\n  elastx:\n    protected_names: {a: 1}\n"),
     ExitCode.USAGE, "protected_names"),
    ("orphan-floating-ips-is-a-string", _config("c2", "profiles:\n  elastx:\n    orphan_floating_ips: 'yes'\n"),
     ExitCode.USAGE, "orphan_floating_ips"),
    ("cloud-is-a-number", _config("c3", "profiles:\n  elastx:\n    cloud: 42\n"), ExitCode.USAGE, "cloud"),
    ("live-owners-nested-list", _config("c4", "profiles:\n  elastx:\n    live_owners: [[4712]]\n"),
     ExitCode.USAGE, "live_owners"),
    ("min-age-negative-number", _config("c5", "profiles:\n  elastx:\n    min_age: -5\n"), ExitCode.USAGE,
     "min_age"),
    ("min-age-negative-duration", _config("c6", "profiles:\n  elastx:\n    min_age: '-2h'\n"), ExitCode.USAGE,
     "min_age"),
    ("min-age-boolean", _config("c7", "profiles:\n  elastx:\n    min_age: true\n"), ExitCode.USAGE, "min_age"),
    ("profile-is-a-list", _config("c8", "profiles:\n  elastx: [1, 2]\n"), ExitCode.USAGE, "expected a mapping"),
    ("top-level-is-a-list", _config("c9", "- profiles\n- elastx\n"), ExitCode.USAGE, "c9.yaml"),
    ("config-unreadable-bytes", _config("c10", GARBAGE), ExitCode.USAGE, "c10.yaml"),
    ("config-is-a-directory", lambda st: ["--config", str(st.tmp), "--state", str(st.states)], ExitCode.USAGE,
     "is a directory"),
    ("config-missing", lambda st: ["--config", str(st.tmp / "absent.yaml"), "--state", str(st.states)],
     ExitCode.USAGE, "absent.yaml"),
]
OPTION_CASES: list[Case] = [
    ("timeout-zero", lambda st: ["--timeout", "0", "--state", str(st.states)], ExitCode.USAGE, "--timeout"),
    ("max-parallel-999", lambda st: ["--max-parallel", "999", "--state", str(st.states)], ExitCode.USAGE,
     "--max-parallel"),
    ("graph-png", lambda st: ["--graph", "png", str(st.tmp / "g.png"), "--state", str(st.states)], ExitCode.USAGE,
     "--graph"),
    ("poll-interval-zero", lambda st: ["--poll-interval", "0", "--state", str(st.states)], ExitCode.USAGE,
     "--poll-interval"),
    ("resource-timeout-negative", lambda st: ["--resource-timeout", "-1", "--state", str(st.states)],
     ExitCode.USAGE, "--resource-timeout"),
]


def _clouds(name: str, edit: Callable[[dict[str, Any]], Any] | None = None,
            text: str | bytes | None = None) -> Callable[[Shared], Path]:
    def make(st: Shared) -> Path:
        if text is not None:
            return Path(st.write(f"clouds/{name}.yaml", text))
        doc = yaml.safe_load(st.clouds.read_text())
        assert edit is not None
        edit(doc["clouds"]["elastx"])
        return Path(st.write(f"clouds/{name}.yaml", yaml.safe_dump(doc)))
    return make


CLOUDS_CASES: list[tuple[str, Callable[[Shared], Path], str]] = [
    ("malformed-yaml", _clouds("bad-yaml", text="clouds:\n  elastx: [\n    auth: {\n"), "bad-yaml.yaml"),
    ("missing-auth-url", _clouds("no-url", lambda c: c["auth"].pop("auth_url")), "auth_url"),
    ("unknown-auth-type", _clouds("kerberos", lambda c: c.update(auth_type="kerberos-magic")), "kerberos-magic"),
    ("not-a-mapping", _clouds("list", text="- clouds\n- elastx\n"), "list.yaml"),
    ("binary-garbage", _clouds("garbage", text=GARBAGE), "garbage.yaml"),
    ("empty-file", _clouds("empty", text=""), "elastx"),
]
BAD_INPUTS = len(STATE_CASES) + len(CONFIG_CASES) + len(OPTION_CASES) + len(CLOUDS_CASES)


def _one_error_line(result: Any, expected: ExitCode, needle: str) -> None:
    output = str(result.output)
    assert "Traceback" not in output, output[-2000:]
    errors = [line for line in output.splitlines() if line.startswith("tf-cleanup: error:")]
    assert len(errors) == 1, output[-2000:]
    assert needle in errors[0], errors[0]
    assert result.exit_code == expected, output[-2000:]


@pytest.mark.parametrize("case", STATE_CASES + CONFIG_CASES + OPTION_CASES, ids=lambda c: c[0])
def test_malformed_state_config_and_option_values_fail_cleanly(shared: Shared, case: Case) -> None:
    """State sources exit 5, config files and option values exit 3: one line, no traceback, no DELETE."""
    _, make_args, expected, needle = case
    before = shared.deletes()
    _one_error_line(shared.run(*make_args(shared), "--yes"), expected, needle)
    assert shared.deletes() == before == 0


@pytest.mark.parametrize("case", CLOUDS_CASES, ids=lambda c: c[0])
def test_malformed_clouds_yaml_is_a_configuration_error(shared: Shared, case: tuple[str, Any, str]) -> None:
    """A clouds.yaml that is not YAML, lacks auth_url, names an unknown auth type ...: exit 3 (configuration),
    one line naming the file or the setting."""
    _, make_clouds, needle = case
    before = shared.deletes()
    result = shared.run("--state", str(shared.states), "--yes", clouds=make_clouds(shared))
    _one_error_line(result, ExitCode.USAGE, needle)
    assert shared.deletes() == before == 0


def test_utf8_bom_state_is_read_like_any_other(shared: Shared) -> None:
    """A state file starting with a UTF-8 byte-order mark is no error: the live pipeline it holds is kept."""
    live = shared.states / LIVE_STATE
    copy = shared.tmp / "bom" / "4709" / "terraform.tfstate"
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(b"\xef\xbb\xbf" + live.read_bytes())
    os.utime(copy, (live.stat().st_atime, live.stat().st_mtime))
    (copy.parent / ".terraform.tfstate.lock.info").write_text((live.parent / ".terraform.tfstate.lock.info")
                                                               .read_text())
    result = shared.run("--state", str(copy), "--dry-run", "--output", "json")
    assert result.exit_code == ExitCode.CLEAN, result.output[-2000:]
    assert json.loads(result.stdout)["plan"]["states"][0]["live"] is True
    actions = json.loads(result.stdout)["plan"]["actions"]
    assert not [a["name"] for a in actions if "4709" in str(a["name"])]


def test_bad_input_figures(record_figures: Callable[..., None]) -> None:
    """Figures: how many malformed inputs this module tries (22 more live in tests/e2e/test_bad_input.py)."""
    record_figures(bad_inputs_here=BAD_INPUTS, bad_inputs_e2e=22, bad_inputs_total=BAD_INPUTS + 22)
    assert BAD_INPUTS + 22 >= 30


@pytest.mark.parametrize("args", [
    ("--min-age", "9999999999d"),
    ("--state-max-age", "99999999999999w"),
    ("config", "min_age: .inf"),
    ("config", "min_age: .nan"),
    ("config", "state_max_age: 1.0e+300"),
], ids=["cli-min-age", "cli-state-max-age", "config-inf", "config-nan", "config-1e300"])
def test_huge_durations_are_usage_errors(shared: Shared, args: tuple[str, str]) -> None:
    """Durations beyond what a timedelta holds: one line, exit 3, no traceback."""
    if args[0] == "config":
        argv = ["--config", shared.write(f"config/huge-{abs(hash(args[1]))}.yaml",
                                         f"profiles:\n  elastx:\n    {args[1]}\n")]
    else:
        argv = list(args)
    result = shared.run(*argv, "--state", str(shared.states), "--dry-run")
    _one_error_line(result, ExitCode.USAGE, "age")


def test_live_state_with_non_string_names_never_deletes_that_pipeline(shared: Shared) -> None:
    """Wrong types inside a live pipeline's resources: either exit 5, or nothing of that pipeline is deleted."""
    source = shared.states / LIVE_STATE
    doc = json.loads(source.read_text())
    for resource in doc["resources"]:
        for instance in resource.get("instances", []):
            attributes = instance.get("attributes") or {}
            if isinstance(attributes.get("name"), str):
                attributes["name"] = [attributes["name"]]
    states = shared.tmp / "typed-states"
    for path in shared.states.rglob("*"):
        if path.is_file():
            target = states / path.relative_to(shared.states)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
            os.utime(target, (path.stat().st_atime, path.stat().st_mtime))
    (states / LIVE_STATE).write_text(json.dumps(doc))
    os.utime(states / LIVE_STATE, (source.stat().st_atime, source.stat().st_mtime))
    result = shared.run("--state", str(states), "--dry-run", "--output", "json")
    if result.exit_code == ExitCode.STATE:
        _one_error_line(result, ExitCode.STATE, LIVE_STATE)
        return
    actions = json.loads(result.stdout)["plan"]["actions"]
    assert not [a["name"] for a in actions if "4709" in str(a["name"])]
