"""Keystone v3: discovery, password and application-credential tokens with a service catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import empty, json_response, keystone_error
from kubespray_cleanup.simulator.store import Project, Token, User, iso_micro

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

REGION = "RegionOne"
_DOMAIN = {"id": "default", "name": "Default"}


def _version(ctx: Ctx) -> dict[str, Any]:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": "2020-04-07T00:00:00Z",
        "links": [{"rel": "self", "href": ctx.url("identity", "/v3/")}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


def versions(ctx: Ctx) -> Response:
    return json_response({"versions": {"values": [_version(ctx)]}}, 300)


def version(ctx: Ctx) -> Response:
    return json_response({"version": _version(ctx)})


def _unauthorized() -> Exception:
    return keystone_error(401, "Unauthorized", "The request you have made requires authentication.")


def _find_user(ctx: Ctx, spec: dict[str, Any]) -> User | None:
    if "id" in spec:
        return ctx.store.users.get(str(spec["id"]))
    return ctx.store.user_by_name(str(spec.get("name", "")))


def _find_project(ctx: Ctx, spec: dict[str, Any]) -> Project | None:
    if "id" in spec:
        return ctx.store.projects.get(str(spec["id"]))
    return ctx.store.project_by_name(str(spec.get("name", "")))


def _password_identity(ctx: Ctx, identity: dict[str, Any], scope: dict[str, Any]) -> tuple[User, Project, list[str]]:
    user_spec = identity.get("password", {}).get("user", {})
    user = _find_user(ctx, user_spec)
    if user is None or user.password != user_spec.get("password"):
        raise _unauthorized()
    project_spec = scope.get("project")
    project = _find_project(ctx, project_spec) if project_spec else ctx.store.projects.get(user.default_project_id)
    if project is None:
        raise _unauthorized()
    roles = user.roles.get(project.id)
    if not roles:
        raise _unauthorized()
    return user, project, roles


def _app_credential_identity(ctx: Ctx, identity: dict[str, Any]) -> tuple[User, Project, list[str]]:
    spec = identity.get("application_credential", {})
    cred = None
    if "id" in spec:
        cred = ctx.store.app_credentials.get(str(spec["id"]))
    else:
        owner = _find_user(ctx, spec.get("user", {}))
        cred = next((c for c in ctx.store.app_credentials.values()
                     if owner and c.user_id == owner.id and c.name == spec.get("name")), None)
    if cred is None or cred.secret != spec.get("secret"):
        raise _unauthorized()
    user = ctx.store.users[cred.user_id]
    return user, ctx.store.projects[cred.project_id], list(cred.roles)


def catalog(ctx: Ctx, project: Project) -> list[dict[str, Any]]:
    entries = [
        ("identity", "keystone", ctx.url("identity", "/v3")),
        ("compute", "nova", ctx.url("compute", "/v2.1")),
        ("network", "neutron", ctx.url("network")),
        ("block-storage", "cinder", ctx.url("block-storage", f"/v3/{project.id}")),
        ("image", "glance", ctx.url("image")),
        ("load-balancer", "octavia", ctx.url("load-balancer")),
    ]
    absent = ctx.store.deployment.absent_services
    return [
        {"type": kind, "name": name, "id": f"{name}-service",
         "endpoints": [{"id": f"{name}-{iface}", "interface": iface, "region": REGION, "region_id": REGION,
                        "url": url} for iface in ("public", "internal")]}
        for kind, name, url in entries if kind not in absent
    ]


def issue_token(ctx: Ctx) -> Response:
    body = ctx.body()
    auth = body.get("auth")
    if not isinstance(auth, dict):
        raise keystone_error(400, "Bad Request", "Expecting to find auth in request body.")
    identity = auth.get("identity", {})
    methods = identity.get("methods", [])
    if "password" in methods:
        user, project, roles = _password_identity(ctx, identity, auth.get("scope") or {})
    elif "application_credential" in methods:
        user, project, roles = _app_credential_identity(ctx, identity)
    elif "token" in methods:
        old = ctx.store.tokens.get(str(identity.get("token", {}).get("id", "")))
        if old is None or old.expires_at <= ctx.store.utcnow():
            raise _unauthorized()
        user = ctx.store.users[old.user_id]
        project_spec = (auth.get("scope") or {}).get("project")
        scoped = _find_project(ctx, project_spec) if project_spec else ctx.store.projects.get(old.project_id)
        if scoped is None or not user.roles.get(scoped.id):
            raise _unauthorized()
        project, roles = scoped, user.roles[scoped.id]
    else:
        raise _unauthorized()
    now = ctx.store.utcnow()
    token = Token(id=ctx.store.new_hex_id() + ctx.store.new_hex_id(), user_id=user.id, project_id=project.id,
                  roles=roles, expires_at=now + ctx.store.token_ttl)
    ctx.store.tokens[token.id] = token
    payload = {
        "token": {
            "methods": methods,
            "user": {"id": user.id, "name": user.name, "domain": _DOMAIN, "password_expires_at": None},
            "project": {"id": project.id, "name": project.name, "domain": _DOMAIN},
            "roles": [{"id": f"role-{r}", "name": r} for r in roles],
            "is_domain": False,
            "audit_ids": [ctx.store.new_hex_id()[:22]],
            "issued_at": iso_micro(now) + "Z",
            "expires_at": iso_micro(token.expires_at) + "Z",
            "catalog": catalog(ctx, project),
        }
    }
    return json_response(payload, 201, {"X-Subject-Token": token.id})


def validate_token(ctx: Ctx) -> Response:
    subject = ctx.store.tokens.get(ctx.request.headers.get("X-Subject-Token", ""))
    if subject is None or subject.expires_at <= ctx.store.utcnow():
        raise keystone_error(404, "Not Found", "Could not find token.")
    return empty(200)


def list_projects(ctx: Ctx) -> Response:
    projects = [p for p in ctx.store.projects.values() if ctx.is_admin or p.id == ctx.project_id]
    return json_response({"projects": [{"id": p.id, "name": p.name, "domain_id": p.domain_id, "enabled": True,
                                        "is_domain": False, "parent_id": p.domain_id, "description": "",
                                        "tags": [], "links": {}} for p in projects], "links": {}})


def register(routes: Routes) -> None:
    routes.add("GET", "/identity", versions, public=True)
    routes.add("GET", "/identity/v3", version, public=True)
    routes.add("POST", "/identity/v3/auth/tokens", issue_token, public=True)
    routes.add("HEAD", "/identity/v3/auth/tokens", validate_token)
    routes.add("GET", "/identity/v3/auth/tokens", validate_token)
    routes.add("GET", "/identity/v3/projects", list_projects)
