"""Every service the shape needs is in the catalog and answered during the check, with its latency."""

from __future__ import annotations

from typing import Any

from kubespray_cleanup.check.findings import ENDPOINT, ERROR, OK, Finding
from kubespray_cleanup.check.probe import Prober

# our service key -> (catalog type, name people know)
CATALOG = {"identity": ("identity", "Keystone"), "compute": ("compute", "Nova"), "network": ("network", "Neutron"),
           "image": ("image", "Glance"), "volume": ("block-storage", "Cinder"),
           "load-balancer": ("load-balancer", "Octavia")}


def in_catalog(conn: Any, service: str) -> bool:
    try:
        return bool(conn.has_service(CATALOG[service][0]))
    except Exception:
        return False


def findings(services: list[str], present: dict[str, bool], prober: Prober, auth_seconds: float) -> list[Finding]:
    out = [Finding(ENDPOINT, OK, "identity", f"Keystone: token issued in {auth_seconds * 1000:.0f} ms",
                   extra={"latency_ms": round(auth_seconds * 1000, 1)})]
    for service in services:
        catalog_type, name = CATALOG[service]
        if not present.get(service):
            out.append(Finding(ENDPOINT, ERROR, service, f"{name} ({catalog_type}) is not in the catalog"))
            continue
        calls = prober.of(service)
        if calls.calls and not calls.reachable:
            what, status, message = calls.failures[0]
            answer = f"answered {status}" if status else "did not answer"
            out.append(Finding(ENDPOINT, ERROR, service, f"{name} {answer} ({what}): {message}",
                               extra={"status": status}))
            continue
        latency = calls.latency_ms
        said = f"answered in {latency:.0f} ms" if latency is not None else "in the catalog"
        out.append(Finding(ENDPOINT, OK, service, f"{name}: {said}", extra={"latency_ms": latency}))
    return out
