"""The main job behind ``tf-cleanup --project NAME``: settings from options, then plan, confirm, execute, report."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import structlog

from kubespray_cleanup import junit, logs, report
from kubespray_cleanup.audit import AuditLog
from kubespray_cleanup.cleanup import (
    exit_code_for,
    gather_states,
    has_actions,
    plan_run,
    purge_states,
    purge_without_cloud,
)
from kubespray_cleanup.errors import CloudError, ConfigError, ExitCode, Interrupted, UsageError
from kubespray_cleanup.executor import Executor, Outcome
from kubespray_cleanup.graph import to_dot, to_mermaid
from kubespray_cleanup.journal import Journal, read_previous
from kubespray_cleanup.journal import default_path as default_journal_path
from kubespray_cleanup.lock import RunLock
from kubespray_cleanup.lock import default_dir as default_lock_dir
from kubespray_cleanup.planner import ACTIONS, Plan
from kubespray_cleanup.progress import ProgressDisplay
from kubespray_cleanup.settings import Settings
from kubespray_cleanup.sources.credentials import connect, resolve
from kubespray_cleanup.sources.gitlab_lock import GitLabLockUnavailable, GitLabRunLock

log = structlog.get_logger("tf-cleanup")


def run_cleanup(settings: Settings) -> ExitCode:
    """Plan, confirm, execute and report one cleanup; the exit code says how it ended (README "Exit codes")."""
    mode = logs.pick_mode()
    logs.configure(mode, verbose=settings.verbose, log_file=settings.log_file)
    progress = (settings.progress if settings.progress is not None else mode == logs.TTY) and settings.output == "text"
    with contextlib.ExitStack() as held:
        with _on_signals(_interrupt_before_deleting), _display(progress) as display:
            if display is not None:
                display.planning()
            states, warnings = gather_states(settings)  # fails closed before the cloud is touched
            try:
                choice = resolve(settings.cloud, settings.profile.cloud)
                log.info("credentials_chosen", source=choice.source, cloud=choice.cloud or "-")
                conn = connect(choice)
            except (CloudError, ConfigError) as exc:
                if not (settings.purge and settings.force):
                    raise
                return _purge_only(settings, states, exc)
            held.callback(conn.close)
            if settings.use_lock and not settings.dry_run:
                held.enter_context(_run_lock(settings, str(conn.current_project_id)))
            plan = plan_run(conn, settings, states, warnings)
            if display is not None:
                display.planned(len(plan.order()), sum(1 for e in plan.entries.values() if e.decision not in ACTIONS))
        return _act_on_plan(conn, plan, settings, progress, states)


@contextlib.contextmanager
def _run_lock(settings: Settings, project_id: str) -> Iterator[None]:
    """The project's run lock: GitLab's state lock when GitLab is configured (runners on different machines
    exclude each other), else, or when GitLab cannot lock, the file lock in --lock-dir."""
    timeout = settings.lock_timeout.total_seconds()
    if settings.gitlab is not None:

        remote = GitLabRunLock(settings.gitlab, project_id, timeout=timeout)
        try:
            remote.acquire()
        except GitLabLockUnavailable as exc:
            log.warning("gitlab_lock_unavailable", reason=str(exc), fallback="file lock")
        else:
            try:
                yield
            finally:
                remote.release()
            return
    with RunLock(settings.lock_dir or default_lock_dir(), project_id, settings.profile.name, timeout):
        yield


def _purge_only(settings: Settings, states: list[Any], error: Exception) -> ExitCode:
    """``--purge --force`` with the cloud gone: purge what GitLab alone can decide, say so, exit as unreachable."""
    log.warning("cloud_unreachable_purging_anyway", reason=str(error))
    decisions = purge_without_cloud(settings, states, str(error))
    if settings.output == "json":
        click.echo(report.dumps({"error": str(error), "purge": [d.to_dict() for d in decisions]}), nl=False)
    else:
        click.echo(f"The cloud cannot be used ({error}); nothing was deleted from it.")
        click.echo(report.purge_text(decisions), nl=False)
    if settings.report_path:
        settings.report_path.parent.mkdir(parents=True, exist_ok=True)
        settings.report_path.write_text(report.dumps({"error": str(error),
                                                      "purge": [d.to_dict() for d in decisions]}))
    return ExitCode.CLOUD if isinstance(error, CloudError) else ExitCode.USAGE


def _purge(conn: Any, plan: Plan, settings: Settings, states: list[Any], result: Any) -> list[Any] | None:
    """After the run (or instead of it, in a dry run): the GitLab-managed states whose resources are all gone."""
    if not settings.purge:
        return None

    return purge_states(conn, settings, plan, states, result)


def _render_purges(purges: list[Any] | None, settings: Settings) -> None:
    if purges and settings.output == "text":
        click.echo("\n" + report.purge_text(purges), nl=False)


def _act_on_plan(conn: Any, plan: Plan, settings: Settings, progress: bool, states: list[Any]) -> ExitCode:
    journal = settings.journal_path or default_journal_path(settings.profile.name)
    _explain_previous_run(journal, plan, settings.output)
    _render_plan(plan, settings.output, settings.verbose)
    if settings.graph_export:
        _export_graph(plan, *settings.graph_export)
    if settings.dry_run or not has_actions(plan):
        purges = _purge(conn, plan, settings, states, None)
        if settings.output == "json":
            click.echo(report.dumps(report.report_document(plan, None, settings.extra_report, purges)), nl=False)
        _render_purges(purges, settings)
        _write_reports(settings, plan, None, purges)
        return exit_code_for(plan, None, detailed=settings.detailed_exitcode and settings.dry_run)
    if not (settings.yes or os.environ.get("CI")):
        if not stdin_is_terminal():
            raise UsageError("refusing to delete without confirmation: pass --yes (or set CI) when stdin is "
                             "not a terminal")
        if not click.confirm(f"Delete or detach {len(plan.order())} resources?", default=False, err=True):
            click.echo("tf-cleanup: nothing changed.", err=True)
            return ExitCode.INTERRUPTED
    audit = AuditLog(settings.audit_log_path, plan.project_id) if settings.audit_log_path else None
    try:
        if audit is not None:
            audit.attach(conn)
        result = _execute_with_signals(conn, plan, settings, journal, progress)
    finally:
        if audit is not None:
            audit.close()
            log.info("audit_log_written", path=str(settings.audit_log_path), lines=audit.lines)
    purges = _purge(conn, plan, settings, states, result)
    _render_result(plan, result, settings, purges)
    _render_purges(purges, settings)
    _write_reports(settings, plan, result, purges)
    return exit_code_for(plan, result)


@contextlib.contextmanager
def _display(enabled: bool) -> Iterator[ProgressDisplay | None]:
    if not enabled:
        yield None
        return

    with ProgressDisplay() as display:
        yield display


def stdin_is_terminal() -> bool:
    """Whether a person can answer the confirmation prompt."""
    return sys.stdin.isatty()


@contextlib.contextmanager
def _on_signals(action: Callable[[], None]) -> Iterator[None]:
    """Run ``action`` on SIGINT/SIGTERM inside the block (main thread only); restore the old handlers after.

    The handler does nothing but ``action``: it runs between two bytecodes of the main thread, which may be
    holding the log stream's lock, so logging from here could deadlock. The caller logs afterwards.
    """
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        def on_signal(signum: int, frame: Any) -> None:
            action()
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[int(sig)] = signal.signal(sig, on_signal)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _interrupt_before_deleting() -> None:
    raise Interrupted("interrupted before anything was deleted")


def _execute_with_signals(conn: Any, plan: Plan, settings: Settings, journal_path: Path, progress: bool) -> Any:
    journal = Journal(journal_path)
    journal.start(plan)
    with _display(progress) as display:
        def on_progress(outcome: Outcome) -> None:
            journal.record(outcome)
            if display is not None:
                display.advance(outcome)

        executor = Executor(conn, plan, settings.executor, on_progress=on_progress)
        if display is not None:
            display.deleting(executor.graph.number_of_nodes(), executor.slowest_waits)
        with _on_signals(executor.stop):
            result = executor.run()
    if result.interrupted:
        log.warning("run_interrupted", remaining=len(result.with_status("interrupted")))
    journal.finish(result.interrupted)
    return result


def _explain_previous_run(path: Path, plan: Plan, output: str) -> None:
    previous = read_previous(path, plan)
    if previous is None:
        return
    log.warning("previous_run_unfinished", journal=str(path), planned=previous.planned, finished=previous.finished,
                gone_since=previous.gone_since, planned_again=previous.planned_again)
    if output == "text":
        click.echo(f"Note: {previous.summary()}.")


def _render_plan(plan: Plan, output: str, verbose: bool) -> None:
    if output == "json":
        return  # JSON goes out once, with the result, in _render_result / _act_on_plan
    click.echo(report.plan_text(plan, verbose=verbose), nl=False)


def _render_result(plan: Plan, result: Any, settings: Settings, purges: list[Any] | None) -> None:
    if settings.output == "json":
        click.echo(report.dumps(report.report_document(plan, result, settings.extra_report, purges)), nl=False)
    else:
        click.echo("\n" + report.summary_text(plan, result), nl=False)


def _write_reports(settings: Settings, plan: Plan, result: Any, purges: list[Any] | None = None) -> None:
    """The JSON report and the JUnit file, for a dry run as for a real one."""
    if settings.report_path:
        settings.report_path.parent.mkdir(parents=True, exist_ok=True)
        settings.report_path.write_text(report.dumps(report.report_document(plan, result, settings.extra_report,
                                                                            purges)))
    if settings.junit_path:

        junit.write(settings.junit_path, plan, result, dry_run=result is None and settings.dry_run)


def _export_graph(plan: Any, fmt: str, path: str) -> None:
    labels = {k: f"{e.resource.label}\\n{e.decision}" if fmt == "dot" else f"{e.resource.label} [{e.decision}]"
              for k, e in plan.entries.items()}
    colours = {"delete": "#ffdddd", "detach": "#ffffcc", "keep": "#ddffdd", "protected": "#ddddff",
               "blocked": "#eeeeee"}
    if fmt == "dot":
        text = to_dot(plan.graph, labels, {k: colours[e.decision] for k, e in plan.entries.items()})
    else:
        text = to_mermaid(plan.graph, labels, {k: e.decision for k, e in plan.entries.items()})
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)
