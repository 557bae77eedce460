"""Turn a resolved scenario document into records, through the same model functions the APIs use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubespray_cleanup.simulator.store import Project, Store

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
        load_inventory(store, inventory)
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


def load_inventory(store: Store, inventory: dict[str, Any]) -> None:
    """Insert raw records from an inventory dump; projects and users are made from their ids."""
    for table, rows in inventory.items():
        if not isinstance(rows, list):
            continue
        for row in rows:
            row = dict(row)
            pid = row.get("project_id") or row.get("tenant_id")
            if pid and pid not in store.projects:
                store.add_project(f"project-{pid[:8]}", pid)
            if table == "keypairs":
                row.setdefault("id", row.get("name"))
                row.setdefault("_user_id", row.get("user_id", ""))
            store.put(table, row)
