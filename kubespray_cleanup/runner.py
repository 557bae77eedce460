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

from kubespray_cleanup import logs
from kubespray_cleanup.errors import ExitCode, Interrupted, UsageError
from kubespray_cleanup.journal import Journal, read_previous
from kubespray_cleanup.journal import default_path as default_journal_path

log = structlog.get_logger("tf-cleanup")


def run_cleanup(*, profile_name: str, cloud: str | None, config_path: str | None, state_paths: tuple[str, ...],
                tf_dirs: tuple[str, ...], terraform_bin: str | None, backend_config: dict[str, str],
                min_age: Any, state_max_age: Any, live_owners: tuple[str, ...], dry_run: bool, yes: bool,
                output: str, report_path: str | None, graph_export: tuple[str, str] | None, max_parallel: int,
                timeout: float, resource_timeout: float, poll_interval: float, ignore_unreadable_state: bool,
                verbose: bool, journal_path: str | None = None,
                extra_report: dict[str, Any] | None = None) -> ExitCode:
    from kubespray_cleanup.cleanup import RunSettings, exit_code_for, gather_states, plan_run
    from kubespray_cleanup.config import get_profile
    from kubespray_cleanup.executor import ExecutorOptions

    logs.configure(json_lines=bool(os.environ.get("CI")) or not sys.stderr.isatty(), verbose=verbose)
    profile = get_profile(profile_name, config_path)
    settings = RunSettings(
        profile=profile,
        cloud=cloud or os.environ.get("OS_CLOUD") or profile.cloud,
        state_paths=list(state_paths), tf_dirs=list(tf_dirs), terraform_bin=terraform_bin,
        backend_config=backend_config, min_age=min_age, state_max_age=state_max_age,
        live_owners=frozenset(live_owners), ignore_unreadable_state=ignore_unreadable_state,
        executor=ExecutorOptions(max_parallel=max_parallel, run_timeout=timeout, resource_timeout=resource_timeout,
                                 poll_interval=poll_interval),
    )
    with _on_signals(_interrupt_before_deleting):
        states, warnings = gather_states(settings)  # fails closed before the cloud is touched
        from kubespray_cleanup.sources.inventory import connect

        conn = connect(settings.cloud)
        plan = plan_run(conn, settings, states, warnings)
    journal = Path(journal_path) if journal_path else default_journal_path(profile.name)
    _explain_previous_run(journal, plan, output)
    _render_plan(plan, output, verbose)
    if graph_export:
        _export_graph(plan, *graph_export)
    code = exit_code_for(plan, None)
    if dry_run or code == ExitCode.NOTHING_TO_DO:
        if output == "json":
            from kubespray_cleanup import report

            click.echo(report.dumps(report.report_document(plan, None)), nl=False)
        _write_report(report_path, plan, None, extra_report)
        return code
    if not (yes or os.environ.get("CI")):
        if not stdin_is_terminal():
            raise UsageError("refusing to delete without confirmation: pass --yes (or set CI) when stdin is "
                             "not a terminal")
        if not click.confirm(f"Delete or detach {len(plan.order())} resources?", default=False, err=True):
            click.echo("tf-cleanup: nothing changed.", err=True)
            return ExitCode.INTERRUPTED
    result = _execute_with_signals(conn, plan, settings, journal)
    _render_result(plan, result, output)
    _write_report(report_path, plan, result, extra_report)
    return exit_code_for(plan, result)


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


def _execute_with_signals(conn: Any, plan: Any, settings: Any, journal_path: Path) -> Any:
    from kubespray_cleanup.executor import Executor

    journal = Journal(journal_path)
    journal.start(plan)
    executor = Executor(conn, plan, settings.executor, on_progress=journal.record)
    with _on_signals(executor.stop):
        result = executor.run()
    if result.interrupted:
        log.warning("run_interrupted", remaining=len(result.with_status("interrupted")))
    journal.finish(result.interrupted)
    return result


def _explain_previous_run(path: Path, plan: Any, output: str) -> None:
    previous = read_previous(path, plan)
    if previous is None:
        return
    log.warning("previous_run_unfinished", journal=str(path), planned=previous.planned, finished=previous.finished,
                gone_since=previous.gone_since, planned_again=previous.planned_again)
    if output == "text":
        click.echo(f"Note: {previous.summary()}.")


def _render_plan(plan: Any, output: str, verbose: bool) -> None:
    from kubespray_cleanup import report

    if output == "json":
        return  # JSON goes out once, with the result, in _render_result / _write_report
    click.echo(report.plan_text(plan, verbose=verbose), nl=False)


def _render_result(plan: Any, result: Any, output: str) -> None:
    from kubespray_cleanup import report

    if output == "json":
        click.echo(report.dumps(report.report_document(plan, result)), nl=False)
    else:
        click.echo("\n" + report.summary_text(plan, result), nl=False)


def _write_report(path: str | None, plan: Any, result: Any, extra: dict[str, Any] | None) -> None:
    from kubespray_cleanup import report

    if result is None and not path:
        return
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(report.dumps(report.report_document(plan, result, extra)))


def _export_graph(plan: Any, fmt: str, path: str) -> None:
    from kubespray_cleanup.graph import to_dot, to_mermaid

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
