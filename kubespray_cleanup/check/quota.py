"""Headroom for one more cluster: needed vs available (limit - used - reserved) per quota, with what the cleanup
would give back ("reclaimable"), so the verdict says whether the project fits now or only after a cleanup."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubespray_cleanup.check.findings import ERROR, OK, QUOTA, WARNING, Finding
from kubespray_cleanup.check.needs import LABELS, SERVICE_NAMES
from kubespray_cleanup.check.probe import Prober
from kubespray_cleanup.check.usage import QuotaRow


@dataclass(frozen=True)
class Headroom:
    service: str
    name: str
    needed: int
    row: QuotaRow | None  # None: the service did not say
    reclaimable: int = 0

    @property
    def available(self) -> int | None:
        return self.row.available if self.row is not None else None

    @property
    def fits_now(self) -> bool:
        return self.row is not None and (self.available is None or self.needed <= self.available)

    @property
    def fits_after_cleanup(self) -> bool:
        return self.fits_now or (self.available is not None and self.needed <= self.available + self.reclaimable)

    def to_dict(self) -> dict[str, Any]:
        row = self.row
        return {"service": self.service, "quota": self.name, "needed": self.needed,
                "limit": row.limit if row else None, "used": row.used if row else None,
                "reserved": row.reserved if row else None, "available": self.available,
                "reclaimable": self.reclaimable, "fits_now": self.fits_now,
                "fits_after_cleanup": self.fits_after_cleanup}


def headroom(needed: Mapping[tuple[str, str], int], rows: Mapping[tuple[str, str], QuotaRow],
             reclaimable: Mapping[tuple[str, str], int]) -> list[Headroom]:
    return [Headroom(service, name, amount, rows.get((service, name)), int(reclaimable.get((service, name), 0)))
            for (service, name), amount in needed.items()]


def findings(rooms: list[Headroom], prober: Prober) -> list[Finding]:
    out = [_finding(room) for room in rooms if room.row is not None]
    for service in dict.fromkeys(r.service for r in rooms if r.row is None):
        failure = prober.failure(service, "quota")
        why = f"answered {failure[0]}: {failure[1]}" if failure and failure[0] else \
            f"did not answer: {failure[1]}" if failure else "did not report these quotas"
        names = ", ".join(LABELS.get(r.name, r.name) for r in rooms if r.service == service and r.row is None)
        out.append(Finding(QUOTA, WARNING, f"{service} quota", f"{SERVICE_NAMES[service]} quota unknown ({why}); "
                                                               f"headroom for {names} not checked"))
    return out


def _finding(room: Headroom) -> Finding:
    label = LABELS.get(room.name, room.name)
    common = {"needed": room.needed, "available": room.available, "name": room.name}
    extra = {"service": room.service, "limit": room.row.limit if room.row else None,
             "used": room.row.used if room.row else None, "reserved": room.row.reserved if room.row else None,
             "reclaimable": room.reclaimable}
    if room.available is None:
        return Finding(QUOTA, OK, room.name, f"{label}: need {room.needed}, unlimited",
                       needed=room.needed, extra=extra)
    if room.fits_now:
        return Finding(QUOTA, OK, room.name, f"{label}: need {room.needed}, {room.available} available",
                       needed=room.needed, available=room.available, extra=extra)
    row = room.row
    assert row is not None
    short = room.needed - room.available
    base = (f"{label}: need {room.needed}, {room.available} available (limit {row.limit}, used {row.used}"
            f"{f', reserved {row.reserved}' if row.reserved else ''}): {short} short")
    if room.fits_after_cleanup:
        return Finding(QUOTA, ERROR, room.name, f"{base}; the cleanup would give back {room.reclaimable}: fits "
                                                f"after cleanup", fixable=True, extra=extra, **_pair(common))
    after = f"; even after the cleanup ({room.reclaimable} reclaimable)" if room.reclaimable else ""
    return Finding(QUOTA, ERROR, room.name, base + after, extra=extra, **_pair(common))


def _pair(common: dict[str, Any]) -> dict[str, Any]:
    return {"needed": common["needed"], "available": common["available"]}
