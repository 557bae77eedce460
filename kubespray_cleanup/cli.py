"""The ``tf-cleanup`` command line: parse, call one core function, render. Nothing else lives here.

Each command imports the engine inside its own body: ``tf-cleanup --help`` and option errors then load click
alone (about 0.05 s) instead of openstacksdk, networkx and python-gitlab (about 1 s). These are the only lazy
imports of the engine; every other module imports at the top.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from kubespray_cleanup import __version__
from kubespray_cleanup.errors import CleanupError, ExitCode, UsageError


def abort(message: str, code: ExitCode) -> NoReturn:
    """The single error path: one line on stderr, a documented exit code."""
    click.echo(f"tf-cleanup: error: {message}", err=True)
    sys.exit(int(code))


def _duration(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from kubespray_cleanup.config import parse_duration

    try:
        return parse_duration(value, f"--{param.name.replace('_', '-') if param.name else 'value'}")
    except CleanupError as exc:
        raise click.BadParameter(str(exc).split(": ", 1)[-1]) from None


def _key_values(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, str]:
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE")
        result[key] = value
    return result


class _Group(click.Group):
    """The root command: ``clean`` is the default subcommand (bare ``tf-cleanup --project elastx`` cleans), and
    click's usage errors get our exit code instead of click's 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help", "--version")):
            args = ["clean", *args]  # options first: the default command; an unknown word stays an error
        return super().parse_args(ctx, args)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.Abort:
            abort("aborted", ExitCode.INTERRUPTED)
        except click.ClickException as exc:
            abort(exc.format_message().replace("\n", " "), ExitCode.USAGE)
        except CleanupError as exc:
            abort(str(exc), exc.exit_code)


EXIT_CODES = """\b
Exit codes: 0 nothing dangling left (deleted, or nothing to do)   1 some dangling resources could not be deleted
            2 with --detailed-exitcode: a dry run found something to do   3 bad usage, config or credentials setup
            4 cloud unreachable or credentials refused   5 state unreadable (nothing deleted)   6 interrupted
            7 another cleanup of the same cloud project holds the lock
            check: 8 not fit, but the cleanup would free what is missing   9 not fit: quota, missing flavor/image/
            network/router, name collision, stale lock or a service down (the cleanup cannot fix it)"""

CREDENTIALS = """\b
Credentials, first found wins: --cloud NAME; OS_CLOUD; the profile's cloud if a clouds.yaml defines it;
OS_* environment variables (openrc: OS_AUTH_URL, OS_USERNAME/OS_PASSWORD or OS_APPLICATION_CREDENTIAL_ID/
_SECRET, OS_PROJECT_ID or OS_PROJECT_NAME, OS_*_DOMAIN_ID/NAME), as GitLab CI jobs set them."""


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
             epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="tf-cleanup")
def main() -> None:
    """Delete leaked Kubespray CI resources from an OpenStack project, in dependency order, without conflicts.

    \b
    tf-cleanup [clean] --project NAME ...   the cleanup (the default command)
    tf-cleanup check --project NAME ...      can the project hold one more cluster? (--fix: clean, then check)
    tf-cleanup demo                          the cleanup against the bundled simulator
    tf-cleanup simulator serve               the bundled OpenStack simulator
    """


def _ownership_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command that decides what is leaked shares: profile, credentials, sources, ownership."""
    for option in reversed([
        click.option("--project", "profile_name", metavar="NAME", envvar="TF_CLEANUP_PROJECT",
                     help="Profile to run (built-in: elastx): which cloud, which resources are CI-made, what is "
                          "protected. [env TF_CLEANUP_PROJECT]"),
        click.option("--cloud", metavar="NAME", help="clouds.yaml cloud to use (see Credentials below)."),
        click.option("--config", "config_path", metavar="FILE", type=click.Path(dir_okay=False),
                     help="Config file with profiles (default: ./tf-cleanup.yaml, then the user config dir)."),
        click.option("--state", "state_paths", metavar="PATH", multiple=True,
                     help="Terraform/OpenTofu state file, directory or glob (repeatable)."),
        click.option("--tf-dir", "tf_dirs", metavar="DIR", multiple=True,
                     help="Working directory: init, every workspace, state pull (repeatable)."),
        click.option("--terraform-bin", metavar="PATH",
                     help="terraform or tofu binary (default: tofu, then terraform)."),
        click.option("--backend-config", metavar="KEY=VALUE", multiple=True, callback=_key_values,
                     help="Backend setting passed to init (repeatable)."),
        click.option("--ignore-unreadable-state", is_flag=True,
                     help="Go on when a state source cannot be read (by default nothing is deleted then)."),
        click.option("--min-age", callback=_duration, metavar="AGE",
                     help="Only delete resources older than this, with a unit: 90s, 30m, 2h, 2d (profile default 2h)."),
        click.option("--state-max-age", callback=_duration, metavar="AGE",
                     help="A state updated more recently than this belongs to a running pipeline (default 3h)."),
        click.option("--live-owner", "live_owners", metavar="JOB", multiple=True, help="Treat this pipeline as live."),
        click.option("--gitlab-url", metavar="URL",
                     help="GitLab whose job statuses decide liveness (default: CI_SERVER_URL, or the profile's)."),
        click.option("--gitlab-project", metavar="ID|PATH",
                     help="GitLab project of the CI jobs (default: CI_PROJECT_ID, or the profile's)."),
        click.option("--gitlab-token-file", metavar="FILE", type=click.Path(dir_okay=False),
                     help="File holding a read_api token (default: the GITLAB_TOKEN variable)."),
        click.option("--gitlab-states", is_flag=True,
                     help="Read the project's GitLab-managed Terraform states as a state source."),
        click.option("-v", "--verbose", is_flag=True,
                     help="Debug logs (libraries' too) and kept resources in the plan."),
    ]):
        fn = option(fn)
    return fn


def _options(*options: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A decorator applying ``options`` in the order given (as the help lists them)."""
    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn
    return apply


# Options both ``clean`` and ``check`` take, each defined once.
_OUTPUT = click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True,
                       help="Plan and summary (clean) or findings (check) format on stdout.")
_JUNIT = click.option("--junit", "junit_path", metavar="FILE", type=click.Path(dir_okay=False),
                      help="Write a JUnit XML report: clean, one testcase per action (kept resources grouped by "
                           "reason); check, one testcase per check.")
_LOG_FILE = click.option("--log-file", metavar="FILE", type=click.Path(dir_okay=False),
                         help="Append every log event as a JSON line to FILE (on a terminal, the screen shows only "
                              "progress and warnings).")
_DETAILED = click.option("--detailed-exitcode", is_flag=True,
                         help="clean --dry-run: exit 2 when there is something to delete, 0 when not; check: a fit "
                              "project that still has leftovers exits 2.")
_lock_options = _options(
    click.option("--lock-dir", metavar="DIR", type=click.Path(file_okay=False),
                 help="Where runs keep the per-project lock (default: ~/.local/state/tf-cleanup/locks); share it "
                      "between runners that clean the same project."),
    click.option("--lock-timeout", callback=_duration, metavar="AGE", default="10m", show_default=True,
                 help="How long to wait for another cleanup of the same project before exiting with code 7."),
    click.option("--no-lock", is_flag=True, help="Do not take the per-project lock (only when something else, e.g. "
                                                 "a GitLab resource_group, serialises the runs)."),
)
_execution_options = _options(
    click.option("--max-parallel", type=click.IntRange(1, 256), default=16, show_default=True,
                 help="Concurrent API calls in total."),
    click.option("--timeout", type=click.FloatRange(1), default=3600, show_default=True, metavar="SECONDS",
                 help="Whole-run timeout."),
    click.option("--resource-timeout", type=click.FloatRange(1), default=600, show_default=True, metavar="SECONDS",
                 help="How long one asynchronous delete may take."),
    click.option("--poll-interval", type=click.FloatRange(0.01), default=1.0, show_default=True, metavar="SECONDS",
                 help="How often pending asynchronous deletes are checked (one list call per kind)."),
)
_output_options = _options(
    _OUTPUT,
    click.option("--report", "report_path", metavar="FILE", type=click.Path(dir_okay=False),
                 help="Write the plan and the outcome of every action as JSON (layout: README)."),
    _JUNIT,
    _LOG_FILE,
    click.option("--progress/--no-progress", default=None,
                 help="Live progress display (default: on a terminal outside CI)."),
    _DETAILED,
)


@main.command(epilog=EXIT_CODES)
@_ownership_options
@_output_options
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation (implied when CI is set).")
@click.option("--audit-log", "audit_log_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="Append one JSON line per mutating API call (time, project, kind, id, name, operation, method, "
                   "status, request id, duration).")
@click.option("--graph", "graph_export", nargs=2, metavar="FORMAT FILE", type=(click.Choice(["dot", "mermaid"]), str),
              help="Export the dependency graph (dot or mermaid).")
@click.option("--purge", is_flag=True, help="After the cleanup, delete the GitLab-managed states whose resources are "
                                            "all gone (never a locked one, never a live job's); implies "
                                            "--gitlab-states.")
@click.option("--force", is_flag=True, help="With --purge: also purge states whose cloud project cannot be checked "
                                            "(another project, or credentials that no longer work), saying so.")
@_lock_options
@_execution_options
@click.option("--journal", "journal_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="Run journal (default: ~/.local/state/tf-cleanup/PROFILE.journal.jsonl); a rerun after a crash "
                   "reports what changed since.")
def clean(**opts: Any) -> None:
    """Delete the dangling resources of one project in dependency order (the default command).

    \b
    Logs: JSON lines on stderr when CI is set; on a terminal a progress display and warnings;
    otherwise plain key=value lines. Plans and summaries go to stdout.
    """
    if not opts["profile_name"]:
        raise UsageError("--project NAME is required (e.g. --project elastx)")
    from kubespray_cleanup.runner import run_cleanup
    from kubespray_cleanup.settings import from_options

    sys.exit(int(run_cleanup(from_options(opts))))


clean.help = f"{clean.help}\n\n{CREDENTIALS}"


@main.command(epilog=EXIT_CODES)
@_ownership_options
@click.option("--shape", "shape_path", metavar="FILE", type=click.Path(dir_okay=False),
              help="YAML of Kubespray module variables of the next cluster (overrides the profile's cluster_shape "
                   "and the TF_VAR_* environment).")
@click.option("--fix", is_flag=True, help="Run the cleanup first (as clean --yes, run lock included), then check.")
@_OUTPUT
@_JUNIT
@_LOG_FILE
@_DETAILED
@_lock_options
@_execution_options
def check(**opts: Any) -> None:
    """Tell whether the project can hold one more cluster, and why not: leftovers, quota, name collisions,
    missing flavors or images, stale locks, services down. Deletes nothing unless --fix.

    \b
    The cluster's shape: the profile's cluster_shape, overridden by the apply job's TF_VAR_* variables,
    overridden by --shape FILE; the check prints the shape it assumed.
    """
    if not opts["profile_name"]:
        raise UsageError("--project NAME is required (e.g. --project elastx)")
    import os

    from kubespray_cleanup.check.render import dumps, text, write_junit
    from kubespray_cleanup.check.run import run_check
    from kubespray_cleanup.settings import check_from_options

    settings = check_from_options(opts, dict(os.environ))
    report, code = run_check(settings)
    click.echo(dumps(report) if settings.output == "json" else text(report, settings.cleanup.verbose), nl=False)
    if settings.junit_path:
        write_junit(settings.junit_path, report)
    sys.exit(int(code))


check.help = f"{check.help}\n\n{CREDENTIALS}"


@main.command()
@click.option("--time-scale", type=click.FloatRange(min=0.1), default=20.0, show_default=True,
              help="How much faster than real time the simulated cloud works.")
@click.option("--latency", default="realistic", show_default=True, help="Latency profile of the simulator.")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--scenario", type=click.Choice(["demo", "kubespray", "kubespray-full", "gitlab"]), default=None,
              help="demo (the default), kubespray, kubespray-full (every variant of Kubespray's module, cancelled jobs "
                   "without state beside running ones), gitlab (the default with --gitlab).")
@click.option("--gitlab", is_flag=True, help="A simulated GitLab beside the cloud: job status decides what is live.")
def demo(time_scale: float, latency: str, output: str, scenario: str | None, gitlab: bool) -> None:
    """Run the real cleanup against the bundled simulator with a Kubespray CI scenario."""
    from kubespray_cleanup.demo import run_demo

    sys.exit(int(run_demo(time_scale=time_scale, latency=latency, output=output, scenario=scenario, gitlab=gitlab)))


@main.group()
def simulator() -> None:
    """The bundled OpenStack simulator."""


@simulator.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8787, show_default=True, help="0 picks a free port.")
@click.option("--scenario", default="empty", show_default=True, metavar="NAME|PATH",
              help="Built-in scenario (empty, demo, kubespray, kubespray-full, bench, gitlab) or a YAML/JSON file "
                   "or inventory dump.")
@click.option("--latency", default="fast", show_default=True, metavar="PROFILE",
              help="Latency profile: fast (deletes finish asynchronously, as on every real cloud), realistic, "
                   "none (everything instant, for unit-speed tests), or a YAML file.")
@click.option("--time-scale", type=click.FloatRange(min=0.001), default=1.0, show_default=True)
@click.option("--faults", metavar="SPEC", help="e.g. 'rate=0.05,seed=1' or '500=0.02,429=0.01,token_ttl=30'.")
@click.option("--rate-limit", metavar="RPS[,burst=N][,per=project|service]",
              help="A gateway's token bucket: over RPS requests per second, 429 with Retry-After.")
@click.option("--clouds-yaml", type=click.Path(dir_okay=False), metavar="PATH",
              help="Write a clouds.yaml with one cloud per project plus admin.")
@click.option("--states-dir", type=click.Path(file_okay=False), metavar="DIR",
              help="Write the Terraform states the scenario's pipelines left behind.")
@click.option("--request-log", type=click.Path(dir_okay=False), metavar="FILE", help="JSON-lines request log.")
def serve(**opts: Any) -> None:
    """Serve the simulator until SIGTERM/SIGINT."""
    from kubespray_cleanup.simulator.cli import serve as serve_simulator

    serve_simulator(**opts)


@simulator.command("serve-gitlab")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8788, show_default=True, help="0 picks a free port.")
@click.option("--scenario", default="gitlab", show_default=True, metavar="NAME|PATH",
              help="Scenario whose gitlab_jobs: statuses (and states) seed the GitLab.")
@click.option("--project-id", type=click.IntRange(1), default=42, show_default=True)
@click.option("--project-path", default="kargo-ci/kubernetes-sigs-kubespray", show_default=True)
@click.option("--with-states", is_flag=True, help="Also serve the scenario's Terraform states as GitLab-managed "
                                                  "states named after their job.")
def serve_gitlab(**opts: Any) -> None:
    """Serve a simulated GitLab (Jobs API, Terraform state API, GraphQL terraformStates) until SIGTERM/SIGINT."""
    from kubespray_cleanup.simulator.cli import serve_gitlab as serve

    serve(**opts)
