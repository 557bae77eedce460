"""A check's report as a table for people, a JSON document for programs, and JUnit for the pipeline page (one
testcase per check, the conventions of ``junit.py``)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubespray_cleanup.check.findings import ERROR, KINDS, OK, WARNING, Finding, ordered
from kubespray_cleanup.check.needs import LABELS, SERVICE_NAMES
from kubespray_cleanup.check.run import CheckReport

_MARK = {ERROR: "FAIL", WARNING: "warn", OK: "ok"}


def document(report: CheckReport) -> dict[str, Any]:
    return {"fit": report.fit, "project_id": report.project_id, "profile": report.profile,
            "shape": report.shape.to_dict(),
            "findings": [f.to_dict() for f in ordered(report.findings) if f.severity != OK],
            "passed": [f.to_dict() for f in ordered(report.findings) if f.severity == OK],
            "quota": [r.to_dict() for r in report.headroom], "seconds": round(report.seconds, 3)}


def dumps(report: CheckReport) -> str:
    return json.dumps(document(report), indent=2, sort_keys=False) + "\n"


def text(report: CheckReport, verbose: bool = False) -> str:
    lines = [f"Check of project {report.project_id} (profile {report.profile}) for one more cluster:"]
    lines.append(f"  shape ({', '.join(report.shape.sources)}): {_shape_line(report)}")
    if report.headroom:
        lines += ["", f"  {'quota':<30} {'needed':>7} {'limit':>7} {'used':>7} {'avail':>7} {'reclaim':>8}  verdict"]
        for room in report.headroom:
            row = room.row
            cells = [str(row.limit) if row else "?", str(row.used) if row else "?",
                     "unl." if row and room.available is None else str(room.available) if row else "?"]
            verdict = ("fits" if room.fits_now else "fits after cleanup" if room.fits_after_cleanup
                       else "SHORT" if row else "unknown")
            label = f"{SERVICE_NAMES[room.service]} {LABELS.get(room.name, room.name)}"
            lines.append(f"  {label:<30} {room.needed:>7} {cells[0]:>7} {cells[1]:>7} {cells[2]:>7} "
                         f"{room.reclaimable:>8}  {verdict}")
    lines.append("")
    for finding in ordered(report.findings):
        if finding.severity == OK and not verbose and finding.kind != "endpoint":
            continue
        lines.append(f"  {_MARK[finding.severity]:<4} {finding.kind:<9} {finding.message}")
        if finding.kind == "leftovers" and verbose:
            lines += [f"         - {o['kind']} {o['name'] or ''} {o['id']}" for o in finding.objects]
    passed = sum(1 for f in report.findings if f.severity == OK)
    lines += ["", _verdict(report) + f" ({passed} checks passed, {report.seconds:.1f}s)"]
    return "\n".join(lines) + "\n"


def _shape_line(report: CheckReport) -> str:
    s = report.shape
    servers = ", ".join(f"{x.count} x {x.role} ({x.flavor}{', FIP' if x.floating_ip else ''})"
                        for x in s.servers if x.count) or "no servers"
    extras = [f"cluster {s.cluster_name or '?'}", f"network {s.get('network_name')}" if s.makes_network else
              "existing network", f"router {s.router_id}" if s.router_id else "own router",
              f"image {s.get('image_uuid') or s.get('image')}"]
    if s.load_balancer:
        extras.append("API load balancer")
    if s.volumes:
        extras.append(f"{len(s.volumes)} volumes ({sum(s.volumes)} GB)")
    return f"{servers}; {'; '.join(extras)}"


def _verdict(report: CheckReport) -> str:
    blocking = [f for f in report.findings if f.blocking]
    if not blocking:
        return "FIT: the project can hold one more cluster"
    if all(f.fixable for f in blocking):
        return "NOT FIT NOW: the cleanup would free what is missing (tf-cleanup check --fix)"
    return f"NOT FIT: {len(blocking)} problem(s) the cleanup cannot fix"


def write_junit(path: Path, report: CheckReport) -> None:
    root = ET.Element("testsuites", name="tf-cleanup check")
    suite = ET.SubElement(root, "testsuite", name=f"tf-cleanup check: project {report.project_id} (profile "
                                                  f"{report.profile})",
                          timestamp=datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"))
    counts = {"tests": 0, "failures": 0, "skipped": 0}
    for finding in sorted(report.findings, key=lambda f: (KINDS.index(f.kind), f.name)):
        case = ET.SubElement(suite, "testcase", classname=f"check.{finding.kind}", name=finding.name)
        counts["tests"] += 1
        if finding.blocking:
            failure = ET.SubElement(case, "failure", message=finding.message, type=finding.kind)
            failure.text = _details(finding)
            counts["failures"] += 1
        elif finding.severity == WARNING:
            ET.SubElement(case, "system-out").text = _details(finding)
    for element in (suite, root):
        for attr, value in counts.items():
            element.set(attr, str(value))
        element.set("errors", "0")
        element.set("time", f"{report.seconds:.3f}")
    tree = ET.ElementTree(root)
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _details(finding: Finding) -> str:
    lines = [finding.message]
    if finding.blocking:
        lines.append("the cleanup would fix this" if finding.fixable else "the cleanup cannot fix this")
    lines += [" ".join(f"{k}={v}" for k, v in obj.items() if k != "holds") for obj in finding.objects[:200]]
    return "\n".join(lines)
