"""Seed a store from a resolved scenario: projects, CI users and clouds, then records through the same model
functions the APIs use (Kubespray clusters through the cluster builder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubespray_cleanup.simulator import glance, neutron, nova
from kubespray_cleanup.simulator.deployment import Deployment
from kubespray_cleanup.simulator.scenarios import kubespray
from kubespray_cleanup.simulator.scenarios.document import Credential, Scenario, ScenarioError, resolve
from kubespray_cleanup.simulator.store import Project, Record, Store


def add_ci_user(store: Store, scenario: Scenario, project: Project, user_id: str | None = None) -> None:
    """Give ``project`` its CI user ``<project>-ci`` (password ``<project>-password``) and a cloud of its name.

    ``user_id`` fixes the user's id (an inventory dump's servers and keypairs name it); when a user with
    that id already exists, it gets a role on ``project`` instead, and the cloud uses its name and password.
    The admin user, if there is one already, gets the admin role on the project too.
    """
    name = project.name
    existing = store.users.get(user_id) if user_id else None
    if existing is not None:
        existing.roles.setdefault(project.id, ["member"])
        if not any(c.cloud == name for c in scenario.credentials):
            scenario.credentials.append(Credential(name, existing.name, existing.password, name))
    elif store.user_by_name(f"{name}-ci") is None:
        store.add_user(f"{name}-ci", f"{name}-password", project, user_id=user_id)
        scenario.credentials.append(Credential(name, f"{name}-ci", f"{name}-password", name))
    admin = store.user_by_name("admin")
    if admin is not None:
        admin.roles.setdefault(project.id, ["admin", "member"])


def _add_identity(store: Store, scenario: Scenario, names: list[str]) -> dict[str, Project]:
    projects: dict[str, Project] = {}
    for entry in names:
        name = entry if isinstance(entry, str) else str(entry["name"])
        pid = None if isinstance(entry, str) else entry.get("id")
        project = store.project_by_name(name) or store.add_project(name, pid)
        projects[name] = project
        add_ci_user(store, scenario, project)
    admin_project = store.project_by_name("admin") or store.add_project("admin")
    if store.user_by_name("admin") is None:
        admin = store.add_user("admin", "admin-password", admin_project, roles=("admin", "member"))
        for project in store.projects.values():
            admin.roles.setdefault(project.id, ["admin", "member"])
        scenario.credentials.append(Credential("admin", "admin", "admin-password", "admin"))
    return projects


def load_scenario(store: Store, spec: str) -> Scenario:
    """Seed ``store`` from a built-in scenario name or a scenario/inventory file path."""
    data = resolve(spec)
    scenario = Scenario(name=str(data.get("name", spec)), description=str(data.get("description", "")),
                        gitlab_jobs={str(k): str(v) for k, v in (data.get("gitlab_jobs") or {}).items()})
    with store.lock:
        projects = _add_identity(store, scenario, list(data.get("projects", [])))
        apply(store, scenario, data, projects)
    return scenario



def apply(store: Store, scenario: Scenario, data: dict[str, Any], projects: dict[str, Project]) -> None:
    if data.get("deployment") is not None:
        try:
            store.deployment = Deployment.from_mapping(data["deployment"])
        except (TypeError, ValueError) as exc:
            raise ScenarioError(f"scenario {scenario.name}: {exc}") from None
    for flavor in data.get("flavors", []):
        nova.create_flavor(store, **flavor)
    for image in data.get("images", []):
        glance.create_image(store, **image)
    for project in projects.values():
        neutron.ensure_default_security_group(store, project.id)
    ext = data.get("external_network")
    if ext:
        _external_network(store, ext)
    if "inventory" in data or "inventory_data" in data:
        inventory = data.get("inventory_data")
        if inventory is None:
            path = Path(data.get("_base_dir") or ".") / str(data["inventory"])
            inventory = json.loads(path.read_text())
        for project, user_id in load_inventory(store, inventory):
            add_ci_user(store, scenario, project, user_id)
    for table, rows in (data.get("resources") or {}).items():
        for row in rows:
            store.put(table, _with_project(store, dict(row)))
    for router in data.get("shared_routers", []):
        owner = projects[str(router["project"])]
        ext_id = _external_network_id(store)
        neutron.create_router(store, owner.id, str(router["name"]), external_network_id=ext_id,
                              router_id=router.get("id"))
    if data.get("clusters"):
        kubespray.build_clusters(store, scenario, data, projects)
    for project_name, services in (data.get("quotas") or {}).items():
        target = store.project_by_name(str(project_name))
        if target is None:
            raise ValueError(f"quotas name unknown project {project_name!r}")
        for service, limits in (services or {}).items():
            store.set_quota(target.id, str(service), **{str(k): int(v) for k, v in (limits or {}).items()})


def _external_network(store: Store, ext: dict[str, Any]) -> None:
    admin = store.project_by_name("admin")
    assert admin is not None
    net = neutron.create_network(store, admin.id, str(ext.get("name", "public")), external=True, shared=False,
                                 network_id=ext.get("id"))
    neutron.create_subnet(store, net["id"], str(ext.get("cidr", "198.51.100.0/24")),
                          name=f"{net['name']}-subnet", project_id=admin.id, enable_dhcp=False,
                          gateway_ip=ext.get("gateway_ip"))


def _external_network_id(store: Store) -> str | None:
    return next((n["id"] for n in store.iter("networks") if n.get("router:external")), None)


def _with_project(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    name = row.pop("project", None)
    if name is not None:
        project = store.project_by_name(str(name))
        if project is None:
            raise ValueError(f"resource {row.get('id')} names unknown project {name!r}")
        row.setdefault("project_id", project.id)
        row.setdefault("tenant_id", project.id)
    return row


def load_inventory(store: Store, inventory: dict[str, Any]) -> list[tuple[Project, str | None]]:
    """Insert raw records from an inventory dump; projects are made from their ids.

    Returns the projects made (named ``project-<first 8 hex digits of the id>``), each with the id of the
    user who acted in it (None when the dump tells none): the ``user_id`` of its servers, volumes or server
    groups, else, for the project owning most records, the owner of the dump's keypairs. When that project
    existed already (a scenario named it), the keypairs are handed to its ``<name>-ci`` user instead.
    """
    made: dict[str, Project] = {}
    owned: dict[str, int] = {}
    actors: dict[str, str] = {}
    keypairs: list[Record] = []
    for table, rows in inventory.items():
        if not isinstance(rows, list):
            continue
        for row in rows:
            row = dict(row)
            pid = row.get("project_id") or row.get("tenant_id")
            if pid:
                pid = str(pid)
                if pid not in store.projects:
                    made[pid] = store.add_project(f"project-{pid[:8]}", pid)
                owned[pid] = owned.get(pid, 0) + 1
                if row.get("user_id") and table in ("servers", "volumes", "server_groups"):
                    actors.setdefault(pid, str(row["user_id"]))
            if table == "keypairs":
                row.setdefault("id", row.get("name"))
                row.setdefault("_user_id", row.get("user_id", ""))
                keypairs.append(row)
            store.put(table, row)
    for user_id in dict.fromkeys(str(k["_user_id"]) for k in keypairs if k["_user_id"]):
        acting = [pid for pid, actor in actors.items() if actor == user_id]
        idle = [pid for pid in owned if pid not in actors]
        if not acting and idle:
            acting = [max(idle, key=lambda pid: owned[pid])]
            actors[acting[0]] = user_id
        for pid in acting:
            ci = None if pid in made else store.user_by_name(f"{store.projects[pid].name}-ci")
            if ci is not None and ci.id != user_id and user_id not in store.users:
                for keypair in keypairs:
                    if keypair["_user_id"] == user_id:
                        keypair["_user_id"] = ci.id
            break
    return [(project, actors.get(pid)) for pid, project in made.items()]
