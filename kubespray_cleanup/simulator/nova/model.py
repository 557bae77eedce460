"""Nova flavors, servers (with their ports, volumes and groups), keypairs and server groups as records."""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
import string
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from kubespray_cleanup.simulator.api_common import project_of
from kubespray_cleanup.simulator.cinder import interface as cinder
from kubespray_cleanup.simulator.http import ApiError, nova_fault
from kubespray_cleanup.simulator.neutron import interface as neutron
from kubespray_cleanup.simulator.store import Record, Store, iso, iso_micro

AZ = "nova"
HOST = "sim-compute"  # the host Neutron's port binding names too
# nova/api/openstack/common.py _STATE_MAP (task-state variants are not modelled).
VM_STATE_STATUS = {"active": "ACTIVE", "building": "BUILD", "stopped": "SHUTOFF", "resized": "VERIFY_RESIZE",
                   "paused": "PAUSED", "suspended": "SUSPENDED", "rescued": "RESCUE", "error": "ERROR",
                   "deleted": "DELETED", "soft_deleted": "SOFT_DELETED", "shelved": "SHELVED",
                   "shelved_offloaded": "SHELVED_OFFLOADED"}
STATUS_VM_STATE = {status: vm for vm, status in VM_STATE_STATUS.items()}
_POWER = {"active": 1, "building": 0, "stopped": 4, "paused": 3, "suspended": 7, "error": 0,
          "soft_deleted": 4, "shelved": 4, "shelved_offloaded": 4, "rescued": 1, "resized": 1}


def not_found(server_id: str) -> ApiError:
    return nova_fault(404, f"Instance {server_id} could not be found.")


# --- flavors --------------------------------------------------------------------------------
def create_flavor(store: Store, *, name: str, vcpus: int, ram: int, disk: int, **fields: Any) -> Record:
    """A public flavor in the ``/flavors/detail`` shape; ``id`` may be given in ``fields``."""
    flavor: Record = {
        "id": str(fields.pop("id", None) or store.new_id()), "name": name, "vcpus": int(vcpus), "ram": int(ram),
        "disk": int(disk), "swap": 0, "OS-FLV-EXT-DATA:ephemeral": 0, "OS-FLV-DISABLED:disabled": False,
        "os-flavor-access:is_public": True, "rxtx_factor": 1.0, "description": None, "extra_specs": {},
    }
    flavor.update(fields)
    return store.put("flavors", flavor)


# --- keypairs -------------------------------------------------------------------------------
def fingerprint(public_key: str) -> str:
    """MD5 fingerprint of an OpenSSH public key, as Nova computes it; ValueError when it is not one."""
    parts = public_key.strip().split()
    if len(parts) < 2:
        raise ValueError("not an OpenSSH public key")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not an OpenSSH public key") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def generate_key_pair() -> tuple[str, str]:
    """A throw-away (public, private) pair shaped like Nova's generated RSA keys (not a real key)."""
    blob = b"\x00\x00\x00\x07ssh-rsa" + random.randbytes(275)
    public = "ssh-rsa " + base64.b64encode(blob).decode() + " Generated-by-Nova"
    body = base64.encodebytes(random.randbytes(1190)).decode()
    return public, f"-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n"


def find_keypair(store: Store, user_id: str, name: str) -> Record | None:
    return next((k for k in store.iter("keypairs", name=name) if keypair_user(k) == user_id), None)


def keypair_user(keypair: Record) -> str:
    return str(keypair.get("_user_id") or keypair.get("user_id") or "")


def create_keypair(store: Store, user_id: str, name: str, public_key: str | None = None, *,
                   created_at: datetime | None = None, key_type: str = "ssh") -> Record:
    """Import (or, without ``public_key``, generate) a keypair of ``user_id``; 409 on a duplicate name."""
    if find_keypair(store, user_id, name) is not None:
        raise nova_fault(409, f"Key pair '{name}' already exists.")
    if public_key is None:
        public_key, _ = generate_key_pair()
    try:
        print_ = fingerprint(public_key)
    except ValueError:
        raise nova_fault(400, "Keypair data is invalid: failed to generate fingerprint") from None
    ids = [k["id"] for k in store.iter("keypairs") if isinstance(k.get("id"), int)]
    keypair: Record = {
        "id": max(ids, default=0) + 1, "name": name, "type": key_type, "fingerprint": print_,
        "public_key": public_key, "user_id": user_id, "created_at": iso_micro(created_at or store.utcnow()),
        "deleted": False, "deleted_at": None, "updated_at": None, "_user_id": user_id,
    }
    return store.put("keypairs", keypair)


# --- server groups ----------------------------------------------------------------------------
def create_server_group(store: Store, project_id: str, user_id: str, name: str,
                        policies: Sequence[str] = ("anti-affinity",), *, group_id: str | None = None,
                        created_at: datetime | None = None, rules: Mapping[str, Any] | None = None) -> Record:
    group: Record = {
        "id": group_id or store.new_id(), "name": name, "policies": list(policies),
        "policy": policies[0] if policies else None, "rules": dict(rules or {}), "members": [], "metadata": {},
        "project_id": project_id, "user_id": user_id,
        "_created_at": iso(created_at or store.utcnow()),
    }
    return store.put("server_groups", group)


def group_of_server(store: Store, server_id: str) -> Record | None:
    return next((g for g in store.iter("server_groups") if server_id in g.get("members", [])), None)


# --- servers: creation -------------------------------------------------------------------------
def create_server(store: Store, project_id: str, user_id: str, name: str, *, flavor_id: str,
                  image_id: str | None, networks: Iterable[Mapping[str, Any]] = (), key_name: str | None = None,
                  security_groups: Sequence[str] = ("default",), metadata: Mapping[str, str] | None = None,
                  server_group_id: str | None = None, server_id: str | None = None,
                  created_at: datetime | None = None, status: str = "ACTIVE",
                  block_device_mapping: Sequence[Mapping[str, Any]] | None = None,
                  availability_zone: str | None = None, description: str | None = None) -> Record:
    """A server with its ports bound, volumes attached and group membership, as nova-compute leaves it."""
    flavor = store.get("flavors", str(flavor_id))
    if flavor is None:
        raise nova_fault(400, f"Flavor {flavor_id} could not be found.")
    if image_id and store.get("images", image_id) is None:
        raise nova_fault(400, "Can not find requested image")
    if key_name is not None and find_keypair(store, user_id, key_name) is None:
        raise nova_fault(400, "Invalid key_name provided.")
    group = _server_group(store, project_id, server_group_id)
    specs = list(networks)
    sg_ids = _security_group_ids(store, project_id, security_groups) if _needs_sgs(specs) else []
    _check_networks(store, project_id, specs)
    sid = server_id or store.new_id()
    az = availability_zone or AZ
    server = store.put("servers", _server_record(store, sid, project_id, user_id, name, flavor, image_id, key_name,
                                                 metadata, az, status, created_at, description))
    server["_pinned_az"] = availability_zone
    for spec in specs:
        _plug(store, server, spec, sg_ids, created_at)
    for bdm in block_device_mapping or ():
        _map_block_device(store, server, bdm, flavor, created_at)
    if group is not None:
        group.setdefault("members", []).append(sid)
    return sync_derived(store, server)


def _server_record(store: Store, sid: str, project_id: str, user_id: str, name: str, flavor: Record,
                   image_id: str | None, key_name: str | None, metadata: Mapping[str, str] | None, az: str,
                   status: str, created_at: datetime | None, description: str | None) -> Record:
    vm_state = STATUS_VM_STATE.get(status.upper(), "active")
    when = created_at or store.utcnow()
    built = vm_state != "building"
    return {
        "id": sid, "name": name, "status": VM_STATE_STATUS[vm_state], "tenant_id": project_id,
        "project_id": project_id, "user_id": user_id, "metadata": dict(metadata or {}),
        "hostId": hashlib.sha224((project_id + HOST).encode()).hexdigest(),
        "image": {"id": image_id, "links": []} if image_id else "",
        "flavor": {"id": flavor["id"], "links": []}, "created": iso(when), "updated": iso(when),
        "addresses": {}, "accessIPv4": "", "accessIPv6": "", "links": [], "key_name": key_name,
        "security_groups": [], "OS-DCF:diskConfig": "MANUAL", "OS-EXT-AZ:availability_zone": az,
        "OS-EXT-STS:task_state": None if built else "scheduling", "OS-EXT-STS:vm_state": vm_state,
        "OS-EXT-STS:power_state": _POWER.get(vm_state, 0),
        "OS-SRV-USG:launched_at": iso_micro(when) if built else None, "OS-SRV-USG:terminated_at": None,
        "config_drive": "", "progress": 0, "os-extended-volumes:volumes_attached": [], "locked": False,
        "locked_reason": None, "description": description, "tags": [],
        "_flavor": {k: flavor.get(k) for k in ("id", "name", "vcpus", "ram", "disk", "swap", "extra_specs")},
        "_host": HOST, "_bdms": [], "_ports": [], "_instance_name": f"instance-{int(sid.replace('-', '')[:7], 16):08x}",
        "_reservation_id": "r-" + "".join(random.choices(string.ascii_lowercase + string.digits, k=8)),
    }


def _server_group(store: Store, project_id: str, group_id: str | None) -> Record | None:
    if not group_id:
        return None
    group = store.get("server_groups", group_id)
    if group is None or project_of(group) != project_id:
        raise nova_fault(400, f"Instance group {group_id} could not be found.")
    return group


def _needs_sgs(specs: Sequence[Mapping[str, Any]]) -> bool:
    return any("port" not in spec for spec in specs)


def _security_group_ids(store: Store, project_id: str, names: Sequence[str]) -> list[str]:
    """Resolve requested names (or ids) within the project like nova/network/security_group_api."""
    ids: list[str] = []
    for name in dict.fromkeys(names):
        if name == "default":
            sg: Record | None = neutron.ensure_default_security_group(store, project_id)
        else:
            owned = [g for g in store.iter("security_groups") if project_of(g) == project_id]
            sg = next((g for g in owned if g.get("id") == name), None) or next(
                (g for g in owned if g.get("name") == name), None)
        if sg is None:
            raise nova_fault(400, f"Security group {name} not found for project {project_id}.")
        ids.append(str(sg["id"]))
    return ids


def _check_networks(store: Store, project_id: str, specs: Sequence[Mapping[str, Any]]) -> None:
    for spec in specs:
        if spec.get("port"):
            port = store.get("ports", str(spec["port"]))
            if port is None or project_of(port) != project_id:
                raise nova_fault(400, f"Port id {spec['port']} could not be found.")
            if port.get("device_id"):
                raise nova_fault(409, f"Port {spec['port']} is still in use.")
            continue
        net_id = str(spec.get("uuid") or "")
        net = store.get("networks", net_id)
        if net is None or not (project_of(net) == project_id or net.get("shared")):
            raise nova_fault(400, f"Network {net_id} could not be found.")
        if not net.get("subnets") and not any(s.get("network_id") == net_id for s in store.iter("subnets")):
            raise nova_fault(400, f"Network {net_id} requires a subnet in order to boot instances on.")


def _plug(store: Store, server: Record, spec: Mapping[str, Any], sg_ids: list[str],
          created_at: datetime | None) -> None:
    """Bind a pre-created port (kept on delete) or create one on the network (deleted with the server)."""
    owner = f"compute:{server['OS-EXT-AZ:availability_zone']}"
    if spec.get("port"):
        port = neutron.update_port(store, str(spec["port"]), device_id=server["id"], device_owner=owner)
        port["_preserve_on_delete"] = True
    else:
        fixed = [{"ip_address": spec["fixed_ip"]}] if spec.get("fixed_ip") else None
        port = neutron.create_port(store, str(spec["uuid"]), project_of(server), fixed_ips=fixed,
                                   security_group_ids=list(sg_ids), device_id=server["id"], device_owner=owner,
                                   created_at=created_at)
        port["_preserve_on_delete"] = False
    server.setdefault("_ports", []).append(port["id"])


def _map_block_device(store: Store, server: Record, bdm: Mapping[str, Any], flavor: Record,
                      created_at: datetime | None) -> None:
    """``block_device_mapping_v2`` entry: attach an existing volume or let Nova create one."""
    if bdm.get("destination_type", "volume") != "volume":
        return
    source = bdm.get("source_type", "volume")
    boot_index = bdm.get("boot_index")
    root = boot_index is not None and int(boot_index) == 0
    if source == "volume":
        vol_id = str(bdm.get("uuid") or "")
        vol = store.get("volumes", vol_id)
        if vol is None or project_of(vol) != project_of(server):
            raise nova_fault(400, f"Block Device Mapping is Invalid: failed to get volume {vol_id}.")
        if vol.get("status") != "available":
            raise nova_fault(400, f"Invalid volume: volume '{vol_id}' status must be 'available'. Currently in "
                                  f"'{vol.get('status')}'")
    else:
        size = int(bdm.get("volume_size") or flavor.get("disk") or 1)
        snapshot_id = str(bdm["uuid"]) if source == "snapshot" else None
        vol = cinder.create_volume(store, project_of(server), "", size, created_at=created_at,
                                         snapshot_id=snapshot_id, user_id=str(server["user_id"]),
                                         bootable=source == "image")
    attach_volume(store, server["id"], vol["id"], bdm.get("device_name"),
                  delete_on_termination=bool(bdm.get("delete_on_termination", False)), root=root)


# --- servers: volumes ----------------------------------------------------------------------------
def bdms(store: Store, server: Record) -> list[Record]:
    """Block device mappings; raw inventory rows get them from ``volumes_attached`` and Cinder's attachments."""
    if "_bdms" not in server:
        server["_bdms"] = [_bdm_from_cinder(store, server, v)
                           for v in server.get("os-extended-volumes:volumes_attached", [])]
    result: list[Record] = server["_bdms"]
    return result


def _bdm_from_cinder(store: Store, server: Record, attached: Record) -> Record:
    volume = store.get("volumes", str(attached.get("id"))) or {}
    att: Record = next((a for a in volume.get("attachments", []) if a.get("server_id") == server["id"]), {})
    return {"volume_id": attached.get("id"), "delete_on_termination": bool(attached.get("delete_on_termination")),
            "device": att.get("device"), "root": att.get("device") == "/dev/vda",
            "attachment_id": att.get("attachment_id"), "bdm_uuid": store.new_id(), "tag": None}


def _next_device(store: Store, server: Record, root: bool) -> str:
    used = {b.get("device") for b in bdms(store, server)}
    if root and "/dev/vda" not in used:
        return "/dev/vda"
    letter = next(c for c in string.ascii_lowercase[1:] if f"/dev/vd{c}" not in used)
    return f"/dev/vd{letter}"


def attach_volume(store: Store, server_id: str, volume_id: str, device: str | None = None, *,
                  delete_on_termination: bool = False, root: bool = False) -> None:
    """Attach on both sides: a Nova BDM and a Cinder attachment (volume ``in-use``)."""
    server = store.get("servers", server_id)
    if server is None:
        raise not_found(server_id)
    device = device or _next_device(store, server, root)
    attachment_id = cinder.add_attachment(store, volume_id, server_id, device, str(server.get("_host", HOST)))
    bdms(store, server).append({"volume_id": volume_id, "delete_on_termination": delete_on_termination,
                         "device": device, "root": root, "attachment_id": attachment_id,
                         "bdm_uuid": store.new_id(), "tag": None})
    sync_derived(store, server)


def detach_volume(store: Store, server_id: str, volume_id: str) -> None:
    """Drop the BDM and the Cinder attachment(s) of one volume."""
    server = store.get("servers", server_id)
    if server is not None:
        server["_bdms"] = [b for b in bdms(store, server) if b.get("volume_id") != volume_id]
        sync_derived(store, server)
    cinder.detach_server(store, volume_id, server_id)


# --- servers: state, ports and derived fields ------------------------------------------------------
def set_state(store: Store, server: Record, vm_state: str, task_state: str | None = None,
              at: datetime | None = None) -> None:
    server["OS-EXT-STS:vm_state"] = vm_state
    server["OS-EXT-STS:task_state"] = task_state
    server["OS-EXT-STS:power_state"] = _POWER.get(vm_state, 0)
    server["status"] = VM_STATE_STATUS.get(vm_state, "UNKNOWN")
    server["updated"] = iso(at or store.utcnow())


def finish_build(store: Store, server_id: str, at: datetime | None = None) -> None:
    """BUILD -> ACTIVE once nova-compute spawned the guest (``at``: when, for seeded history)."""
    server = store.get("servers", server_id)
    if server is None or server.get("OS-EXT-STS:vm_state") != "building":
        return
    if server.get("OS-EXT-STS:task_state") == "deleting":
        return
    set_state(store, server, "active", at=at)
    server["OS-SRV-USG:launched_at"] = iso_micro(at or store.utcnow())
    sync_derived(store, server)


def server_ports(store: Store, server_id: str) -> list[Record]:
    """Ports bound to the server (Nova's ``device_id`` lookup), in the order they were requested."""
    server = store.get("servers", server_id) or {}
    order = {pid: i for i, pid in enumerate(server.get("_ports", []))}
    ports = list(store.iter("ports", device_id=server_id))
    return sorted(ports, key=lambda p: (order.get(p["id"], len(order)), str(p.get("created_at", "")), str(p["id"])))


def release_port(store: Store, port: Record) -> None:
    """Nova ``deallocate_for_instance``: delete ports it created, unbind the ones it was given."""
    if port.get("_preserve_on_delete", True):
        port.pop("_preserve_on_delete", None)
        neutron.update_port(store, port["id"], device_id="", device_owner="")
    else:
        neutron.remove_port(store, port["id"])


def _addresses(store: Store, ports: list[Record]) -> dict[str, list[Record]]:
    result: dict[str, list[Record]] = {}
    for port in ports:
        net = store.get("networks", str(port.get("network_id"))) or {}
        entries = result.setdefault(str(net.get("name") or port.get("network_id")), [])
        mac = port.get("mac_address")
        for ip in port.get("fixed_ips", []):
            addr = str(ip.get("ip_address"))
            entries.append({"version": 6 if ":" in addr else 4, "addr": addr, "OS-EXT-IPS:type": "fixed",
                            "OS-EXT-IPS-MAC:mac_addr": mac})
        for fip in store.iter("floating_ips", port_id=port["id"]):
            entries.append({"version": 4, "addr": fip.get("floating_ip_address"), "OS-EXT-IPS:type": "floating",
                            "OS-EXT-IPS-MAC:mac_addr": mac})
    return result


def _security_groups(store: Store, ports: list[Record]) -> list[Record]:
    """Names (id when unnamed) of the groups on the server's ports, like security_group_api."""
    names: dict[str, None] = {}
    for port in ports:
        for sg_id in port.get("security_groups", []):
            sg = store.get("security_groups", sg_id) or {}
            names[str(sg.get("name") or sg_id)] = None
    return [{"name": n} for n in names]


def sync_derived(store: Store, server: Record) -> Record:
    """Refresh ``addresses``, ``security_groups`` and ``volumes_attached`` from Neutron/Cinder state."""
    ports = server_ports(store, server["id"])
    if ports:  # from now on the ports are the truth, also once they are all gone
        server.setdefault("_ports", [p["id"] for p in ports])
    if "_ports" in server:
        server["addresses"] = {} if server.get("OS-EXT-STS:vm_state") == "building" else _addresses(store, ports)
        server["security_groups"] = _security_groups(store, ports)
    server["os-extended-volumes:volumes_attached"] = [
        {"id": b["volume_id"], "delete_on_termination": bool(b.get("delete_on_termination"))}
        for b in bdms(store, server)]
    return server
