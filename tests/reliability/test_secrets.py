"""Secrets never leak: every output and report of the suite's representative commands is grepped.

Commands: dry run (text and JSON, also as a subprocess with real stdout/stderr), verbose cleanup with a
report file and a graph, wrong password, application credential (good and wrong secret), an
unreadable state, a working dir through a stand-in terraform binary given the job token as backend
password (pulling, and failing), and ``tf-cleanup demo``. The secrets: every clouds.yaml password,
every token the simulator issued, the application-credential secret, and a fake ``CI_JOB_TOKEN``
exported to every command. Keystone token ids (64 hex digits) must not appear in any form.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kubespray_cleanup.cli import main
from kubespray_cleanup.errors import ExitCode
from kubespray_cleanup.simulator.store import AppCredential
from tests.reliability.conftest import WorldStage

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # openstacksdk's own

JOB_TOKEN = "glcbt-64_fakeJobTokenQ7vX2mK9pL4wZ8"
APP_SECRET = "appcred-S3cr3t-9fK2mQ7xV1"
WRONG_PASSWORD = "wrong-Pa55word-7Hq"
WRONG_SECRET = "appcred-Wr0ng-4Lp8"
TOKEN_LIKE = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")

FAKE_TERRAFORM = """#!/bin/sh
# A stand-in terraform: init, workspace list/select, state pull; FAKE_TF_FAIL=init makes init fail.
cmd="$*"
case "$cmd" in
  *init*) if [ "$FAKE_TF_FAIL" = "init" ]; then
            echo 'Error: Failed to get existing workspaces: HTTP remote state endpoint requires auth' >&2; exit 1
          fi; echo 'Terraform has been successfully initialized!';;
  *"workspace list"*) echo '* default';;
  *"workspace select"*) ;;
  *"state pull"*) cat "$FAKE_TF_STATE";;
  *) echo "Error: unexpected command" >&2; exit 1;;
esac
"""


def _clouds_with_secrets(stage: WorldStage) -> dict[str, str]:
    """Add an application-credential cloud and clouds with wrong secrets; return cloud name -> its secret."""
    store = stage.sim.store
    user = store.user_by_name("elastx-ci")
    assert user is not None
    cred = AppCredential(id=uuid.uuid4().hex, name="ci-cleanup", secret=APP_SECRET, user_id=user.id,
                         project_id=stage.world.projects["elastx"], roles=["member"])
    store.app_credentials[cred.id] = cred
    doc = yaml.safe_load(stage.clouds.read_text())
    base = doc["clouds"]["elastx"]
    appcred: dict[str, Any] = {
        "auth_type": "v3applicationcredential", "region_name": "RegionOne", "identity_api_version": 3,
        "auth": {"auth_url": base["auth"]["auth_url"], "application_credential_id": cred.id,
                 "application_credential_secret": APP_SECRET}}
    doc["clouds"]["elastx-appcred"] = appcred
    doc["clouds"]["elastx-wrongcred"] = {**appcred, "auth": {**appcred["auth"],
                                                             "application_credential_secret": WRONG_SECRET}}
    doc["clouds"]["elastx-wrongpass"] = {**base, "auth": {**base["auth"], "password": WRONG_PASSWORD}}
    stage.clouds.write_text(yaml.safe_dump(doc))
    secrets = {name: c["auth"].get("password") or c["auth"].get("application_credential_secret")
               for name, c in doc["clouds"].items()}
    return {k: str(v) for k, v in secrets.items() if v}


def _fake_terraform(stage: WorldStage) -> Path:
    binary = stage.tmp / "bin" / "terraform"
    binary.parent.mkdir(parents=True, exist_ok=True)
    binary.write_text(FAKE_TERRAFORM)
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    (stage.tmp / "tfdir").mkdir(exist_ok=True)
    return binary


def test_no_secret_appears_in_any_output_or_report(world_stage: Callable[..., WorldStage],
                                                   record_figures: Callable[..., None]) -> None:
    """Passwords, tokens, the application-credential secret and CI_JOB_TOKEN appear in no output, report or file."""
    stage = world_stage("demo")
    secrets = _clouds_with_secrets(stage)
    texts: dict[str, str] = {}
    env = {"CI_JOB_TOKEN": JOB_TOKEN}
    states = str(stage.states)

    def cli(name: str, *args: str, expect: int, extra_env: dict[str, str] | None = None) -> None:
        result = stage.run(*args, env={**env, **(extra_env or {})})
        texts[name] = result.output
        assert result.exit_code == expect, f"{name}: {result.output[-2000:]}"
        assert "Traceback" not in result.output, name

    cli("dry-run", "--project", "elastx", "--state", states, "--dry-run", "-v", expect=ExitCode.CLEAN)
    cli("dry-run-json", "--project", "elastx", "--state", states, "--dry-run", "--output", "json",
        expect=ExitCode.CLEAN)
    cli("wrong-password", "--project", "elastx", "--cloud", "elastx-wrongpass", "--state", states, "-v",
        expect=ExitCode.CLOUD)
    cli("appcred-dry-run", "--project", "elastx", "--cloud", "elastx-appcred", "--state", states, "--dry-run",
        "--output", "json", "-v", expect=ExitCode.CLEAN)
    cli("wrong-appcred", "--project", "elastx", "--cloud", "elastx-wrongcred", "--state", states, "-v",
        expect=ExitCode.CLOUD)
    cli("bad-state", "--project", "elastx", "--state", str(stage.tmp / "nowhere.tfstate"), "-v",
        expect=ExitCode.STATE)
    binary = _fake_terraform(stage)
    tf_env = {"FAKE_TF_STATE": str(stage.states / "4709" / "terraform.tfstate")}
    tf_args = ("--project", "elastx", "--tf-dir", str(stage.tmp / "tfdir"), "--terraform-bin", str(binary),
               "--backend-config", f"password={JOB_TOKEN}", "--backend-config", "username=gitlab-ci-token", "-v")
    cli("tf-dir", *tf_args, "--state", states, "--dry-run", expect=ExitCode.CLEAN, extra_env=tf_env)
    cli("tf-dir-failing", *tf_args, expect=ExitCode.STATE, extra_env={**tf_env, "FAKE_TF_FAIL": "init"})
    assert "workspace default in" in texts["tf-dir"]
    assert "Failed to get existing workspaces" in texts["tf-dir-failing"]
    proc = subprocess.run(
        [sys.executable, "-m", "kubespray_cleanup", "--project", "elastx", "--state", states, "--dry-run", "-v"],
        env={**os.environ, **stage.env(**env)}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == ExitCode.CLEAN, proc.stderr[-2000:]
    texts["subprocess-stdout"], texts["subprocess-stderr"] = proc.stdout, proc.stderr
    report, graph = stage.tmp / "out" / "report.json", stage.tmp / "out" / "graph.dot"
    cli("cleanup", "--project", "elastx", "--state", states, "--yes", "-v", "--poll-interval", "0.02",
        "--report", str(report), "--graph", "dot", str(graph), expect=ExitCode.CLEAN)
    texts["report.json"], texts["graph.dot"] = report.read_text(), graph.read_text()
    for output in ("text", "json"):
        demo = CliRunner().invoke(main, ["demo", "--time-scale", "200", "--latency", "fast", "--output", output],
                                  env={"CI": "true", "CI_JOB_TOKEN": JOB_TOKEN}, catch_exceptions=False)
        assert demo.exit_code == ExitCode.CLEAN, demo.output[-2000:]
        texts[f"demo-{output}"] = demo.output

    tokens = set(stage.sim.store.tokens)
    assert len(tokens) >= 5
    needles = {**{f"password of cloud {k}": v for k, v in secrets.items()}, "CI_JOB_TOKEN": JOB_TOKEN,
               "wrong password": WRONG_PASSWORD, "wrong secret": WRONG_SECRET, "app secret": APP_SECRET,
               **{f"token {t[:8]}": t for t in tokens}}
    leaks = [f"{what} in {where}" for where, text in texts.items() for what, value in needles.items()
             if value in text]
    leaks += [f"a 64-hex token in {where}" for where, text in texts.items() if TOKEN_LIKE.search(text)]
    record_figures(outputs_grepped=len(texts), secrets_checked=len(needles), output_bytes=sum(map(len, texts.values())))
    assert leaks == []
