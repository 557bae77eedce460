"""What the template promises a pipeline: serialised per project, never auto-cancelled, reports always kept,
credentials only from CI/CD variables, the package pinned to this release."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml

import kubespray_cleanup
from tests.template.conftest import (
    PROJECT_CI,
    TEMPLATE,
    commented_block,
    load,
    render_component,
    resolve_job,
)

# The options the jobs may use: tf-cleanup's documented command line.
KNOWN_OPTIONS = {"--project", "--yes", "--junit", "--report", "--audit-log", "--dry-run", "--detailed-exitcode",
                 "--lock-dir", "--lock-timeout", "--state", "--min-age"}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load(TEMPLATE)


def _command(job: dict[str, Any]) -> list[str]:
    """The tf-cleanup command line of a job's script, split as the shell would."""
    lines = [line for line in job["script"] if line.startswith("tf-cleanup ")]
    assert len(lines) == 1, job["script"]
    return shlex.split(lines[0])


def _option(argv: list[str], name: str) -> str:
    assert argv.count(name) == 1, argv
    return argv[argv.index(name) + 1]


def test_jobs_extend_hidden_bases(config: dict[str, Any]) -> None:
    assert config["tf-cleanup"] == {"extends": ".tf-cleanup"}
    assert config["tf-cleanup-check"] == {"extends": ".tf-cleanup-check"}
    assert "stages" not in config  # an include must not replace the project's stages


def test_cleanup_job_runs_after_tests_always_and_on_schedule(config: dict[str, Any]) -> None:
    job = resolve_job(config, "tf-cleanup")
    assert job["stage"] == ".post"
    rules = job["rules"]
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "always"} in rules
    assert rules[-1] == {"when": "always"}  # after the test stages, whatever their result
    assert all(rule["when"] in {"always", "never"} for rule in rules)


def test_cleanup_job_is_serialised_per_project_and_not_interruptible(config: dict[str, Any]) -> None:
    job = resolve_job(config, "tf-cleanup")
    assert job["resource_group"] == "openstack-$TF_CLEANUP_PROJECT"
    assert job["interruptible"] is False
    assert _option(_command(job), "--project") == "$TF_CLEANUP_PROJECT"


def test_reports_are_uploaded_whatever_the_result(config: dict[str, Any]) -> None:
    job = resolve_job(config, "tf-cleanup")
    argv = _command(job)
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["reports"]["junit"] == _option(argv, "--junit")
    for option in ("--junit", "--report", "--audit-log"):
        assert _option(argv, option) in artifacts["paths"]
    check = resolve_job(config, "tf-cleanup-check")
    assert check["artifacts"]["when"] == "always"
    assert _option(_command(check), "--junit") in check["artifacts"]["paths"]
    assert check["artifacts"]["reports"]["junit"] == _option(_command(check), "--junit")


def test_check_job_runs_check_and_only_leftovers_of_a_fit_project_are_a_warning(config: dict[str, Any]) -> None:
    """`tf-cleanup check --detailed-exitcode`: 2 (fit, leftovers) is allowed; 8 and 9 (not fit) stop the pipeline."""
    job = resolve_job(config, "tf-cleanup-check")
    argv = _command(job)
    assert argv[1] == "check" and "--detailed-exitcode" in argv and "--dry-run" not in argv
    assert _option(argv, "--project") == "$TF_CLEANUP_PROJECT"
    assert job["allow_failure"] == {"exit_codes": [2]}
    assert job["stage"] == ".pre"
    assert job["needs"] == []
    assert {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"} in job["rules"]
    assert "8  not fit now, only because of leftovers" in TEMPLATE.read_text()


def test_only_documented_options(config: dict[str, Any]) -> None:
    for name in ("tf-cleanup", "tf-cleanup-check"):
        used = {arg for arg in _command(resolve_job(config, name)) if arg.startswith("--")}
        assert used <= KNOWN_OPTIONS, used - KNOWN_OPTIONS


def test_version_pin_is_this_release(config: dict[str, Any]) -> None:
    assert config["variables"]["TF_CLEANUP_VERSION"]["value"] == kubespray_cleanup.__version__
    for name in ("tf-cleanup", "tf-cleanup-check"):
        job = resolve_job(config, name)
        assert job["image"] == "python:3.11-slim"
        installs = [line for line in job["script"] if "pip install" in line]
        assert len(installs) == 1
        assert '"kubespray-cleanup==${TF_CLEANUP_VERSION}"' in installs[0]


SECRETISH = re.compile(r"(PASSWORD|SECRET|TOKEN)\w*\s*[:=]\s*(?P<value>\S+)")


@pytest.mark.parametrize("path", [TEMPLATE, TEMPLATE.parent / "tf-cleanup" / "template.yml", PROJECT_CI],
                         ids=["template", "component", "project"])
def test_no_secret_values(path: Any) -> None:
    text = path.read_text()
    for match in SECRETISH.finditer(text):  # comments included: examples must not show a literal secret either
        assert match["value"].startswith("$"), match.group(0)
    assert "backend-config=password" not in text
    documents = list(yaml.safe_load_all(text))  # the component is a spec header and its jobs

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                assert not str(key).startswith("OS_") or str(key) in {"OS_CLIENT_CONFIG_FILE", "OS_CLOUD"}, key
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(documents)


def test_state_example_uses_gitlab_managed_state_per_job() -> None:
    job = yaml.safe_load(commented_block(TEMPLATE.read_text(), "tf-elastx_apply:"))["tf-elastx_apply"]
    variables = job["variables"]
    assert "$CI_JOB_ID" in variables["TF_STATE_NAME"]
    assert variables["TF_HTTP_ADDRESS"].endswith("/terraform/state/$TF_STATE_NAME")
    assert variables["TF_HTTP_LOCK_ADDRESS"] == variables["TF_HTTP_ADDRESS"] + "/lock"
    assert variables["TF_HTTP_UNLOCK_ADDRESS"] == variables["TF_HTTP_ADDRESS"] + "/lock"
    assert (variables["TF_HTTP_LOCK_METHOD"], variables["TF_HTTP_UNLOCK_METHOD"]) == ("POST", "DELETE")
    assert (variables["TF_HTTP_USERNAME"], variables["TF_HTTP_PASSWORD"]) == ("gitlab-ci-token", "$CI_JOB_TOKEN")


def test_matrix_example_gives_each_project_its_own_resource_group(config: dict[str, Any]) -> None:
    example = yaml.safe_load(commented_block(TEMPLATE.read_text(), "tf-cleanup:"))["tf-cleanup"]
    assert example["extends"] == ".tf-cleanup"
    projects = [entry["TF_CLEANUP_PROJECT"] for entry in example["parallel"]["matrix"]]
    assert len(projects) == len(set(projects)) >= 2
    # resource_group names the matrix variable, so each entry locks its own project
    assert "$TF_CLEANUP_PROJECT" in resolve_job(config, ".tf-cleanup")["resource_group"]


def test_component_renders_to_the_same_jobs(config: dict[str, Any]) -> None:
    rendered = render_component()
    defaults = {name: spec["value"] for name, spec in config["variables"].items()}
    for name in ("tf-cleanup", "tf-cleanup-check"):
        from_component = resolve_job(rendered, name)
        assert from_component.pop("variables") == defaults
        assert from_component == resolve_job(config, name)
    custom = render_component({"project": "mylab", "stage": "cleanup"})
    assert resolve_job(custom, "tf-cleanup")["variables"]["TF_CLEANUP_PROJECT"] == "mylab"
    assert resolve_job(custom, "tf-cleanup")["stage"] == "cleanup"


def test_project_pipeline_lints_the_templates() -> None:
    ci = load(PROJECT_CI)
    job = ci["template-lint"]
    assert job["stage"] == "check"
    script = "\n".join(job["script"])
    assert "check-jsonschema" in script and "--builtin-schema vendor.gitlab-ci" in script
    assert "templates/tf-cleanup.gitlab-ci.yml" in script
    assert "templates/tf-cleanup/template.yml" in script
    assert "How a Kubespray-style project would run the cleanup" not in PROJECT_CI.read_text()


def test_readme_documents_the_template() -> None:
    readme = (TEMPLATE.parents[1] / "README.md").read_text()
    section = readme[readme.index("## Use in GitLab CI\n"):]
    assert readme.index("### Exit codes") < readme.index("## Use in GitLab CI\n") < readme.index("## How it decides")
    section = section[:section.index("\n## ", 1)]
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section, flags=re.DOTALL)]
    state = next(block for block in blocks if "tf-elastx_apply" in block)
    assert state == yaml.safe_load(commented_block(TEMPLATE.read_text(), "tf-elastx_apply:"))
    for name in load(TEMPLATE)["variables"]:
        assert f"`{name}`" in section
