"""Many OpenStack projects from one pipeline: the template's ``parallel:matrix`` example, expanded as GitLab does."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import yaml

from kubespray_cleanup.lock import RunLock
from tests.template.conftest import TEMPLATE, commented_block, lint, load, resolve_job


def expand_matrix(name: str, job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """GitLab's expansion: one job per combination of each matrix entry's values, named ``name: [v1, v2]``."""
    jobs: dict[str, dict[str, Any]] = {}
    base = {k: v for k, v in job.items() if k != "parallel"}
    for entry in job["parallel"]["matrix"]:
        keys = list(entry)
        for values in itertools.product(*[v if isinstance(v, list) else [v] for v in entry.values()]):
            concrete = dict(base)
            concrete["variables"] = {**base.get("variables", {}), **dict(zip(keys, values, strict=True))}
            jobs[f"{name}: [{', '.join(map(str, values))}]"] = concrete
    return jobs


def expand_variables(text: str, variables: dict[str, Any]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: str(variables.get(m.group(1), m.group(0))), text)


def matrix_jobs() -> dict[str, dict[str, Any]]:
    config = load(TEMPLATE)
    config.update(yaml.safe_load(commented_block(TEMPLATE.read_text(), "tf-cleanup:")))
    return expand_matrix("tf-cleanup", resolve_job(config, "tf-cleanup"))


def test_matrix_expands_to_one_job_per_profile_each_in_its_own_resource_group() -> None:
    """Each job cleans one profile (--project once, from its own matrix variable) in openstack-<profile>."""
    jobs = matrix_jobs()
    profiles = [job["variables"]["TF_CLEANUP_PROJECT"] for job in jobs.values()]
    assert len(jobs) == len(set(profiles)) >= 2
    groups = {expand_variables(job["resource_group"], job["variables"]) for job in jobs.values()}
    assert groups == {f"openstack-{p}" for p in profiles}
    for job in jobs.values():
        (clean,) = [line for line in job["script"] if line.startswith("tf-cleanup clean")]
        assert clean.count("--project") == 1 and '--project "$TF_CLEANUP_PROJECT"' in clean
        assert job["variables"]["OS_CLOUD"] == job["variables"]["TF_CLEANUP_PROJECT"]


def test_matrix_jobs_hold_separate_run_locks_at_the_same_time(tmp_path: Path) -> None:
    """Two profiles' runs on one runner do not wait for each other: the run lock is keyed by the cloud project."""
    profiles = [job["variables"]["TF_CLEANUP_PROJECT"] for job in matrix_jobs().values()]
    locks = [RunLock(tmp_path, f"id-of-{p}", p, timeout=0.0) for p in profiles]
    for lock in locks:
        lock.acquire()
    try:
        assert len({lock.path for lock in locks}) == len(profiles)
    finally:
        for lock in locks:
            lock.release()


def test_expanded_matrix_jobs_pass_the_gitlab_ci_schema(tmp_path: Path) -> None:
    """The concrete jobs GitLab would run (no hidden bases left) are valid pipeline jobs."""
    config: dict[str, Any] = {"variables": load(TEMPLATE)["variables"], **matrix_jobs()}
    rendered = tmp_path / "matrix.yml"
    rendered.write_text(yaml.safe_dump(config, sort_keys=False))
    result = lint(rendered)
    assert result.returncode == 0, result.stdout + result.stderr
