"""Glance v2: images for servers to boot from, read-only listing with Glance's pagination."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.api_common import limit_param
from kubespray_cleanup.simulator.http import ApiError, json_response
from kubespray_cleanup.simulator.store import Record, Store, iso

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

DEFAULT_LIMIT = 25  # glance limit_param_default
MAX_LIMIT = 1000  # glance api_limit_max
_VERSIONS = ("2.17", "2.16", "2.15", "2.9", "2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0")


def create_image(store: Store, *, name: str, created_at: datetime | None = None, **fields: Any) -> Record:
    """A public, active image; ``id`` and any other attribute may be given in ``fields``."""
    image_id = str(fields.pop("id", None) or store.new_id())
    when = iso(created_at or store.utcnow())
    admin = store.project_by_name("admin")
    image: Record = {
        "id": image_id, "name": name, "status": "active", "visibility": "public", "protected": False,
        "os_hidden": False, "disk_format": "qcow2", "container_format": "bare", "size": 2361393152,
        "virtual_size": 3758096384, "checksum": hashlib.md5(image_id.encode(), usedforsecurity=False).hexdigest(),
        "os_hash_algo": "sha512", "os_hash_value": hashlib.sha512(image_id.encode()).hexdigest(),
        "min_ram": 0, "min_disk": 0, "owner": admin.id if admin else "", "tags": [], "created_at": when,
        "updated_at": when,
    }
    image.update(fields)
    return store.put("images", image)


def _error(status: int, title: str, message: str) -> ApiError:
    """webob's JSON error body, as Glance returns it to a JSON client."""
    return ApiError(json_response({"message": f"{message}<br /><br />\n\n", "code": f"{status} {title}",
                                   "title": title}, status))


def _visible(ctx: Ctx, image: Record) -> bool:
    return ctx.is_admin or image.get("visibility") in ("public", "community") or image.get("owner") == ctx.project_id


def _view(image: Record) -> Record:
    body = {k: v for k, v in image.items() if not k.startswith("_")}
    body.update({"self": f"/v2/images/{image['id']}", "file": f"/v2/images/{image['id']}/file",
                 "schema": "/v2/schemas/image"})
    return body


def _versions(ctx: Ctx, status: int) -> Response:
    href = ctx.url("image", "/v2/")
    return json_response({"versions": [
        {"id": f"v{v}", "status": "CURRENT" if v == _VERSIONS[0] else "SUPPORTED",
         "links": [{"rel": "self", "href": href}]} for v in _VERSIONS]}, status)


def versions(ctx: Ctx) -> Response:
    """``GET /``: 300 Multiple Choices, like glance's version negotiation."""
    return _versions(ctx, 300)


def versions_explicit(ctx: Ctx) -> Response:
    return _versions(ctx, 200)


def list_images(ctx: Ctx) -> Response:
    args = ctx.request.args
    rows = sorted((i for i in ctx.store.iter("images") if _visible(ctx, i)), key=lambda i: str(i["id"]))
    for key in ("name", "status", "visibility", "owner", "disk_format", "container_format"):
        if key in args:
            rows = [i for i in rows if str(i.get(key)) == args[key]]
    marker = args.get("marker")
    if marker:
        ids = [str(i["id"]) for i in rows]
        if marker not in ids:
            raise _error(400, "Bad Request", f"marker could not be found: {marker}")
        rows = rows[ids.index(marker) + 1:]
    limit = limit_param(ctx, default=DEFAULT_LIMIT, maximum=MAX_LIMIT,
                        fault=lambda message: _error(400, "Bad Request", message))
    chunk = rows[:limit]
    params = [(k, v) for k, v in args.items(multi=True) if k != "marker"]
    body: Record = {"images": [_view(i) for i in chunk], "schema": "/v2/schemas/images",
                    "first": "/v2/images" + (f"?{urlencode(params)}" if params else "")}
    if chunk and len(chunk) == limit:
        body["next"] = "/v2/images?" + urlencode([*params, ("marker", str(chunk[-1]["id"]))])
    return json_response(body)


def show_image(ctx: Ctx, image_id: str) -> Response:
    image = ctx.store.get("images", image_id)
    if image is None or not _visible(ctx, image):
        raise _error(404, "Not Found", f"No image found with ID {image_id}")
    return json_response(_view(image))


def register(routes: Routes) -> None:
    routes.add("GET", "/image", versions, public=True)
    routes.add("GET", "/image/versions", versions_explicit, public=True)
    routes.add("GET", "/image/v2/images", list_images)
    routes.add("GET", "/image/v2/images/<image_id>", show_image)
