"""The template, the component and this project's own pipeline pass GitLab's CI schema, offline.

The schema accepts anything under a hidden key (``.tf-cleanup``), and the template's concrete jobs only
``extends:`` them, so each file is also linted in its resolved form (every job merged with what it extends).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.template.conftest import (
    COMPONENT,
    PROJECT_CI,
    TEMPLATE,
    commented_block,
    component_documents,
    lint,
    load,
    render_component,
    resolved_config,
)


def _assert_valid(*files: Path) -> None:
    result = lint(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok -- validation done" in result.stdout


def _resolved_file(config: dict[str, object], path: Path) -> Path:
    path.write_text(yaml.safe_dump(resolved_config(config), sort_keys=False))
    return path


def test_template_passes_gitlab_ci_schema(tmp_path: Path) -> None:
    _assert_valid(TEMPLATE, _resolved_file(load(TEMPLATE), tmp_path / "resolved.yml"))


def test_project_pipeline_passes_gitlab_ci_schema(tmp_path: Path) -> None:
    _assert_valid(PROJECT_CI, _resolved_file(load(PROJECT_CI), tmp_path / "resolved.yml"))


def test_component_passes_gitlab_ci_schema(tmp_path: Path) -> None:
    # GitLab reads the spec header and the jobs as two documents; the linter takes one document per file.
    header, body = component_documents()
    (tmp_path / "header.yml").write_text(header)
    (tmp_path / "body.yml").write_text(body)
    rendered = _resolved_file(render_component(), tmp_path / "rendered.yml")
    _assert_valid(tmp_path / "header.yml", tmp_path / "body.yml", rendered)
    assert COMPONENT.exists()


def test_commented_examples_are_valid_jobs(tmp_path: Path) -> None:
    text = TEMPLATE.read_text()
    for name, first_line in [("matrix", "tf-cleanup:"), ("state", "tf-elastx_apply:")]:
        # The examples extend the template's hidden job: lint them in the template, in place of its own job.
        config = load(TEMPLATE)
        del config["tf-cleanup"]
        config.update(yaml.safe_load(commented_block(text, first_line)))
        raw = tmp_path / f"{name}.yml"
        raw.write_text(yaml.safe_dump(config, sort_keys=False))
        _assert_valid(raw, _resolved_file(config, tmp_path / f"{name}-resolved.yml"))


def test_linter_rejects_a_broken_template(tmp_path: Path) -> None:
    config = load(TEMPLATE)
    config[".tf-cleanup"]["interruptible"] = "no-thanks"
    result = lint(_resolved_file(config, tmp_path / "broken.yml"))
    assert result.returncode != 0
    assert "interruptible" in result.stdout + result.stderr
