"""structlog set-up: readable lines on a terminal, JSON lines in CI; secrets never reach the output."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_KEYS = re.compile(r"(pass(word)?|secret|token|credential|auth)", re.IGNORECASE)
_SECRET_VALUES = re.compile(r"(?i)(x-auth-token|x-subject-token|password|secret|ci_job_token)([\"':= ]+)([^\s\"',}]+)")


def redact_text(text: str) -> str:
    return _SECRET_VALUES.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key != "event" and _SECRET_KEYS.search(key):
            event[key] = "***"
        elif isinstance(event[key], str):
            event[key] = redact_text(event[key])
    return event


def configure(json_lines: bool, verbose: bool = False, stream: Any = None) -> None:
    """Log to stderr: JSON lines when ``json_lines`` (CI), coloured key=value lines otherwise."""
    stream = stream or sys.stderr
    renderer: Any = (structlog.processors.JSONRenderer() if json_lines
                     else structlog.dev.ConsoleRenderer(colors=stream.isatty()))
    level = logging.DEBUG if verbose else logging.INFO
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    # openstacksdk and keystoneauth log request details (with headers) at DEBUG: keep them quiet.
    for name in ("openstack", "keystoneauth", "urllib3", "stevedore"):
        logging.getLogger(name).setLevel(logging.WARNING)
