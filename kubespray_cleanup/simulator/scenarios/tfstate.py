"""Terraform state v4 resource instances as OpenTofu writes them for Kubespray's contrib/terraform/openstack apply:
the attributes of each resource type, and the security groups and rules Kubespray's defaults make."""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import io
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubespray_cleanup.simulator.keystone import REGION
from kubespray_cleanup.simulator.store import Record

TOFU_VERSION = "1.12.6"
NET, IPS, CMP, LBM = "module.network.", "module.ips.", "module.compute.", "module.loadbalancer."
_SDK_TIMEOUTS = "e2bfb730-ecaa-11e6-8f88-34363bc7c4c0"  # terraform-plugin-sdk v2 TimeoutKey
SSH_USER = "ubuntu"
CLOUD_CONFIG = (
    "# yamllint disable rule:comments\n#cloud-config\n## in some cases novnc console access is required\n"
    "## it requires ssh password to be set\n#ssh_pwauth: yes\n"
)


@dataclass(frozen=True)
class Recorded:
    """One resource instance the apply wrote to state, and when it was complete."""

    address: str  # resource address without index, e.g. module.compute.openstack_networking_port_v2.k8s_node_port
    index: int | str | None  # count index, or for_each map key
    attributes: dict[str, Any]
    done: datetime
    private: str | None = None


# --- security group rules Kubespray's defaults produce (variables.tf, elastx CI inputs) ---------------
@dataclass(frozen=True)
class RuleSpec:
    resource: str
    index: int | None
    group: str  # secgroup resource name
    direction: str
    ethertype: str
    protocol: str | None = None
    port_min: int | None = None
    port_max: int | None = None
    remote_ip: str | None = None
    remote_self: bool = False


RULES = (
    RuleSpec("k8s", None, "k8s", "ingress", "IPv4", remote_self=True),
    RuleSpec("k8s_ipv6", None, "k8s", "ingress", "IPv6", remote_self=True),
    RuleSpec("k8s_allowed_remote_ips", 0, "k8s", "ingress", "IPv4", "tcp", 22, 22, "0.0.0.0/0"),
    RuleSpec("egress", 0, "k8s", "egress", "IPv4", remote_ip="0.0.0.0/0"),
    RuleSpec("egress_ipv6", 0, "k8s", "egress", "IPv6", remote_ip="::/0"),
    RuleSpec("k8s_master", 0, "k8s_master", "ingress", "IPv4", "tcp", 6443, 6443, "0.0.0.0/0"),
    RuleSpec("k8s_master_ipv6_ingress", 0, "k8s_master", "ingress", "IPv6", "tcp", 6443, 6443, "::/0"),
    # declared with ports 0/0: gophercloud omits them, Neutron stores null
    RuleSpec("k8s_master_ports_ipv6_ingress", 0, "k8s_master", "ingress", "IPv6", "ipv6-icmp", remote_ip="::/0"),
    RuleSpec("master_egress_ipv6", 0, "k8s_master", "egress", "IPv6", remote_ip="::/0"),
    RuleSpec("worker", 0, "worker", "ingress", "IPv4", "tcp", 30000, 32767, "0.0.0.0/0"),
    RuleSpec("worker_ipv6_ingress", 0, "worker", "ingress", "IPv6", "tcp", 30000, 32767, "::/0"),
    RuleSpec("worker_ipv6_ingress", 1, "worker", "ingress", "IPv6", "ipv6-icmp", remote_ip="::/0"),
    RuleSpec("bastion", 0, "bastion", "ingress", "IPv4", "tcp", 22, 22, "0.0.0.0/0"),
    RuleSpec("bastion_ipv6_ingress", 0, "bastion", "ingress", "IPv6", "tcp", 22, 22, "::/0"),
)
SECURITY_GROUPS = (  # (resource name, index, name suffix, description suffix) in creation order
    ("k8s", None, "k8s", "Kubernetes"),
    ("k8s_master", None, "k8s-master", "Kubernetes Master"),
    ("worker", None, "k8s-worker", "Kubernetes worker nodes"),
    ("bastion", 0, "bastion", "Bastion Server"),  # count = number_of_bastions != "" ? 1 : 0, so always 1
)


# --- helpers ----------------------------------------------------------------------------------------
def private(**minutes: float) -> str:
    """SDKv2 ``private`` meta: ``null`` or the resource's timeouts in nanoseconds."""
    if not minutes:
        return base64.b64encode(b"null").decode()
    body = {_SDK_TIMEOUTS: {key: int(value * 60e9) for key, value in sorted(minutes.items())}}
    return base64.b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()


def gotime(when: datetime) -> str:
    """Go's ``time.Time.String()`` as the provider stores instance ``created``/``updated``."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S +0000 UTC")


def _none_to(value: Any, default: Any) -> Any:
    return default if value is None else value


def _first_ip(port: Record) -> str:
    return str(port["fixed_ips"][0]["ip_address"]) if port.get("fixed_ips") else ""


# --- attributes per resource type (what the provider wrote at create time: apply does not refresh) ----
def network(net: Record) -> dict[str, Any]:
    return {"admin_state_up": net["admin_state_up"], "all_tags": [], "availability_zone_hints": [],
            "description": net.get("description", ""), "dns_domain": "", "external": False, "id": net["id"],
            "mtu": net.get("mtu", 1450), "name": net["name"], "port_security_enabled": True, "qos_policy_id": "",
            "region": REGION, "segments": [], "shared": False, "tags": None, "tenant_id": net["project_id"],
            "timeouts": None, "transparent_vlan": False, "value_specs": None}


def subnet(sub: Record) -> dict[str, Any]:
    pools = [dict(p) for p in sub["allocation_pools"]]
    return {"all_tags": [], "allocation_pool": pools, "allocation_pools": [dict(p) for p in pools],
            "cidr": sub["cidr"], "description": "", "dns_nameservers": list(sub.get("dns_nameservers") or []),
            "enable_dhcp": sub["enable_dhcp"], "gateway_ip": sub.get("gateway_ip") or "", "host_routes": [],
            "id": sub["id"], "ip_version": sub["ip_version"], "ipv6_address_mode": "", "ipv6_ra_mode": "",
            "name": sub["name"], "network_id": sub["network_id"], "no_gateway": False, "prefix_length": None,
            "region": REGION, "service_types": [], "subnetpool_id": "", "tags": None,
            "tenant_id": sub["project_id"], "timeouts": None, "value_specs": None}


def router_interface(port: Record, router_id: str, subnet_id: str) -> dict[str, Any]:
    return {"force_destroy": False, "id": port["id"], "port_id": port["id"], "region": REGION,
            "router_id": router_id, "subnet_id": subnet_id, "timeouts": None}


def _gateway_ips(router: Record) -> list[dict[str, str]]:
    info = router.get("external_gateway_info") or {}
    return [{"ip_address": ip["ip_address"], "subnet_id": ip["subnet_id"]}
            for ip in info.get("external_fixed_ips") or []]


def router_data(router: Record) -> dict[str, Any]:
    info = router.get("external_gateway_info") or {}
    return {"admin_state_up": router["admin_state_up"], "all_tags": [], "availability_zone_hints": [],
            "description": router.get("description", ""), "distributed": bool(router.get("distributed")),
            "enable_snat": bool(info.get("enable_snat", True)), "external_fixed_ip": _gateway_ips(router),
            "external_network_id": info.get("network_id", ""), "id": router["id"], "name": router["name"],
            "region": REGION, "router_id": router["id"], "status": router.get("status", "ACTIVE"), "tags": None,
            "tenant_id": router["project_id"]}


def router(rec: Record) -> dict[str, Any]:
    info = rec.get("external_gateway_info") or {}
    return {"admin_state_up": True, "all_tags": [], "availability_zone_hints": [], "description": "",
            "distributed": False, "enable_snat": bool(info.get("enable_snat", True)),
            "external_fixed_ip": _gateway_ips(rec), "external_gateway": info.get("network_id", ""),
            "external_network_id": info.get("network_id", ""), "external_qos_policy_id": "",
            "external_subnet_ids": None, "id": rec["id"], "name": rec["name"], "region": REGION, "tags": None,
            "tenant_id": rec["project_id"], "timeouts": None, "value_specs": None, "vendor_options": []}


def null_resource(rid: str, router_output: str) -> dict[str, Any]:
    return {"id": rid, "triggers": {"dependency_id": router_output}}


def floating_ip(fip: Record, pool: str) -> dict[str, Any]:
    return {"address": fip["floating_ip_address"], "all_tags": [], "description": fip.get("description", ""),
            "dns_domain": "", "dns_name": "", "fixed_ip": "", "id": fip["id"], "pool": pool, "port_id": "",
            "region": REGION, "subnet_id": None, "subnet_ids": None, "tags": None, "tenant_id": fip["project_id"],
            "timeouts": None, "value_specs": None}


def floating_ip_associate(fip: Record, port: Record) -> dict[str, Any]:
    return {"fixed_ip": _first_ip(port), "floating_ip": fip["floating_ip_address"], "id": fip["id"],
            "port_id": port["id"], "region": REGION}


def keypair(kp: Record) -> dict[str, Any]:
    return {"fingerprint": kp.get("fingerprint", ""), "id": kp["name"], "name": kp["name"], "private_key": "",
            "public_key": kp.get("public_key", ""), "region": REGION, "user_id": "", "value_specs": None}


def security_group(sg: Record) -> dict[str, Any]:
    return {"all_tags": [], "delete_default_rules": True, "description": sg["description"], "id": sg["id"],
            "name": sg["name"], "region": REGION, "tags": None, "tenant_id": sg["project_id"], "timeouts": None}


def security_group_rule(rule: Record) -> dict[str, Any]:
    return {"description": _none_to(rule.get("description"), ""), "direction": rule["direction"],
            "ethertype": rule["ethertype"], "id": rule["id"], "port_range_max": _none_to(rule["port_range_max"], 0),
            "port_range_min": _none_to(rule["port_range_min"], 0), "protocol": _none_to(rule["protocol"], ""),
            "region": REGION, "remote_group_id": _none_to(rule["remote_group_id"], ""),
            "remote_ip_prefix": _none_to(rule["remote_ip_prefix"], ""), "security_group_id": rule["security_group_id"],
            "tenant_id": rule["project_id"], "timeouts": None}


def server_group(group: Record) -> dict[str, Any]:
    return {"id": group["id"], "members": [], "name": group["name"], "policies": list(group.get("policies") or []),
            "region": REGION, "rules": [{"max_server_per_host": 0}], "value_specs": None}


def port(rec: Record) -> dict[str, Any]:
    ip = _first_ip(rec)
    host = "host-" + ip.replace(".", "-")
    sgs = sorted(rec.get("security_groups") or [])
    return {"admin_state_up": True, "all_fixed_ips": [ip], "all_security_group_ids": sgs, "all_tags": [],
            "allowed_address_pairs": [],
            "binding": [{"host_id": "", "profile": "", "vif_details": {}, "vif_type": "", "vnic_type": "normal"}],
            "description": "", "device_id": "", "device_owner": "",
            "dns_assignment": [{"fqdn": f"{host}.openstacklocal.", "hostname": host, "ip_address": ip}],
            "dns_name": "", "extra_dhcp_option": [],
            "fixed_ip": [{"ip_address": "", "subnet_id": rec["fixed_ips"][0]["subnet_id"]}],
            "id": rec["id"], "mac_address": rec["mac_address"], "name": rec["name"], "network_id": rec["network_id"],
            "no_fixed_ip": None, "no_security_groups": None, "port_security_enabled": True, "qos_policy_id": "",
            "region": REGION, "security_group_ids": list(sgs), "tags": None, "tenant_id": rec["project_id"],
            "timeouts": None, "value_specs": None}


@dataclass(frozen=True)
class Boot:
    """What an instance resource knows about its boot, beyond the server record."""

    port: Record
    network: Record
    security_groups: tuple[str, ...]
    metadata: dict[str, str]
    flavor: Record
    image: Record
    key_name: str
    created: datetime
    updated: datetime
    availability_zone: str
    user_data: str | None
    server_group_id: str | None = None


def instance(server: Record, boot: Boot) -> dict[str, Any]:
    ip = _first_ip(boot.port)
    hints = [] if not boot.server_group_id else [
        {"additional_properties": {}, "build_near_host_ip": "", "different_cell": [], "different_host": [],
         "group": boot.server_group_id, "query": [], "same_host": [], "target_cell": ""}]
    return {"access_ip_v4": ip, "access_ip_v6": "", "admin_pass": None, "all_metadata": dict(boot.metadata),
            "all_tags": [], "availability_zone": boot.availability_zone, "availability_zone_hints": None,
            "block_device": [], "config_drive": None, "created": gotime(boot.created),
            "flavor_id": boot.flavor["id"], "flavor_name": boot.flavor.get("name", ""), "floating_ip": None,
            "force_delete": False, "id": server["id"], "image_id": boot.image["id"],
            "image_name": boot.image.get("name", ""), "key_pair": boot.key_name, "metadata": dict(boot.metadata),
            "name": server["name"],
            "network": [{"access_network": False, "fixed_ip_v4": ip, "fixed_ip_v6": "", "floating_ip": "",
                         "mac": boot.port["mac_address"], "name": boot.network["name"], "port": boot.port["id"],
                         "uuid": boot.network["id"]}],
            "network_mode": None, "personality": [], "power_state": "active", "region": REGION,
            "scheduler_hints": hints, "security_groups": sorted(boot.security_groups), "stop_before_destroy": False,
            "tags": None, "timeouts": None, "updated": gotime(boot.updated), "user_data": boot.user_data,
            "vendor_options": [], "volume": []}


def volume(vol: Record) -> dict[str, Any]:
    return {"attachment": [], "availability_zone": vol.get("availability_zone", "nova"), "backup_id": "",
            "consistency_group_id": None, "description": vol.get("description") or "",
            "enable_online_resize": None, "id": vol["id"], "image_id": None, "metadata": {},
            "multiattach": None, "name": vol["name"], "region": REGION, "scheduler_hints": [],
            "size": vol["size"], "snapshot_id": "", "source_replica": None, "source_vol_id": "",
            "timeouts": None, "volume_retype_policy": "never", "volume_type": vol.get("volume_type") or ""}


def volume_attach(server_id: str, volume_id: str, device: str) -> dict[str, Any]:
    return {"device": device, "id": f"{server_id}/{volume_id}", "instance_id": server_id, "multiattach": None,
            "region": REGION, "tag": None, "timeouts": None, "vendor_options": [], "volume_id": volume_id}


def load_balancer(lb: Record) -> dict[str, Any]:
    return {"admin_state_up": True, "availability_zone": "", "description": "", "flavor_id": "", "id": lb["id"],
            "loadbalancer_provider": lb.get("provider", "amphora"), "name": lb["name"], "region": REGION,
            "security_group_ids": [], "tags": None, "tenant_id": lb["project_id"], "timeouts": None,
            "vip_address": lb["vip_address"], "vip_network_id": lb["vip_network_id"], "vip_port_id": lb["vip_port_id"],
            "vip_qos_policy_id": "", "vip_subnet_id": lb["vip_subnet_id"]}


def listener(rec: Record, lb_id: str) -> dict[str, Any]:
    return {"admin_state_up": True, "allowed_cidrs": None, "alpn_protocols": [], "client_authentication": "NONE",
            "client_ca_tls_container_ref": "", "client_crl_container_ref": "", "connection_limit": -1,
            "default_pool_id": "", "default_tls_container_ref": "", "description": "", "hsts_include_subdomains": False,
            "hsts_max_age": 0, "hsts_preload": False, "id": rec["id"], "insert_headers": None,
            "loadbalancer_id": lb_id, "name": rec["name"], "protocol": rec["protocol"],
            "protocol_port": rec["protocol_port"], "region": REGION, "sni_container_refs": None, "tags": None,
            "tenant_id": rec["project_id"], "timeout_client_data": 50000, "timeout_member_connect": 5000,
            "timeout_member_data": 50000, "timeout_tcp_inspect": 0, "timeouts": None, "tls_ciphers": "",
            "tls_versions": None}


def pool(rec: Record, listener_id: str) -> dict[str, Any]:
    return {"admin_state_up": True, "alpn_protocols": [], "ca_tls_container_ref": "", "crl_container_ref": "",
            "description": "", "id": rec["id"], "lb_method": rec["lb_algorithm"], "listener_id": listener_id,
            "loadbalancer_id": None, "name": rec["name"], "persistence": [], "protocol": rec["protocol"],
            "region": REGION, "tags": None, "tenant_id": rec["project_id"], "timeouts": None, "tls_ciphers": "",
            "tls_container_ref": "", "tls_enabled": False, "tls_versions": None}


def member(rec: Record, pool_id: str) -> dict[str, Any]:
    return {"address": rec["address"], "admin_state_up": True, "backup": False, "id": rec["id"],
            "monitor_address": "", "monitor_port": 0, "name": rec["name"], "pool_id": pool_id,
            "protocol_port": rec["protocol_port"], "region": REGION, "subnet_id": rec.get("subnet_id") or "",
            "tags": None, "tenant_id": rec["project_id"], "timeouts": None, "weight": 1}


def monitor(rec: Record, pool_id: str) -> dict[str, Any]:
    return {"admin_state_up": True, "delay": rec["delay"], "domain_name": "", "expected_codes": "",
            "http_method": "", "http_version": "", "id": rec["id"], "max_retries": rec["max_retries"],
            "max_retries_down": rec.get("max_retries_down", 3), "name": rec["name"], "pool_id": pool_id,
            "region": REGION, "tenant_id": rec["project_id"], "timeout": rec["timeout"], "timeouts": None,
            "type": rec["type"], "url_path": ""}


# --- data sources ---------------------------------------------------------------------------------
@functools.cache
def rendered_cloudinit() -> tuple[str, str, str]:
    """(``rendered``, data source ``id``, instance ``user_data`` = SHA-1 of rendered) for the cloud-config."""
    mime = ('Content-Type: multipart/mixed; boundary="MIMEBOUNDARY"\nMIME-Version: 1.0\r\n\r\n--MIMEBOUNDARY\r\n'
            "Content-Transfer-Encoding: 7bit\r\nContent-Type: text/cloud-config\r\nMime-Version: 1.0\r\n\r\n"
            f"{CLOUD_CONFIG}\r\n--MIMEBOUNDARY--\r\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as stream:
        stream.write(mime.encode())
    raw = bytearray(buffer.getvalue())
    raw[8], raw[9] = 0, 255  # Go's gzip writer: no extra flags, OS unknown
    rendered = base64.b64encode(bytes(raw)).decode()
    return rendered, str(zlib.crc32(rendered.encode()) & 0xFFFFFFFF), hashlib.sha1(rendered.encode()).hexdigest()


def cloudinit() -> dict[str, Any]:
    rendered, data_id, _ = rendered_cloudinit()
    return {"base64_encode": True, "boundary": "MIMEBOUNDARY", "gzip": True, "id": data_id,
            "part": [{"content": CLOUD_CONFIG, "content_type": "text/cloud-config", "filename": None,
                      "merge_type": None}], "rendered": rendered}


def image(rec: Record, most_recent: bool) -> dict[str, Any]:
    digest = hashlib.sha512(rec["id"].encode()).hexdigest()
    return {"checksum": rec.get("checksum") or hashlib.md5(rec["id"].encode()).hexdigest(),
            "container_format": rec.get("container_format") or "bare", "created_at": rec.get("created_at", ""),
            "disk_format": rec.get("disk_format") or "raw", "file": f"/v2/images/{rec['id']}/file", "hidden": False,
            "id": rec["id"], "member_status": None, "metadata": {}, "min_disk_gb": rec.get("min_disk", 0),
            "min_ram_mb": rec.get("min_ram", 0), "most_recent": most_recent, "name": rec.get("name", ""),
            "name_regex": None, "owner": rec.get("owner", ""),
            "properties": {"os_hash_algo": "sha512", "os_hash_value": rec.get("os_hash_value") or digest,
                           "os_hidden": "false", "stores": "rbd"},
            "protected": bool(rec.get("protected", False)), "region": REGION, "schema": "/v2/schemas/image",
            "size_bytes": rec.get("size") or 0, "size_max": None, "size_min": None, "sort_direction": "asc",
            "sort_key": "name", "tag": None, "tags": list(rec.get("tags") or []),
            "updated_at": rec.get("updated_at", ""), "visibility": rec.get("visibility", "public")}
