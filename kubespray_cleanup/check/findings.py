"""What a check found: one vocabulary of findings, and the exit code a set of them maps to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubespray_cleanup.errors import ExitCode

# Kinds of check, in the order they are shown.
LEFTOVERS, QUOTA, COLLISION, MISSING, LOCK, ENDPOINT = "leftovers", "quota", "collision", "missing", "lock", "endpoint"
KINDS = (ENDPOINT, MISSING, COLLISION, LOCK, QUOTA, LEFTOVERS)

# Severities: ``error`` makes the project unfit, ``warning`` is worth a look, ``ok`` is a check that passed.
ERROR, WARNING, OK = "error", "warning", "ok"


@dataclass(frozen=True)
class Finding:
    """One checked thing and its verdict. ``fixable``: the cleanup (``--fix``) would make an error go away."""

    kind: str
    severity: str
    name: str  # what was checked, short: ``floatingip``, ``keypair kubernetes-4711``, ``compute``
    message: str
    objects: tuple[dict[str, Any], ...] = ()
    needed: int | None = None
    available: int | None = None
    fixable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def blocking(self) -> bool:
        return self.severity == ERROR

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "severity": self.severity, "name": self.name,
                                "message": self.message, "objects": list(self.objects)}
        if self.needed is not None:
            data["needed"] = self.needed
        if self.available is not None:
            data["available"] = self.available
        if self.blocking:
            data["fixed_by_cleanup"] = self.fixable
        data.update(self.extra)
        return data


def fit(findings: list[Finding]) -> bool:
    return not any(f.blocking for f in findings)


def exit_code(findings: list[Finding], detailed: bool = False) -> ExitCode:
    """0 fit; 8 unfit only for what the cleanup would free; 9 unfit for anything else; with ``detailed``, a fit
    project that still has leftovers exits 2 (as the cleanup's ``--dry-run --detailed-exitcode``)."""
    blocking = [f for f in findings if f.blocking]
    if any(not f.fixable for f in blocking):
        return ExitCode.NOT_FIT
    if blocking:
        return ExitCode.NOT_FIT_LEFTOVERS
    if detailed and any(f.kind == LEFTOVERS and f.severity != OK for f in findings):
        return ExitCode.CHANGES
    return ExitCode.CLEAN


def ordered(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then passes; within each, in the order of ``KINDS``, then by name."""
    rank = {ERROR: 0, WARNING: 1, OK: 2}
    return sorted(findings, key=lambda f: (rank.get(f.severity, 3), KINDS.index(f.kind), f.name))
