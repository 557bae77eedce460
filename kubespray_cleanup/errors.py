"""Typed errors raised inside the tool; only ``cli.py`` turns them into messages and exit codes."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Documented process exit codes (README "Exit codes")."""

    CLEAN = 0  # nothing dangling is left (deleted now, or there was nothing to do)
    LEFT_BEHIND = 1  # the run finished but some dangling resources remain
    CHANGES = 2  # only with --detailed-exitcode: a dry run (or check) found something to clean
    USAGE = 3  # bad usage, options, config, profile or credentials configuration
    CLOUD = 4  # cannot authenticate or reach the cloud
    STATE = 5  # a state source could not be read: nothing was deleted
    INTERRUPTED = 6  # SIGINT/SIGTERM: in-flight calls ended, report written
    LOCKED = 7  # another cleanup of the same cloud project holds the run lock
    NOT_FIT_LEFTOVERS = 8  # check: not fit for one more cluster, but the cleanup would free what is missing
    NOT_FIT = 9  # check: not fit for reasons the cleanup cannot fix (quota, missing, collision, lock, endpoint)


class CleanupError(Exception):
    """Base of every error the CLI reports as one line."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(CleanupError):
    """Bad option values, bad config or unknown profile."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A config file or profile is invalid."""


class CloudError(CleanupError):
    """The cloud cannot be reached or refuses our credentials."""

    exit_code = ExitCode.CLOUD


class StateError(CleanupError):
    """A Terraform/OpenTofu state source cannot be read or parsed."""

    exit_code = ExitCode.STATE

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"state source {source}: {reason}")
        self.source = source
        self.reason = reason


class GraphCycleError(CleanupError):
    """The dependency graph has a cycle; the message names its members."""

    exit_code = ExitCode.USAGE


class LockHeld(CleanupError):
    """Another run holds the cleanup lock of this cloud project and did not release it in time."""

    exit_code = ExitCode.LOCKED


class Interrupted(CleanupError):
    """The run was interrupted by a signal."""

    exit_code = ExitCode.INTERRUPTED
