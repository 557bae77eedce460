"""structlog set-up: where log events go and how they look; secrets never reach any output.

The rule (README "The terminal and the log"):

* ``CI`` set (GitLab, any CI): JSON lines on stderr, one per event.
* stderr is a terminal: a live progress display; only warnings and errors as readable lines (everything
  with ``-v``). Per-resource events go to ``--log-file`` when one is given.
* neither: plain ``key=value`` lines on stderr, no colour.

``--log-file FILE`` adds every event as JSON lines to a file, whatever the mode. Libraries' own logging
(openstacksdk, keystoneauth, urllib3) is routed through structlog as debug ``library_logged`` events, so
their chatter ("Failed to discover available identity versions ...") shows only with ``-v``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import IO, Any

import structlog

_SECRET_KEYS = re.compile(r"(pass(word)?|secret|token|credential|auth)", re.IGNORECASE)
_SECRET_VALUES = re.compile(r"(?i)(x-auth-token|x-subject-token|password|secret|ci_job_token|private-token)"
                            r"([\"':= ]+)([^\s\"',}]+)")
_LIBRARIES = ("openstack", "keystoneauth", "keystoneauth1", "urllib3", "stevedore", "requests", "gitlab")
JSON, TTY, PLAIN = "json", "tty", "plain"


def redact_text(text: str) -> str:
    return _SECRET_VALUES.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key != "event" and _SECRET_KEYS.search(key):
            event[key] = "***"
        elif isinstance(event[key], str):
            event[key] = redact_text(event[key])
    return event


def pick_mode(environ: Mapping[str, str] | None = None, stream: Any = None) -> str:
    """JSON in CI, the progress display on a terminal, plain lines otherwise."""
    env = os.environ if environ is None else environ
    if env.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        return JSON
    stream = stream or sys.stderr
    return TTY if getattr(stream, "isatty", lambda: False)() else PLAIN


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time, so a live display that redirects it stays tidy."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class _FileTee:
    """Processor: every event that passes the level filter, as a JSON line in the log file."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.lock = threading.Lock()

    def __call__(self, _: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        line = json.dumps(dict(event), default=str) + "\n"
        with self.lock:
            self.stream.write(line)
            self.stream.flush()
        return event


def _drop_below(level: int) -> Any:
    def processor(_: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if logging.getLevelNamesMapping().get(method.upper(), logging.INFO) < level:
            raise structlog.DropEvent
        return event
    return processor


_LONG_HEX = re.compile(r"(\{SHA\d+\})?[0-9a-f]{32,}")
_QUIET = ("stevedore",)  # plugin-cache chatter: useless even with -v


class _LibraryHandler(logging.Handler):
    """Library log records as structlog debug events (shown with -v), never raw on stderr. Long hex strings
    (token hashes, cache keys) are masked: nothing a reader needs, and too close to a secret."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string must not break the run
            message = str(record.msg)
        structlog.get_logger("tf-cleanup").debug("library_logged", logger=record.name,
                                                 level=record.levelname.lower(),
                                                 message=_LONG_HEX.sub("<hex>", message.splitlines()[0])
                                                 if message else "")


_file_stream: IO[str] | None = None


def configure(mode: str = PLAIN, verbose: bool = False, stream: Any = None, log_file: Path | None = None) -> None:
    """Set up structlog for one run (module docstring); safe to call again."""
    global _file_stream
    if _file_stream is not None:
        _file_stream.close()
        _file_stream = None
    stream = stream or _CurrentStderr()
    base = logging.DEBUG if verbose else logging.INFO
    console = base if mode != TTY or verbose else logging.WARNING
    if mode == JSON:
        renderer: Any = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=mode == TTY and sys.stderr.isatty())
    processors: list[Any] = [structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                             structlog.processors.TimeStamper(fmt="iso", utc=True), _redact]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        _file_stream = log_file.open("a", encoding="utf-8")
        processors.append(_FileTee(_file_stream))
    if console > base:
        processors.append(_drop_below(console))
    processors.append(renderer)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(base),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    handler = _LibraryHandler()
    for name in _LIBRARIES:
        library = logging.getLogger(name)
        library.handlers = [handler]
        library.propagate = False
        library.setLevel(logging.DEBUG if verbose and name not in _QUIET else logging.WARNING)
