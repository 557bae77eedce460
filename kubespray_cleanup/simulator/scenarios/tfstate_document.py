"""The Terraform state v4 document an apply leaves: the dependency closure OpenTofu records per resource,
resources in OpenTofu's order, Kubespray's root outputs, and the file text each OpenTofu version writes."""

from __future__ import annotations

import functools
import json
from typing import Any

from kubespray_cleanup.simulator.scenarios.tfstate import CMP, IPS, LBM, NET, RULES, TOFU_VERSION, Recorded

REGISTRY = "registry.opentofu.org"
_PROVIDER_OF = {"null_resource": "hashicorp/null", "cloudinit_config": "hashicorp/cloudinit"}


# --- dependency graph (OpenTofu records the transitive closure, only `module.` addresses) ------------
def _edges() -> dict[str, set[str]]:
    """Direct references of Kubespray's modules; ``~`` nodes are outputs and module calls."""
    graph: dict[str, set[str]] = {}

    def edge(node: str, *deps: str) -> None:
        graph.setdefault(node, set()).update(deps)

    router, net, subnet, rif = (NET + "openstack_networking_router_v2.k8s", NET + "openstack_networking_network_v2.k8s",
                                NET + "openstack_networking_subnet_v2.k8s",
                                NET + "openstack_networking_router_interface_v2.k8s")
    edge(subnet, net)
    edge(rif, router, subnet)
    edge("~net.router_id", router)
    edge("~net.network_id", net)
    edge("~net.subnet_id", subnet)
    edge("~net.rif_id", rif)
    edge(IPS + "null_resource.dummy_dependency", "~net.router_id", "~net.rif_id")
    fip = IPS + "openstack_networking_floatingip_v2."
    for name in ("k8s_master", "k8s_masters", "k8s_master_no_etcd", "k8s_node", "bastion", "k8s_nodes"):
        edge(fip + name, IPS + "null_resource.dummy_dependency")
        edge(f"~ips.{name}_fips", fip + name)
    edge("~compute", "~net.subnet_id")  # module "compute" { depends_on = [module.network.subnet_id] }
    sg, rule = CMP + "openstack_networking_secgroup_v2.", CMP + "openstack_networking_secgroup_rule_v2."
    for plain in ("data.openstack_images_image_v2.vm_image", "data.openstack_images_image_v2.gfs_image",
                  "data.openstack_images_image_v2.image_master", "data.cloudinit_config.cloudinit",
                  "data.openstack_networking_network_v2.k8s_network", "openstack_compute_keypair_v2.k8s",
                  "openstack_compute_servergroup_v2.k8s_master", "openstack_compute_servergroup_v2.k8s_node",
                  "openstack_compute_servergroup_v2.k8s_etcd", "openstack_blockstorage_volume_v3.k8s_node_volume"):
        edge(CMP + plain, "~compute")
    for group in ("k8s_master", "k8s_master_extra", "bastion", "k8s", "worker", "worker_extra"):
        edge(sg + group, "~compute")
    for spec in RULES:
        edge(rule + spec.resource, "~compute", sg + spec.group)
    port_base = ("~compute", CMP + "data.openstack_networking_network_v2.k8s_network", "~net.network_id",
                 "~net.subnet_id", "~net.router_id")
    master_sgs = (sg + "k8s_master", sg + "k8s", sg + "k8s_master_extra")
    worker_sgs = (sg + "k8s", sg + "worker", sg + "worker_extra")
    port, inst = CMP + "openstack_networking_port_v2.", CMP + "openstack_compute_instance_v2."
    edge(port + "k8s_master_port", *master_sgs, *port_base)
    edge(port + "k8s_master_no_floating_ip_port", *master_sgs, *port_base)
    edge(port + "k8s_node_port", *worker_sgs, *port_base)
    edge(port + "bastion_port", sg + "k8s", sg + "bastion", *port_base)
    boot = ("~compute", CMP + "openstack_compute_keypair_v2.k8s", "~net.router_id")
    cloudinit = CMP + "data.cloudinit_config.cloudinit"
    image_master = CMP + "data.openstack_images_image_v2.image_master"
    vm_image = CMP + "data.openstack_images_image_v2.vm_image"
    edge(inst + "k8s_master", *boot, image_master, cloudinit, port + "k8s_master_port",
         CMP + "openstack_compute_servergroup_v2.k8s_master", "~ips.bastion_fips", "~ips.k8s_master_fips")
    edge(inst + "k8s_master_no_floating_ip", *boot, image_master, port + "k8s_master_no_floating_ip_port",
         CMP + "openstack_compute_servergroup_v2.k8s_master")
    edge(inst + "k8s_node", *boot, vm_image, cloudinit, port + "k8s_node_port",
         CMP + "openstack_compute_servergroup_v2.k8s_node", "~ips.bastion_fips", "~ips.k8s_node_fips")
    edge(inst + "bastion", *boot, vm_image, cloudinit, port + "bastion_port", "~ips.bastion_fips")
    assoc = CMP + "openstack_networking_floatingip_associate_v2."
    edge(assoc + "k8s_master", "~compute", "~ips.k8s_master_fips", port + "k8s_master_port")
    edge(assoc + "k8s_node", "~compute", "~ips.k8s_node_fips", port + "k8s_node_port")
    edge(assoc + "bastion", "~compute", "~ips.bastion_fips", port + "bastion_port")
    edge(CMP + "openstack_compute_volume_attach_v2.k8s_node_volume", "~compute", inst + "k8s_node",
         CMP + "openstack_blockstorage_volume_v3.k8s_node_volume")
    edge("~compute.k8s_master_ips", inst + "k8s_master_no_floating_ip",
         inst + "k8s_master_no_floating_ip_no_etcd")
    # module "loadbalancer" { subnet_id = module.network.subnet_id, depends_on = [module.compute.k8s_master] }
    edge("~lb", "~net.subnet_id", inst + "k8s_master", "~compute.k8s_master_ips")
    lb = LBM + "openstack_lb_"
    edge(lb + "loadbalancer_v2.k8s_lb", "~lb")
    edge(lb + "listener_v2.api_listener", "~lb", lb + "loadbalancer_v2.k8s_lb")
    edge(lb + "pool_v2.api_pool", "~lb", lb + "listener_v2.api_listener")
    edge(lb + "member_v2.lb_member", "~lb", lb + "pool_v2.api_pool")
    edge(lb + "monitor_v2.monitor", "~lb", lb + "pool_v2.api_pool")
    edge(LBM + "openstack_networking_floatingip_v2.floatip_1", "~lb")
    edge(LBM + "openstack_networking_floatingip_associate_v2.public_ip", "~lb",
         LBM + "openstack_networking_floatingip_v2.floatip_1", lb + "loadbalancer_v2.k8s_lb")
    return graph


@functools.cache
def dependencies(address: str) -> tuple[str, ...]:
    """The sorted transitive ``dependencies`` OpenTofu stores for a managed resource."""
    graph = _GRAPH
    seen: set[str] = set()
    todo = list(graph.get(address, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return tuple(sorted(n for n in seen if n.startswith("module.") and n != address))


_GRAPH = _edges()


# --- the document -----------------------------------------------------------------------------------
def _split(address: str) -> tuple[str, str, str, str]:
    module_a, module_b, rest = address.split(".", 2)
    mode = "data" if rest.startswith("data.") else "managed"
    tf_type, name = rest.removeprefix("data.").split(".", 1)
    return f"{module_a}.{module_b}", mode, tf_type, name


def _instance_order(rec: Recorded) -> tuple[int, int, str]:
    """``count`` instances by index, ``for_each`` ones by key (OpenTofu sorts map keys)."""
    if rec.index is None:
        return (0, -1, "")
    return (1, rec.index, "") if isinstance(rec.index, int) else (2, 0, rec.index)


def _instance(rec: Recorded, mode: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if rec.index is not None:
        body["index_key"] = rec.index
    body["schema_version"] = 0
    body["attributes"] = dict(sorted(rec.attributes.items()))
    body["sensitive_attributes"] = []
    if mode == "managed":
        if rec.private is not None:
            body["private"] = rec.private
        deps = dependencies(rec.address)
        if deps:
            body["dependencies"] = list(deps)
    return body


def document(records: list[Recorded], *, outputs: dict[str, Any], lineage: str, serial: int,
             version: str = TOFU_VERSION, registry: str = REGISTRY) -> dict[str, Any]:
    """A state v4 document holding ``records``, ordered like OpenTofu writes them."""
    grouped: dict[str, list[Recorded]] = {}
    for rec in records:
        grouped.setdefault(rec.address, []).append(rec)
    resources = []
    for address in sorted(grouped, key=_split):
        module, mode, tf_type, name = _split(address)
        instances = sorted(grouped[address], key=_instance_order)
        resource: dict[str, Any] = {"module": module, "mode": mode, "type": tf_type, "name": name}
        if instances[0].index is not None:
            resource["each"] = "map" if isinstance(instances[0].index, str) else "list"
        provider = _PROVIDER_OF.get(tf_type, "terraform-provider-openstack/openstack")
        resource["provider"] = f'provider["{registry}/{provider}"]'
        resource["instances"] = [_instance(rec, mode) for rec in instances]
        resources.append(resource)
    return {"version": 4, "terraform_version": version, "serial": serial, "lineage": lineage,
            "outputs": outputs, "resources": resources, "check_results": None}


def outputs(records: list[Recorded], *, external_network_id: str, subnet_id: str, router_id: str) -> dict[str, Any]:
    """Root outputs of kubespray.tf (``router_id`` keeps module.network's surrounding spaces)."""
    def addresses(name: str) -> list[str]:
        found = [r for r in records if r.address == IPS + "openstack_networking_floatingip_v2." + name]
        return [str(r.attributes["address"]) for r in sorted(found, key=_instance_order)]

    text_list = ["list", "string"]
    return {
        "bastion_fips": {"value": addresses("bastion"), "type": text_list},
        "floating_network_id": {"value": external_network_id, "type": "string"},
        "k8s_master_fips": {"value": addresses("k8s_master") + addresses("k8s_master_no_etcd"), "type": text_list},
        "k8s_node_fips": {"value": addresses("k8s_node"), "type": text_list},
        "private_subnet_id": {"value": subnet_id, "type": "string"},
        "router_id": {"value": f" {router_id} ", "type": "string"},
    }


def serialize(state: dict[str, Any]) -> str:
    """The file text: OpenTofu 1.8-1.11 write one compact line, 1.12+ (and Terraform) pretty-print."""
    parts = state.get("terraform_version", TOFU_VERSION).split(".")
    compact = len(parts) >= 2 and parts[0] == "1" and parts[1].isdigit() and 8 <= int(parts[1]) <= 11
    if compact:
        return json.dumps(state, separators=(",", ":")) + "\n"
    return json.dumps(state, indent=2) + "\n"


