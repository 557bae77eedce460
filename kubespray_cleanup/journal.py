"""The run journal: what a run planned and what finished, one JSON line at a time, so a rerun after a
crash or a kill can say what happened in between. The rerun still plans from the live inventory."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from kubespray_cleanup.executor import Outcome
from kubespray_cleanup.planner import Plan


def default_path(profile: str) -> Path:
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    return base / "tf-cleanup" / f"{profile}.journal.jsonl"


@dataclass(frozen=True)
class PreviousRun:
    """An unfinished earlier run, compared with the plan made now."""

    started: str
    planned: int
    finished: int
    gone_since: int  # unfinished then, and no longer in the cloud now
    planned_again: int  # unfinished then, and in this run's plan again

    def summary(self) -> str:
        rest = self.planned - self.finished
        return (f"previous run started {self.started} stopped after {self.finished} of {self.planned} actions; "
                f"of the other {rest}: {self.gone_since} are gone now, {self.planned_again} are planned again")


def read_previous(path: Path, plan: Plan) -> PreviousRun | None:
    """The earlier run recorded at ``path`` if it did not finish; None when it finished or is unreadable."""
    try:
        lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, ValueError):
        return None
    if not lines or lines[0].get("event") != "planned" or lines[-1].get("event") == "finished":
        return None
    planned = {str(a["key"]) for a in lines[0].get("actions", [])}
    finished = {str(line["key"]) for line in lines[1:] if line.get("status") == "done"}
    unfinished = planned - finished
    now_present = set(plan.entries)
    now_planned = set(plan.order())
    return PreviousRun(started=str(lines[0].get("at", "?")), planned=len(planned), finished=len(finished),
                       gone_since=len(unfinished - now_present), planned_again=len(unfinished & now_planned))


class Journal:
    """Writes one run's journal; each line is flushed so a SIGKILL loses at most the line being written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def start(self, plan: Plan) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w")
        actions = [{"key": k, "label": plan.entries[k].resource.label} for k in plan.order()]
        self._write({"event": "planned", "at": _now(), "project_id": plan.project_id, "actions": actions})

    def record(self, outcome: Outcome) -> None:
        self._write({"event": "outcome", "at": _now(), **outcome.to_dict()})

    def finish(self, interrupted: bool) -> None:
        self._write({"event": "interrupted" if interrupted else "finished", "at": _now()})
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, line: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(json.dumps(line) + "\n")
            self._file.flush()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
