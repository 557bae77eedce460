"""Microversion negotiation, Nova/Cinder-style pagination and policy errors shared by Nova and Cinder."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import ApiError, nova_fault
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx

Version = tuple[int, int]
_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")
MAX_LIMIT = 1000  # nova [api]max_limit and cinder osapi_max_limit defaults


@dataclass(frozen=True)
class ApiVersions:
    """The microversion range of one service and the headers it reads and echoes."""

    service: str  # service type in ``OpenStack-API-Version`` ("compute", "volume")
    minimum: Version
    maximum: Version
    legacy_header: str | None = None  # e.g. X-OpenStack-Nova-API-Version

    @property
    def min_string(self) -> str:
        return f"{self.minimum[0]}.{self.minimum[1]}"

    @property
    def max_string(self) -> str:
        return f"{self.maximum[0]}.{self.maximum[1]}"

    def requested(self, ctx: Ctx) -> Version:
        """The microversion the request asks for (the minimum when it asks nothing); 400/406 when invalid."""
        text = self._header_value(ctx)
        if text is None:
            return self.minimum
        if text.lower() == "latest":
            return self.maximum
        match = _VERSION_RE.match(text)
        if match is None:
            raise nova_fault(400, f"API Version String {text} is of invalid format. Must be of format "
                                  "MajorNum.MinorNum.")
        version = (int(match.group(1)), int(match.group(2)))
        if not self.minimum <= version <= self.maximum:
            raise nova_fault(406, f"Version {text} is not supported by the API. Minimum is {self.min_string} "
                                  f"and maximum is {self.max_string}.")
        return version

    def _header_value(self, ctx: Ctx) -> str | None:
        for value in ctx.request.headers.getlist("OpenStack-API-Version"):
            for part in value.split(","):
                words = part.strip().split()
                if len(words) == 2 and words[0].lower() == self.service:
                    return words[1]
        if self.legacy_header:
            legacy = ctx.request.headers.get(self.legacy_header)
            if legacy:
                return legacy.strip()
        return None

    def stamp(self, response: Response, version: Version) -> Response:
        """Echo the negotiated version the way the service does."""
        text = f"{version[0]}.{version[1]}"
        response.headers["OpenStack-API-Version"] = f"{self.service} {text}"
        response.headers.add("Vary", "OpenStack-API-Version")
        if self.legacy_header:
            response.headers[self.legacy_header] = text
            response.headers.add("Vary", self.legacy_header)
        return response

    def wrap(self, handler: Callable[..., Response]) -> Callable[..., Response]:
        """Handler decorator: parse the version first, echo it on success and on API errors."""

        def wrapped(ctx: Ctx, **kwargs: Any) -> Response:
            version = self.requested(ctx)
            try:
                response = handler(ctx, **kwargs)
            except ApiError as err:
                self.stamp(err.response, version)
                raise
            return self.stamp(response, version)

        wrapped.__name__ = getattr(handler, "__name__", "handler")
        return wrapped


def at_least(ctx: Ctx, versions: ApiVersions, wanted: str) -> bool:
    """True when the request's microversion is ``wanted`` or newer."""
    major, minor = wanted.split(".")
    return versions.requested(ctx) >= (int(major), int(minor))


def policy_forbidden(action: str) -> ApiError:
    """403 as oslo.policy enforcement failures render in Nova and Cinder."""
    return nova_fault(403, f"Policy doesn't allow {action} to be performed.")


def truthy(value: str | None) -> bool:
    """oslo ``bool_from_string`` for query flags (``all_tenants=1``, ``cascade=true``)."""
    return (value or "").strip().lower() in ("1", "t", "true", "on", "y", "yes")


def limit_param(ctx: Ctx, *, default: int = MAX_LIMIT, maximum: int = MAX_LIMIT,
                fault: Callable[[str], ApiError] = lambda message: nova_fault(400, message)) -> int:
    """``limit`` query parameter (``default`` when absent) capped at ``maximum``; a 400 built by ``fault`` (the
    service's own error body; Nova's and Cinder's by default) when it is not a non-negative integer."""
    raw = ctx.request.args.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise fault("limit param must be an integer") from None
    if value < 0:
        raise fault("limit param must be positive")
    return min(value, maximum)


def page(ctx: Ctx, rows: Sequence[Record], *, key: Callable[[Record], str],
         marker_missing: Callable[[str], ApiError]) -> tuple[list[Record], bool]:
    """Rows after ``marker`` (by ``key`` order) cut at ``limit``; True when the page is full.

    Nova and Cinder add a ``next`` link whenever a page is exactly full, even when nothing follows.
    """
    ordered = sorted(rows, key=key)
    marker = ctx.request.args.get("marker")
    if marker:
        keys = [key(r) for r in ordered]
        if marker not in keys:
            raise marker_missing(marker)
        ordered = ordered[keys.index(marker) + 1:]
    limit = limit_param(ctx)
    chunk = ordered[:limit]
    return chunk, bool(limit) and len(chunk) == limit


def paged_listing(ctx: Ctx, rows: Sequence[Record], collection: str, url: str,
                  render: Callable[[Record], Record], marker_missing: Callable[[str], ApiError]) -> Record:
    """``{collection: [...], collection_links: [next]}`` for one page of ``rows`` ordered by id."""
    chunk, full = page(ctx, rows, key=lambda r: str(r["id"]), marker_missing=marker_missing)
    body: Record = {collection: [render(r) for r in chunk]}
    if full and chunk:
        body[f"{collection}_links"] = next_link(ctx, url, str(chunk[-1]["id"]))
    return body


def next_link(ctx: Ctx, base_url: str, marker: str) -> list[dict[str, str]]:
    """``[{"rel": "next", "href": ...}]`` with the request's query and the new marker."""
    params = sorted((k, v) for k, v in ctx.request.args.items(multi=True) if k != "marker")
    params.append(("marker", marker))
    return [{"rel": "next", "href": f"{base_url}?{urlencode(params)}"}]


def project_of(record: Record) -> str:
    """A record's project: ``project_id`` or, for raw inventory rows, ``tenant_id``."""
    return str(record.get("project_id") or record.get("tenant_id")
               or record.get("os-vol-tenant-attr:tenant_id") or "")
