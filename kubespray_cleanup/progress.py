"""The live progress display on a terminal (rich): what a person watching the run wants to see at a glance.

One line per phase: planning (a spinner while the project is listed and the plan made), then deleting
(a bar with counts deleted/failed/skipped/pending) and the slowest waits under it (asynchronous deletes
the cloud is still working on). It goes to stderr and only on a terminal outside CI; in CI and in pipes
the structured log says the same thing line by line (``logs``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from kubespray_cleanup.executor import DONE, FAILED, SKIPPED, Outcome

WaitsSource = Callable[[], list[tuple[str, float]]]


class ProgressDisplay:
    """``with ProgressDisplay() as shown:`` then ``planning()``, ``deleting(total, waits)``, ``advance(outcome)``."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(file=sys.stderr)
        self.bars = Progress(SpinnerColumn(), TextColumn("{task.description:<10}"), BarColumn(),
                             MofNCompleteColumn(), TextColumn("{task.fields[counts]}"), TimeElapsedColumn(),
                             console=self.console)
        self.live = Live(Group(self.bars), console=self.console, refresh_per_second=4, transient=False,
                         get_renderable=self._renderable)
        self._plan_task: Any = None
        self._delete_task: Any = None
        self._waits: WaitsSource | None = None
        self._counts = {DONE: 0, FAILED: 0, SKIPPED: 0}
        self._total = 0

    def __enter__(self) -> ProgressDisplay:
        self.live.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._plan_task is not None:
            self.bars.update(self._plan_task, completed=1, total=1)
        self._waits = None
        self.live.refresh()
        self.live.stop()

    def planning(self) -> None:
        self._plan_task = self.bars.add_task("planning", total=None, counts="listing the project")

    def planned(self, actions: int, kept: int) -> None:
        if self._plan_task is not None:
            self.bars.update(self._plan_task, total=1, completed=1, counts=f"{actions} to do, {kept} kept")

    def deleting(self, total: int, waits: WaitsSource | None = None) -> None:
        self._total = total
        self._waits = waits
        self._delete_task = self.bars.add_task("deleting", total=total, counts=self._counts_text())

    def advance(self, outcome: Outcome) -> None:
        if self._delete_task is None:
            return
        key = outcome.status if outcome.status in self._counts else FAILED
        self._counts[key] += 1
        self.bars.update(self._delete_task, advance=1, counts=self._counts_text())

    def _counts_text(self) -> str:
        finished = sum(self._counts.values())
        return (f"deleted {self._counts[DONE]}, failed {self._counts[FAILED]}, skipped {self._counts[SKIPPED]}, "
                f"pending {self._total - finished}")

    def _renderable(self) -> Any:
        waits = self._waits() if self._waits is not None else []
        if not waits:
            return Group(self.bars)
        table = Table.grid(padding=(0, 2))
        table.add_column(style="dim")
        table.add_column(justify="right")
        for label, seconds in waits:
            table.add_row(f"  waiting for {label}", f"{seconds:.0f}s")
        return Group(self.bars, table)
