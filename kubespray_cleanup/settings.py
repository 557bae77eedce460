"""One settings object per run, built once from the command line (or by a caller such as the demo or the bench)
and handed to the engine whole, instead of two dozen keyword arguments passed from layer to layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from kubespray_cleanup.config import Profile, get_profile
from kubespray_cleanup.executor import ExecutorOptions
from kubespray_cleanup.sources.gitlab_jobs import GitLabConfig, gitlab_config

DEFAULT_LOCK_TIMEOUT = timedelta(minutes=10)


@dataclass(frozen=True)
class Settings:
    """Everything one cleanup run needs; defaults are the documented CLI defaults."""

    profile: Profile
    cloud: str | None = None  # --cloud; None = resolve (sources.credentials)
    # sources
    state_paths: tuple[str, ...] = ()
    tf_dirs: tuple[str, ...] = ()
    terraform_bin: str | None = None
    backend_config: dict[str, str] = field(default_factory=dict)
    ignore_unreadable_state: bool = False
    # ownership
    min_age: timedelta | None = None  # None = the profile's
    state_max_age: timedelta | None = None
    live_owners: frozenset[str] = frozenset()
    gitlab: GitLabConfig | None = None  # job status as liveness; None: age decides
    gitlab_states: bool = False  # read the project's GitLab-managed Terraform states
    purge: bool = False  # after the cleanup, delete GitLab-managed states whose resources are all gone
    force: bool = False  # --purge also states whose cloud project this run cannot check
    # what to do and how to show it
    dry_run: bool = False
    yes: bool = False
    detailed_exitcode: bool = False
    output: str = "text"
    verbose: bool = False
    report_path: Path | None = None
    junit_path: Path | None = None
    audit_log_path: Path | None = None
    log_file: Path | None = None
    graph_export: tuple[str, str] | None = None
    journal_path: Path | None = None
    progress: bool | None = None  # None = on a terminal outside CI
    # one run per cloud project
    lock_dir: Path | None = None  # None = the user's state dir
    lock_timeout: timedelta = DEFAULT_LOCK_TIMEOUT
    use_lock: bool = True
    # execution bounds
    executor: ExecutorOptions = field(default_factory=ExecutorOptions)
    extra_report: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_min_age(self) -> timedelta:
        return self.min_age if self.min_age is not None else self.profile.min_age

    @property
    def effective_state_max_age(self) -> timedelta:
        return self.state_max_age if self.state_max_age is not None else self.profile.state_max_age


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def from_options(opts: dict[str, Any]) -> Settings:
    """The CLI's parsed options -> Settings (the profile is loaded here: a bad config fails before anything runs)."""
    profile = get_profile(opts["profile_name"], opts.get("config_path"))
    return Settings(
        profile=profile,
        cloud=opts.get("cloud") or None,
        state_paths=tuple(opts.get("state_paths") or ()),
        tf_dirs=tuple(opts.get("tf_dirs") or ()),
        terraform_bin=opts.get("terraform_bin"),
        backend_config=dict(opts.get("backend_config") or {}),
        ignore_unreadable_state=bool(opts.get("ignore_unreadable_state")),
        min_age=opts.get("min_age"),
        state_max_age=opts.get("state_max_age"),
        live_owners=frozenset(opts.get("live_owners") or ()),
        gitlab=gitlab_config(url=opts.get("gitlab_url"), project=opts.get("gitlab_project"),
                             token_file=opts.get("gitlab_token_file"), profile=profile.gitlab),
        gitlab_states=bool(opts.get("gitlab_states") or opts.get("purge")),
        purge=bool(opts.get("purge")),
        force=bool(opts.get("force")),
        dry_run=bool(opts.get("dry_run")),
        yes=bool(opts.get("yes")),
        detailed_exitcode=bool(opts.get("detailed_exitcode")),
        output=str(opts.get("output") or "text"),
        verbose=bool(opts.get("verbose")),
        report_path=_path(opts.get("report_path")),
        junit_path=_path(opts.get("junit_path")),
        audit_log_path=_path(opts.get("audit_log_path")),
        log_file=_path(opts.get("log_file")),
        graph_export=opts.get("graph_export"),
        journal_path=_path(opts.get("journal_path")),
        progress=opts.get("progress"),
        lock_dir=_path(opts.get("lock_dir")),
        lock_timeout=opts.get("lock_timeout") or DEFAULT_LOCK_TIMEOUT,
        use_lock=not opts.get("no_lock"),
        executor=ExecutorOptions(max_parallel=int(opts.get("max_parallel") or 16),
                                 run_timeout=float(opts.get("timeout") or 3600),
                                 resource_timeout=float(opts.get("resource_timeout") or 600),
                                 poll_interval=float(opts.get("poll_interval") or 1.0)),
    )


@dataclass(frozen=True)
class CheckSettings:
    """``tf-cleanup check``: the cleanup's settings (ownership, sources, lock) plus what the check adds."""

    cleanup: Settings
    shape_path: str | None = None  # --shape FILE
    fix: bool = False  # run the cleanup first, then check
    output: str = "text"
    junit_path: Path | None = None
    detailed_exitcode: bool = False  # a fit project with leftovers exits 2
    environ: dict[str, str] = field(default_factory=dict)  # the apply job's environment (TF_VAR_*, CI_JOB_ID)


def check_from_options(opts: dict[str, Any], environ: dict[str, str]) -> CheckSettings:
    """The ``check`` command's options -> CheckSettings; the cleanup part as ``clean`` builds it. ``--fix`` is the
    consent to delete (as ``--yes``); without it the embedded cleanup settings are a dry run."""
    fix = bool(opts.get("fix"))
    cleanup = from_options({**opts, "dry_run": not fix, "yes": fix, "detailed_exitcode": False,
                            "output": "text", "junit_path": None, "report_path": None})
    return CheckSettings(cleanup=cleanup, shape_path=opts.get("shape_path"), fix=fix,
                         output=str(opts.get("output") or "text"), junit_path=_path(opts.get("junit_path")),
                         detailed_exitcode=bool(opts.get("detailed_exitcode")), environ=dict(environ))
