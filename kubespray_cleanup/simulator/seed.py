"""Turn a resolved scenario document into records, through the same model functions the APIs use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubespray_cleanup.simulator.store import Project, Record, Store

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.scenarios import Scenario


def apply(store: Store, scenario: Scenario, data: dict[str, Any], projects: dict[str, Project]) -> None:
    from kubespray_cleanup.simulator import glance, neutron, nova

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
        from kubespray_cleanup.simulator.scenarios import add_ci_user

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
        from kubespray_cleanup.simulator import kubespray

        kubespray.build_clusters(store, scenario, data, projects)


def _external_network(store: Store, ext: dict[str, Any]) -> None:
    from kubespray_cleanup.simulator import neutron

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
