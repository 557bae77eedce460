"""``/_sim/*``: read the simulator's counters and state without authentication (loopback only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import empty, json_response

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes


def stats(ctx: Ctx) -> Response:
    return json_response(ctx.sim.stats_json())


def reset_stats(ctx: Ctx) -> Response:
    ctx.sim.reset_stats()
    return empty()


def state(ctx: Ctx) -> Response:
    body = ctx.store.snapshot()
    body["_projects"] = [{"id": p.id, "name": p.name} for p in ctx.store.projects.values()]
    body["_pending_events"] = ctx.store.pending_events()  # type: ignore[assignment]
    return json_response(body)


def register(routes: Routes) -> None:
    routes.add("GET", "/_sim/stats", stats, public=True)
    routes.add("DELETE", "/_sim/stats", reset_stats, public=True)
    routes.add("GET", "/_sim/state", state, public=True)
