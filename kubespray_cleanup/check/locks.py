"""Locks that outlive their holder: a Terraform/OpenTofu state locked for longer than ``--state-max-age`` keeps
its resources live for ever (a human must force-unlock it), and a cleanup run lock whose holder died. Both are
warnings: a lock alone does not stop the next apply; what it keeps shows in the quota check."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta
from pathlib import Path

from kubespray_cleanup.check.findings import LOCK, OK, WARNING, Finding
from kubespray_cleanup.liveness import human
from kubespray_cleanup.lock import RunLock
from kubespray_cleanup.sources.terraform_state import StateFile


def state_locks(states: list[StateFile], now: datetime, max_age: timedelta) -> list[Finding]:
    out = []
    for state in states:
        if not state.locked:
            continue
        since = state.locked_at or state.modified_at
        if since is not None and now - since > max_age:
            out.append(Finding(LOCK, WARNING, f"state {state.source}",
                               f"state {state.source} locked for {human(now - since)} (longer than --state-max-age "
                               f"{human(max_age)}): its resources stay live until someone force-unlocks it",
                               ({"kind": "state", "id": state.source, "locked_at": since.isoformat()},)))
    if not out:
        locked = sum(1 for s in states if s.locked)
        out.append(Finding(LOCK, OK, "state locks", f"{len(states)} state(s) read, {locked} locked, none stale"))
    return out


def run_lock(directory: Path, project_id: str, profile: str) -> Finding:
    lock = RunLock(directory, project_id, profile, timeout=0)
    holder = lock.holder()
    if holder is None:
        return Finding(LOCK, OK, "cleanup lock", "cleanup run lock: free")
    what = {"kind": "run_lock", "id": str(lock.path), "holder": holder.describe()}
    if holder.alive_here():
        return Finding(LOCK, WARNING, "cleanup lock", f"a cleanup of this project is running: {holder.describe()}",
                       (what,))
    if holder.host != lock_host():
        return Finding(LOCK, OK, "cleanup lock", f"cleanup run lock last taken on another host: {holder.describe()}",
                       (what,))
    return Finding(LOCK, WARNING, "cleanup lock", f"cleanup run lock left by a dead holder ({holder.describe()}); "
                                                  "the next cleanup takes it over", (what,))


def lock_host() -> str:
    return socket.gethostname()
