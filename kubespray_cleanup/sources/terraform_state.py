"""Read Terraform/OpenTofu v4 state natively, so ownership is known without a terraform binary."""

from __future__ import annotations

import glob
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubespray_cleanup.errors import StateError
from kubespray_cleanup.model import Kind

TYPE_KINDS: Mapping[str, Kind] = {
    "openstack_compute_instance_v2": Kind.SERVER,
    "openstack_networking_port_v2": Kind.PORT,
    "openstack_networking_trunk_v2": Kind.TRUNK,
    "openstack_networking_floatingip_v2": Kind.FLOATING_IP,
    "openstack_networking_floatingip_associate_v2": Kind.FLOATING_IP,
    "openstack_networking_router_v2": Kind.ROUTER,
    "openstack_networking_router_interface_v2": Kind.ROUTER_INTERFACE,
    "openstack_networking_network_v2": Kind.NETWORK,
    "openstack_networking_subnet_v2": Kind.SUBNET,
    "openstack_networking_secgroup_v2": Kind.SECURITY_GROUP,
    "openstack_networking_secgroup_rule_v2": Kind.SECURITY_GROUP_RULE,
    "openstack_compute_keypair_v2": Kind.KEYPAIR,
    "openstack_compute_servergroup_v2": Kind.SERVER_GROUP,
    "openstack_blockstorage_volume_v2": Kind.VOLUME,
    "openstack_blockstorage_volume_v3": Kind.VOLUME,
    "openstack_lb_loadbalancer_v2": Kind.LOAD_BALANCER,
}

IGNORED_OPENSTACK_TYPES: frozenset[str] = frozenset(
    {
        "openstack_compute_floatingip_associate_v2",
        "openstack_compute_volume_attach_v2",
        "openstack_lb_listener_v2",
        "openstack_lb_pool_v2",
        "openstack_lb_member_v2",
        "openstack_lb_members_v2",
        "openstack_lb_monitor_v2",
        "openstack_lb_l7policy_v2",
        "openstack_lb_l7rule_v2",
    }
)

STATE_VERSION = 4
LOCK_INFO_TEMPLATE = ".{name}.lock.info"
GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class StateEntry:
    """One managed resource instance (current, tainted or deposed) found in a state."""

    address: str
    tf_type: str
    kind: Kind | None
    id: str
    name: str
    project_id: str
    attributes: Mapping[str, Any] = field(compare=False, hash=False, repr=False)
    dependencies: tuple[str, ...] = ()
    tainted: bool = False
    deposed: str | None = None

    @property
    def resource_address(self) -> str:
        """The address without the instance index, as ``dependencies`` name resources."""
        return _strip_index(self.address)


@dataclass(frozen=True)
class StateFile:
    """One parsed state snapshot and where it came from."""

    source: str
    serial: int
    lineage: str
    terraform_version: str
    modified_at: datetime | None
    locked: bool
    entries: tuple[StateEntry, ...]
    unknown_types: tuple[str, ...]
    owner_hint: str | None = None  # the owner a state's name gives (GitLab-managed states are named after the job)
    locked_at: datetime | None = None  # when the lock was taken, when the lock says so

    def ids(self) -> set[tuple[Kind, str]]:
        """Every OpenStack object this state owns, as ``(kind, id)``."""
        return {(e.kind, e.id) for e in self.entries if e.kind is not None and e.id}

    def by_address(self) -> dict[str, list[StateEntry]]:
        """Entries grouped by resource address (no index), in state order."""
        grouped: dict[str, list[StateEntry]] = {}
        for entry in self.entries:
            grouped.setdefault(entry.resource_address, []).append(entry)
        return grouped


def parse_state(text: str | bytes, source: str, modified_at: datetime | None = None, locked: bool = False) -> StateFile:
    """Parse the JSON text of a v4 state; any defect raises :class:`StateError`."""
    document = _load_json(_decode(text, source), source)
    version = document.get("version")
    if version is None:
        raise StateError(source, "no state 'version' field")
    if type(version) is not int or version != STATE_VERSION:
        raise StateError(source, f"unsupported state version {version!r}")
    resources = document.get("resources")
    if resources is None:
        raise StateError(source, "missing 'resources'")
    if not isinstance(resources, list):
        raise StateError(source, f"'resources' is {_json_type(resources)}, not a list")
    entries: list[StateEntry] = []
    unknown: set[str] = set()
    for position, resource in enumerate(resources):
        entries.extend(_resource_entries(resource, position, source, unknown))
    return StateFile(
        source=source,
        serial=_optional_int(document, "serial", source),
        lineage=_optional_str(document, "lineage", source),
        terraform_version=_optional_str(document, "terraform_version", source),
        modified_at=modified_at,
        locked=locked,
        entries=tuple(entries),
        unknown_types=tuple(sorted(unknown)),
    )


def load_state_file(path: Path) -> StateFile:
    """Read one local state file, its mtime and the lock info Terraform leaves beside it."""
    source = str(path)
    try:
        data = path.read_bytes()
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise StateError(source, f"cannot read file: {exc.strerror or exc}") from None
    lock_info = path.parent / LOCK_INFO_TEMPLATE.format(name=path.name)
    locked = lock_info.exists()
    modified_at = datetime.fromtimestamp(mtime, tz=UTC)
    state = parse_state(data, source, modified_at=modified_at, locked=locked)
    return replace(state, locked_at=_lock_created(lock_info)) if locked else state


def _lock_created(lock_info: Path) -> datetime | None:
    """When a lock was taken: its ``Created`` field (Terraform's lock info JSON), else the file's mtime."""
    try:
        data: Any = json.loads(lock_info.read_text())
        text = re.sub(r"(\.\d{6})\d+", r"\1", str(data["Created"]))  # Go writes nanoseconds
        created = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return created if created.tzinfo else created.replace(tzinfo=UTC)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        return datetime.fromtimestamp(lock_info.stat().st_mtime, tz=UTC)
    except OSError:
        return None


def load_state_paths(paths: Iterable[str]) -> list[StateFile]:
    """Load state files named by paths, directories (searched for ``*.tfstate``) or globs."""
    seen: set[Path] = set()
    states: list[StateFile] = []
    for spec in paths:
        for path in _expand(spec):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                states.append(load_state_file(path))
    return states


def _expand(spec: str) -> list[Path]:
    if GLOB_CHARS.intersection(spec):
        matches = [Path(m) for m in sorted(glob.glob(spec, recursive=True))]
        if not matches:
            raise StateError(spec, "no file matches this pattern")
        found = [p for match in matches for p in _files_of(match)]
        if not found:
            raise StateError(spec, "pattern matches no *.tfstate file")
        return found
    path = Path(spec)
    if path.is_dir():
        found = _states_in_dir(path)
        if not found:
            raise StateError(spec, "no *.tfstate file in directory")
        return found
    if path.is_file():
        return [path]
    raise StateError(spec, "no such file or directory")


def _files_of(path: Path) -> list[Path]:
    if path.is_dir():
        return _states_in_dir(path)
    if path.name.endswith(".backup"):
        return []
    return [path]


def _states_in_dir(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.rglob("*.tfstate") if p.is_file() and ".terraform" not in p.relative_to(directory).parts
    )


def _decode(text: str | bytes, source: str) -> str:
    if isinstance(text, str):
        return text.removeprefix("\ufeff")
    try:
        return text.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StateError(source, f"not UTF-8 text (bad byte at offset {exc.start})") from None


def _load_json(text: str, source: str) -> dict[str, Any]:
    if not text.strip():
        raise StateError(source, "empty file")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise StateError(source, f"truncated JSON at line {exc.lineno}") from None
        raise StateError(source, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise StateError(source, "not JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise StateError(source, f"not a JSON object (got {_json_type(document)})")
    return document


def _resource_entries(resource: Any, position: int, source: str, unknown: set[str]) -> list[StateEntry]:
    where = f"resources[{position}]"
    if not isinstance(resource, dict):
        raise StateError(source, f"{where} is {_json_type(resource)}, not an object")
    mode = _required_str(resource, "mode", where, source)
    tf_type = _required_str(resource, "type", where, source)
    name = _required_str(resource, "name", where, source)
    module = _optional_str(resource, "module", source, where)
    if mode not in ("managed", "data"):
        raise StateError(source, f"{where} has unknown mode {mode!r}")
    instances = resource.get("instances", [])
    if not isinstance(instances, list):
        raise StateError(source, f"{where}.instances is {_json_type(instances)}, not a list")
    if mode == "data":
        return []
    base = f"{module}.{tf_type}.{name}" if module else f"{tf_type}.{name}"
    kind = TYPE_KINDS.get(tf_type)
    if kind is None and tf_type.startswith("openstack_") and tf_type not in IGNORED_OPENSTACK_TYPES:
        unknown.add(tf_type)
    return [
        _instance_entry(instance, base, tf_type, kind, f"{where}.instances[{i}]", source)
        for i, instance in enumerate(instances)
    ]


def _instance_entry(instance: Any, base: str, tf_type: str, kind: Kind | None, where: str, source: str) -> StateEntry:
    if not isinstance(instance, dict):
        raise StateError(source, f"{where} of {base} is {_json_type(instance)}, not an object")
    attributes = instance.get("attributes", instance.get("attributes_flat"))
    if not isinstance(attributes, dict):
        raise StateError(source, f"{where} of {base} has no attributes object")
    address = base + _index_suffix(instance.get("index_key"), where, source)
    deposed = instance.get("deposed")
    if deposed is not None and not isinstance(deposed, str):
        raise StateError(source, f"{address}: 'deposed' is not a string")
    return StateEntry(
        address=address,
        tf_type=tf_type,
        kind=kind,
        id=_object_id(tf_type, attributes),
        name=_text(attributes.get("name")),
        project_id=_text(attributes.get("project_id")) or _text(attributes.get("tenant_id")),
        attributes=attributes,
        dependencies=_dependencies(instance, address, source),
        tainted=instance.get("status") == "tainted",
        deposed=deposed or None,
    )


def _index_suffix(key: Any, where: str, source: str) -> str:
    if key is None:
        return ""
    if type(key) is int:
        return f"[{key}]"
    if isinstance(key, str):
        return f"[{json.dumps(key, ensure_ascii=False)}]"
    raise StateError(source, f"{where} has an index_key that is {_json_type(key)}")


def _object_id(tf_type: str, attributes: Mapping[str, Any]) -> str:
    raw_id = _text(attributes.get("id"))
    if tf_type == "openstack_compute_keypair_v2":
        return _text(attributes.get("name")) or raw_id
    if tf_type == "openstack_networking_router_interface_v2":
        return _text(attributes.get("port_id")) or raw_id
    return raw_id


def _dependencies(instance: Mapping[str, Any], address: str, source: str) -> tuple[str, ...]:
    deps = instance.get("dependencies") or []
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise StateError(source, f"{address}: 'dependencies' is not a list of strings")
    return tuple(deps)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if type(value) is int:
        return str(value)
    return ""


def _required_str(obj: Mapping[str, Any], key: str, where: str, source: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise StateError(source, f"{where} has no '{key}' string")
    return value


def _optional_str(obj: Mapping[str, Any], key: str, source: str, where: str = "state") -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise StateError(source, f"{where} '{key}' is {_json_type(value)}, not a string")
    return value


def _optional_int(obj: Mapping[str, Any], key: str, source: str) -> int:
    value = obj.get(key)
    if value is None:
        return 0
    if type(value) is not int:
        raise StateError(source, f"state '{key}' is {_json_type(value)}, not an integer")
    return value


def _strip_index(address: str) -> str:
    if not address.endswith("]"):
        return address
    position = address.rfind("[")
    while position > 0:
        key = address[position + 1 : -1]
        if key.isdigit() or _is_rendered_string(key):
            return address[:position]
        position = address.rfind("[", 0, position)
    return address


def _is_rendered_string(key: str) -> bool:
    if not key.startswith('"'):
        return False
    try:
        value = json.loads(key)
    except ValueError:
        return False
    return isinstance(value, str) and json.dumps(value, ensure_ascii=False) == key


def _json_type(value: Any) -> str:
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return "null" if value is None else names.get(type(value), type(value).__name__)
