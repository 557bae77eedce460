"""Neutron API handlers for security groups and rules (N9, N10, default-group handling, rule cascades)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import empty, neutron_error
from kubespray_cleanup.simulator.neutron import quota
from kubespray_cleanup.simulator.neutron.api_core import check_attrs
from kubespray_cleanup.simulator.neutron.model import (
    create_security_group,
    create_security_group_rule,
    ensure_default_security_group,
    remove_security_group,
    touch,
)
from kubespray_cleanup.simulator.neutron.query import (
    bulk_bodies,
    created,
    fetch,
    list_handler,
    list_response,
    one,
    owner_for_create,
    post_handler,
    resource_body,
    show_handler,
)
from kubespray_cleanup.simulator.store import Record

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

SG_CREATE = frozenset(("name", "description", "stateful", "tags", "project_id", "tenant_id"))
SG_UPDATE = frozenset(("name", "description", "stateful", "tags"))
RULE_CREATE = frozenset(("security_group_id", "direction", "ethertype", "protocol", "port_range_min",
                         "port_range_max", "remote_ip_prefix", "remote_group_id", "remote_address_group_id",
                         "description", "project_id", "tenant_id"))
_RULE_IDENTITY = ("security_group_id", "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
                  "remote_ip_prefix", "remote_group_id")
_PROTOCOL_NUMBERS = {"icmp": "1", "tcp": "6", "udp": "17", "icmpv6": "58", "ipv6-icmp": "58"}


def _check_not_default_name(name: Any) -> None:
    if isinstance(name, str) and name.lower() == "default":
        raise neutron_error(409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")


def list_security_groups(ctx: Ctx) -> Response:
    if ctx.project_id:
        ensure_default_security_group(ctx.store, ctx.project_id)
    return list_response(ctx, "security-groups", ctx.store.iter("security_groups"))


def post_security_groups(ctx: Ctx) -> Response:
    bodies, bulk = bulk_bodies(ctx, "security-groups")
    made: list[Record] = []
    for body in bodies:
        check_attrs(body, SG_CREATE)
        _check_not_default_name(body.get("name"))
        pid = owner_for_create(ctx, body)
        ensure_default_security_group(ctx.store, pid)
        quota.check(ctx.store, pid, "security_group")
        sg = create_security_group(ctx.store, pid, str(body.get("name", "")),
                                   description=str(body.get("description", "")))
        sg.update({k: body[k] for k in ("stateful", "tags") if k in body})
        made.append(sg)
    return created(ctx, "security-groups", made, bulk)


def put_security_group(ctx: Ctx, sg_id: str) -> Response:
    sg = fetch(ctx, "security-groups", sg_id, modify=True)
    body = resource_body(ctx, "security-groups")
    check_attrs(body, SG_UPDATE)
    if sg["name"] == "default" and "name" in body and body["name"] != "default":
        raise neutron_error(409, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.")
    if sg["name"] != "default":
        _check_not_default_name(body.get("name"))
    sg.update(body)
    return one(ctx, "security-groups", touch(ctx.store, sg))


def delete_security_group(ctx: Ctx, sg_id: str) -> Response:
    sg = fetch(ctx, "security-groups", sg_id, delete=True)
    if any(sg_id in (p.get("security_groups") or []) for p in ctx.store.iter("ports")):
        raise neutron_error(409, "SecurityGroupInUse", f"Security Group {sg_id} in use.")
    if sg["name"] == "default" and not ctx.is_admin:
        raise neutron_error(409, "SecurityGroupCannotRemoveDefault",
                            "Insufficient rights for removing default security group.")
    remove_security_group(ctx.store, sg_id)
    return empty(204)


# --- rules -----------------------------------------------------------------------
def _visible_group(ctx: Ctx, sg_id: str) -> Record:
    sg = ctx.store.get("security_groups", sg_id)
    if sg is None or not (ctx.is_admin or sg["project_id"] == ctx.project_id or sg.get("shared")):
        raise neutron_error(404, "SecurityGroupNotFound", f"Security group {sg_id} does not exist")
    return sg


def _create_rule(ctx: Ctx, body: dict[str, Any]) -> Record:
    check_attrs(body, RULE_CREATE)
    sg = _visible_group(ctx, str(body.get("security_group_id", "")))
    if not ctx.is_admin and sg["project_id"] != ctx.project_id:
        raise neutron_error(404, "HTTPNotFound", "The resource could not be found.")
    direction = body.get("direction")
    if direction not in ("ingress", "egress"):
        raise neutron_error(400, "HTTPBadRequest", f"Invalid input for direction. Reason: {direction} is not in "
                            "valid_values.")
    if body.get("remote_group_id") and body.get("remote_ip_prefix"):
        raise neutron_error(400, "SecurityGroupRemoteGroupAndRemoteIpPrefix",
                            "Only remote_ip_prefix or remote_group_id may be provided.")
    if body.get("remote_group_id"):
        _visible_group(ctx, str(body["remote_group_id"]))
    low, high = body.get("port_range_min"), body.get("port_range_max")
    if low is not None and high is not None and int(low) > int(high):
        raise neutron_error(400, "SecurityGroupInvalidPortRange",
                            "For TCP/UDP protocols, port_range_min must be <= port_range_max")
    spec = {k: body.get(k) for k in _RULE_IDENTITY}
    spec["ethertype"] = body.get("ethertype") or "IPv4"
    _check_duplicate(ctx, spec)
    quota.check(ctx.store, sg["project_id"], "security_group_rule")
    rule = create_security_group_rule(
        ctx.store, sg["id"], direction=str(direction), ethertype=str(spec["ethertype"]),
        protocol=spec["protocol"], port_range_min=low, port_range_max=high,
        remote_ip_prefix=spec["remote_ip_prefix"], remote_group_id=spec["remote_group_id"],
        description=body.get("description", ""))
    touch(ctx.store, sg)
    return rule


def _check_duplicate(ctx: Ctx, spec: dict[str, Any]) -> None:
    def proto(value: Any) -> str | None:
        return None if value is None else _PROTOCOL_NUMBERS.get(str(value).lower(), str(value))

    for rule in ctx.store.iter("security_group_rules", security_group_id=spec["security_group_id"]):
        same = all(str(rule.get(k)) == str(spec.get(k)) for k in _RULE_IDENTITY if k != "protocol")
        if same and proto(rule.get("protocol")) == proto(spec.get("protocol")):
            raise neutron_error(409, "SecurityGroupRuleExists",
                                f"Security group rule already exists. Rule id is {rule['id']}.")


def delete_rule(ctx: Ctx, rule_id: str) -> Response:
    rule = fetch(ctx, "security-group-rules", rule_id, delete=True)
    ctx.store.remove("security_group_rules", rule_id)
    sg = ctx.store.get("security_groups", rule["security_group_id"])
    if sg is not None:
        touch(ctx.store, sg)
    return empty(204)


def register(routes: Routes) -> None:
    base = "/network/v2.0"
    routes.add("GET", f"{base}/security-groups", list_security_groups)
    routes.add("POST", f"{base}/security-groups", post_security_groups)
    routes.add("GET", f"{base}/security-groups/<sg_id>", show_handler("security-groups"))
    routes.add("PUT", f"{base}/security-groups/<sg_id>", put_security_group)
    routes.add("DELETE", f"{base}/security-groups/<sg_id>", delete_security_group)
    rules = "security-group-rules"
    routes.add("GET", f"{base}/{rules}", list_handler(rules))
    routes.add("POST", f"{base}/{rules}", post_handler(rules, _create_rule))
    routes.add("GET", f"{base}/{rules}/<rule_id>", show_handler(rules))
    routes.add("DELETE", f"{base}/security-group-rules/<rule_id>", delete_rule)
