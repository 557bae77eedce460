"""The job behind ``tf-cleanup check``: read states, connect, plan (dry), then every check; ``--fix`` runs the
cleanup first through the same runner as ``clean`` (run lock included) and checks afterwards."""

from __future__ import annotations

import contextlib
import string
import sys
import time
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from kubespray_cleanup import logs
from kubespray_cleanup.check import endpoints, leftovers, locks, names, needs, quota, shape, usage
from kubespray_cleanup.check.findings import Finding, exit_code
from kubespray_cleanup.check.probe import Prober, get_json
from kubespray_cleanup.cleanup import gather_states, plan_run
from kubespray_cleanup.errors import ExitCode, Interrupted, LockHeld
from kubespray_cleanup.lock import default_dir as default_lock_dir
from kubespray_cleanup.planner import now_utc
from kubespray_cleanup.runner import run_cleanup
from kubespray_cleanup.settings import CheckSettings
from kubespray_cleanup.sources.credentials import connect, resolve

log = structlog.get_logger("tf-cleanup")


@dataclass
class CheckReport:
    """Everything one check found, ready to render."""

    project_id: str
    profile: str
    shape: shape.Shape
    findings: list[Finding]
    headroom: list[quota.Headroom] = field(default_factory=list)
    seconds: float = 0.0
    fix_exit: ExitCode | None = None  # how the --fix cleanup ended

    @property
    def fit(self) -> bool:
        return not any(f.blocking for f in self.findings)


def assumed_shape(settings: CheckSettings) -> shape.Shape:
    """Module defaults < profile ``cluster_shape`` < the job's TF_VAR_* < ``--shape FILE``; ``$CI_JOB_ID`` and
    other CI variables in values are expanded from the environment, unresolved ones dropped."""
    env = settings.environ
    profile = shape.checked(dict(settings.cleanup.profile.cluster_shape),
                            f"profile {settings.cleanup.profile.name}: cluster_shape")
    layers: list[tuple[str, dict[str, Any]]] = [(f"profile {settings.cleanup.profile.name}", profile),
                                                ("TF_VAR_* environment", shape.from_environ(env))]
    if settings.shape_path:
        layers.append((f"shape file {settings.shape_path}", shape.read_file(settings.shape_path)))
    if env.get("CI_JOB_ID") and not any("cluster_name" in values for _, values in layers):
        layers.append(("CI_JOB_ID", {"cluster_name": env["CI_JOB_ID"]}))
    return shape.build([(source, _expanded(values, env)) for source, values in layers])


def _expanded(values: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, str) and "$" in value:
            value = string.Template(value).safe_substitute(env)
            if "$" in value:
                continue  # names a variable this environment does not have
        out[key] = value
    return out


def run_check(settings: CheckSettings) -> tuple[CheckReport, ExitCode]:
    """Check (after the cleanup, with ``--fix``); the exit code per README "Exit codes"."""
    cleanup = settings.cleanup
    assumed = assumed_shape(settings)  # a bad shape stops before the cloud is touched
    fix_exit = _fix(settings) if settings.fix else None
    if fix_exit in (ExitCode.INTERRUPTED, ExitCode.LOCKED):
        raise_for(fix_exit)

    if not settings.fix:
        logs.configure(logs.pick_mode(), verbose=cleanup.verbose, log_file=cleanup.log_file)
    started = time.perf_counter()
    states, warnings = gather_states(cleanup)
    choice = resolve(cleanup.cloud, cleanup.profile.cloud)
    auth_started = time.perf_counter()
    conn = connect(choice)
    with contextlib.closing(conn):
        project_id = str(conn.current_project_id)
        auth_seconds = time.perf_counter() - auth_started
        plan = plan_run(conn, replace(cleanup, dry_run=True), states, warnings)
        prober = Prober()
        services = ["compute", "network", "image", *needs.services(assumed)[2:]]  # + Cinder, Octavia if used
        present = {s: endpoints.in_catalog(conn, s) for s in services}
        flavors = _flavors(conn, prober) if present["compute"] else None
        needed = needs.needs(assumed, flavors or {})
        per_service: dict[str, list[str]] = {}
        for service, name in needed:
            if present.get(service):
                per_service.setdefault(service, []).append(name)
        rows = usage.read_quotas(conn, project_id, per_service, prober)
        rooms = quota.headroom(needed, rows, leftovers.reclaimable(plan, flavors or {}))
        found = [*leftovers.findings(plan, flavors or {}), *quota.findings(
            [r for r in rooms if present.get(r.service)], prober), *names.collisions(assumed, plan),
            *(names.missing(assumed, flavors, conn, prober) if present["network"] else []),
            *locks.state_locks(states, now_utc(), cleanup.effective_state_max_age),
            locks.run_lock(cleanup.lock_dir or default_lock_dir(), project_id, cleanup.profile.name),
            *endpoints.findings(services, present, prober, auth_seconds)]
    report = CheckReport(project_id, cleanup.profile.name, assumed, found, rooms,
                         seconds=time.perf_counter() - started, fix_exit=fix_exit)
    log.info("check_done", fit=report.fit, findings=sum(1 for f in found if f.severity != "ok"),
             seconds=round(report.seconds, 2))
    return report, exit_code(found, detailed=settings.detailed_exitcode)


def _flavors(conn: Any, prober: Prober) -> dict[str, needs.Flavor] | None:
    body = prober.call("compute", "flavors", lambda: get_json(conn.compute, "/flavors/detail"))
    if body is None:
        return None
    return {str(f.get("id")): needs.Flavor(str(f.get("id")), str(f.get("name")), int(f.get("vcpus") or 0),
                                           int(f.get("ram") or 0)) for f in body.get("flavors") or []}


def _fix(settings: CheckSettings) -> ExitCode:
    """The cleanup, exactly as ``clean --yes`` runs it; in JSON mode its own output goes to stderr."""
    with contextlib.redirect_stdout(sys.stderr) if settings.output == "json" else contextlib.nullcontext():
        code = run_cleanup(replace(settings.cleanup, dry_run=False, yes=True, output="text"))
    log.info("fix_done", exit_code=int(code))
    return code


def raise_for(code: ExitCode) -> None:
    if code is ExitCode.LOCKED:
        raise LockHeld("--fix: another cleanup of this project holds the lock")
    raise Interrupted("--fix: the cleanup was interrupted")
