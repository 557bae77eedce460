"""Neutron API entry: version discovery, resource and extension lists, tags, quotas and route registration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from kubespray_cleanup.simulator.http import empty, json_response, neutron_error
from kubespray_cleanup.simulator.neutron import api_core as neutron_api_core
from kubespray_cleanup.simulator.neutron import api_l3 as neutron_api_l3
from kubespray_cleanup.simulator.neutron import api_sg as neutron_api_sg
from kubespray_cleanup.simulator.neutron import quota
from kubespray_cleanup.simulator.neutron.model import touch
from kubespray_cleanup.simulator.neutron.query import KINDS, fetch

if TYPE_CHECKING:
    from kubespray_cleanup.simulator.routing import Ctx, Routes

BASE = "/network/v2.0"
_UPDATED = "2013-01-20T00:00:00-00:00"
# (alias, name, description): what this simulator implements, under the aliases real Neutron uses.
EXTENSIONS = (
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("availability_zone", "Availability Zone", "The availability zone extension."),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    ("dns-integration", "DNS Integration", "Provides integration with DNS."),
    ("empty-string-filtering", "Empty String Filtering Extension", "Allow filtering by attributes with empty "
                                                                      "string value"),
    ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for "
                                                                      "specifying whether SNAT should occur on the "
                                                                      "external gateway"),
    ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra options configuration for DHCP. For example PXE boot "
                                                    "options to DHCP clients can be specified (e.g. tftp-server, "
                                                    "server-ip-address, bootfile-name)"),
    ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
    ("extraroute-atomic", "Atomically add/remove extra routes", "Edit extra routes of a router on server side "
                                                                "by atomically adding/removing extra routes"),
    ("filter-validation", "Filter parameters validation", "Provides validation on filter parameters."),
    ("ip-substring-filtering", "IP address substring filtering", "Provides IP address substring filtering when "
                                                                 "listing ports"),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("network_availability_zone", "Network Availability Zone", "Availability zone support for network."),
    ("pagination", "Pagination support", "Extension that indicates that pagination is enabled."),
    ("port-security", "Port Security", "Provides port security"),
    ("port-security-groups-filtering", "Port filtering on security groups", "Provides security groups filtering "
                                                                            "when listing ports"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
    ("quotas", "Quota management support", "Expose functions for quotas management per project"),
    ("quota_details", "Quota details management support", "Expose functions for quotas usage statistics per "
                                                           "project"),
    ("revision-if-match", "If-Match constraints based on revision_number", "Extension indicating that If-Match "
                                                                           "based on revision_number is "
                                                                           "supported."),
    ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and "
                                    "access to external networks via a NAT gateway."),
    ("router_availability_zone", "Router Availability Zone", "Availability zone support for router."),
    ("security-group", "security-group", "The security groups extension."),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard "
                                                                "attributes"),
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number "
                                                             "of neutron resources."),
    ("standard-attr-tag", "Tag support for resources with standard attribute: subnet, trunk, network_segment_"
                          "range, router, network, policy, subnetpool, port, security_group, floatingip",
     "Enables to set tag on resources with standard attribute."),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron "
                                                       "resources that have Neutron standard attributes."),
    ("stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not"),
    ("subnet-service-types", "Subnet service types", "Provides ability to set the subnet service_types field"),
    ("trunk", "Trunk Extension", "Provides support for trunk ports"),
    ("trunk-details", "Trunk port details", "Expose trunk port details"),
)
_TAGGABLE = ("any('networks', 'subnets', 'ports', 'routers', 'floatingips', 'security-groups', 'trunks')"
             ":collection")


def versions(ctx: Ctx) -> Response:
    return json_response({"versions": [{"id": "v2.0", "status": "CURRENT",
                                        "links": [{"href": ctx.url("network", "/v2.0/"), "rel": "self"}]}]})


def resources(ctx: Ctx) -> Response:
    rows = [{"name": singular, "collection": coll,
             "links": [{"href": ctx.url("network", f"/v2.0/{coll}"), "rel": "self"}]}
            for coll, (_, singular, _, _) in KINDS.items()]
    return json_response({"resources": rows})


def _extension(alias: str, name: str, description: str) -> dict[str, object]:
    return {"alias": alias, "name": name, "description": description, "updated": _UPDATED, "links": []}


def _loaded(ctx: Ctx) -> list[tuple[str, str, str]]:
    """The extensions this deployment loads (a cloud without the trunk plugin has no ``trunk``)."""
    absent = ctx.store.deployment.absent_extensions
    return [e for e in EXTENSIONS if e[0] not in absent]


def list_extensions(ctx: Ctx) -> Response:
    return json_response({"extensions": [_extension(*e) for e in _loaded(ctx)]})


def show_extension(ctx: Ctx, alias: str) -> Response:
    for ext in _loaded(ctx):
        if ext[0] == alias:
            return json_response({"extension": _extension(*ext)})
    raise neutron_error(404, "HTTPNotFound", f"Extension with alias {alias} does not exist")


# --- tags -------------------------------------------------------------------------
def get_tags(ctx: Ctx, collection: str, rid: str) -> Response:
    return json_response({"tags": list(fetch(ctx, collection, rid).get("tags") or [])})


def put_tags(ctx: Ctx, collection: str, rid: str) -> Response:
    rec = fetch(ctx, collection, rid, modify=True)
    tags = ctx.body().get("tags")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise neutron_error(400, "HTTPBadRequest", "Invalid input for tags. Reason: list of strings expected.")
    rec["tags"] = sorted(set(tags))
    touch(ctx.store, rec)
    return json_response({"tags": rec["tags"]})


def delete_tags(ctx: Ctx, collection: str, rid: str) -> Response:
    rec = fetch(ctx, collection, rid, modify=True)
    rec["tags"] = []
    touch(ctx.store, rec)
    return empty(204)


def check_tag(ctx: Ctx, collection: str, rid: str, tag: str) -> Response:
    if tag not in (fetch(ctx, collection, rid).get("tags") or []):
        raise neutron_error(404, "TagNotFound", f"Tag {tag} could not be found.")
    return empty(204)


def put_tag(ctx: Ctx, collection: str, rid: str, tag: str) -> Response:
    rec = fetch(ctx, collection, rid, modify=True)
    if tag not in (rec.get("tags") or []):
        rec["tags"] = sorted({*(rec.get("tags") or []), tag})
        touch(ctx.store, rec)
    return empty(201)


def delete_tag(ctx: Ctx, collection: str, rid: str, tag: str) -> Response:
    rec = fetch(ctx, collection, rid, modify=True)
    if tag not in (rec.get("tags") or []):
        raise neutron_error(404, "TagNotFound", f"Tag {tag} could not be found.")
    rec["tags"] = [t for t in rec["tags"] if t != tag]
    touch(ctx.store, rec)
    return empty(204)


def list_service_providers(ctx: Ctx) -> Response:
    """No advanced services (VPNaaS, LBaaS v1) are configured, as on most clouds: an empty list."""
    return json_response({"service_providers": []})


def register(routes: Routes) -> None:
    routes.add("GET", "/network", versions, public=True)
    routes.add("GET", f"{BASE}/service-providers", list_service_providers)
    routes.add("GET", BASE, resources)
    routes.add("GET", f"{BASE}/extensions", list_extensions)
    routes.add("GET", f"{BASE}/extensions/<alias>", show_extension)
    neutron_api_core.register(routes)
    neutron_api_sg.register(routes)
    neutron_api_l3.register(routes)
    tagged = f"{BASE}/<{_TAGGABLE}>/<rid>/tags"
    routes.add("GET", tagged, get_tags)
    routes.add("PUT", tagged, put_tags)
    routes.add("DELETE", tagged, delete_tags)
    routes.add("GET", f"{tagged}/<tag>", check_tag)
    routes.add("PUT", f"{tagged}/<tag>", put_tag)
    routes.add("DELETE", f"{tagged}/<tag>", delete_tag)
    routes.add("GET", f"{BASE}/quotas", quota.list_quotas)
    routes.add("GET", f"{BASE}/quotas/<project_id>", quota.show_quota)
    routes.add("PUT", f"{BASE}/quotas/<project_id>", quota.update_quota)
    routes.add("DELETE", f"{BASE}/quotas/<project_id>", quota.reset_quota)
    routes.add("GET", f"{BASE}/quotas/<project_id>/details", quota.show_quota_details)
    routes.add("GET", f"{BASE}/quotas/<project_id>/default", quota.show_quota_defaults)
