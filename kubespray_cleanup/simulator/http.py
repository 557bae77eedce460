"""Response and error-body helpers shaped exactly like each real service's answers."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from kubespray_cleanup.simulator.store import Record, public

_NOVA_FAULTS = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                409: "conflictingRequest", 413: "overLimit", 429: "overLimit"}


class ApiError(Exception):
    """Raised inside handlers; carries the finished error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=dict(headers or {}),
                    content_type="application/json")


def empty(status: int = 204, headers: Mapping[str, str] | None = None) -> Response:
    return Response(b"", status=status, headers=dict(headers or {}))


def neutron_error(status: int, err_type: str, message: str) -> ApiError:
    """``{"NeutronError": {"type", "message", "detail"}}`` as neutron's api_common builds it."""
    return ApiError(json_response({"NeutronError": {"type": err_type, "message": message, "detail": ""}},
                                  status))


def nova_fault(status: int, message: str) -> ApiError:
    """Nova/Cinder fault: ``{"<faultName>": {"code", "message"}}``."""
    name = _NOVA_FAULTS.get(status, "computeFault")
    return ApiError(json_response({name: {"code": status, "message": message}}, status))


cinder_fault = nova_fault


def octavia_fault(status: int, message: str) -> ApiError:
    """WSME fault body Octavia returns."""
    code = "Client" if status < 500 else "Server"
    return ApiError(json_response({"faultcode": code, "faultstring": message, "debuginfo": None}, status))


def keystone_error(status: int, title: str, message: str) -> ApiError:
    return ApiError(json_response({"error": {"code": status, "title": title, "message": message}}, status))


def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (``{}`` when empty); 400 when it is not JSON."""
    data = request.get_data(cache=True)
    if not data:
        return {}
    try:
        body = json.loads(data)
    except ValueError:
        raise ApiError(json_response({"badRequest": {"code": 400, "message": "Malformed request body"}},
                                     400)) from None
    if not isinstance(body, dict):
        raise ApiError(json_response({"badRequest": {"code": 400, "message": "Malformed request body"}}, 400))
    return body


def paginate(request: Request, records: Iterable[Record], collection: str, default_limit: int | None = None,
             max_limit: int = 1000) -> dict[str, Any]:
    """Slice ``records`` by ``limit``/``marker`` and add ``<collection>_links`` with a ``next`` link.

    Records are sorted by id (Neutron's and Nova's default marker ordering is stable on id here).
    """
    rows = sorted(records, key=lambda r: str(r.get("id", "")))
    marker = request.args.get("marker")
    if marker:
        rows = [r for r in rows if str(r.get("id", "")) > marker]
    limit_arg = request.args.get("limit")
    limit = default_limit
    if limit_arg is not None:
        try:
            limit = max(0, min(int(limit_arg), max_limit))
        except ValueError:
            limit = default_limit
    body: dict[str, Any] = {}
    if limit and len(rows) > limit:
        page = rows[:limit]
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "marker"]
        args.append(("marker", str(page[-1]["id"])))
        href = f"{request.base_url}?{urlencode(args)}"
        body[f"{collection}_links"] = [{"rel": "next", "href": href}]
        rows = page
    body[collection] = [public(r) for r in rows]
    return body
