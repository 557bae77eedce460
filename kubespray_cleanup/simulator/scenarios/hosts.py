"""The hosts of Kubespray's ``modules/compute``: every kind of port + server it makes, their server groups,
boot volumes and floating IP associations, named as the module names them (``C-k8s-master-ne-nf-N``,
``C-k8s-K`` for a ``k8s_masters`` map key, ``C-gfs-node-nf-N`` ...)."""

from __future__ import annotations

from dataclasses import dataclass

from kubespray_cleanup.simulator import cinder, neutron, nova
from kubespray_cleanup.simulator.scenarios import tfstate as tf
from kubespray_cleanup.simulator.scenarios.cluster import ClusterApply, ClusterSpec
from kubespray_cleanup.simulator.store import Record

_MASTER = "etcd,kube_control_plane,,k8s_cluster"
_MASTER_NE = "kube_control_plane,,k8s_cluster"
_NODE = "kube_node,k8s_cluster,"


@dataclass(frozen=True)
class Role:
    """A kind of Kubespray host: its TF resources, name stem, security groups and inventory groups."""

    key: str  # refs key
    port_resource: str
    instance_resource: str
    stem: str  # name: C-<stem>-<N or map key>
    groups: tuple[str, ...]  # security groups (resource names in tf.SECURITY_GROUPS, plus the extras)
    kubespray_groups: str
    server_group: str | None
    fip_resource: str | None  # module.ips floating IP resource, None: no floating IP


def roles(spec: ClusterSpec) -> list[tuple[Role, list[str]]]:
    """Each host kind with the name suffixes it gets (``1``, ``2`` ... or the map's keys), in creation order."""
    masters = ("k8s_master", "k8s", "k8s_master_extra")
    worker = ("k8s", "worker", "worker_extra")
    nf_masters = spec.masters_nf + (0 if spec.masters_with_fip else spec.masters)
    counted = [  # bastion, masters, nodes first: the order of the elastx job's hosts
        (Role("bastion", "bastion_port", "bastion", "bastion", ("k8s", "bastion"), "bastion", None, "bastion"),
         spec.bastions),
        (Role("k8s_master", "k8s_master_port", "k8s_master", "k8s-master", masters, _MASTER, "k8s_master",
              "k8s_master"), spec.masters if spec.masters_with_fip else 0),
        (Role("k8s_master_nf", "k8s_master_no_floating_ip_port", "k8s_master_no_floating_ip", "k8s-master-nf",
              masters, _MASTER + ",no_floating", "k8s_master", None), nf_masters),
        (Role("k8s_master_ne", "k8s_master_no_etcd_port", "k8s_master_no_etcd", "k8s-master-ne", masters,
              _MASTER_NE, "k8s_master", "k8s_master_no_etcd"), spec.masters_ne),
        (Role("k8s_master_ne_nf", "k8s_master_no_floating_ip_no_etcd_port", "k8s_master_no_floating_ip_no_etcd",
              "k8s-master-ne-nf", masters, _MASTER_NE + ",no_floating", "k8s_master", None), spec.masters_ne_nf),
        (Role("etcd", "etcd_port", "etcd", "etcd", ("k8s",), "etcd,no_floating", "k8s_etcd", None), spec.etcd),
        (Role("k8s_node", "k8s_node_port", "k8s_node", "k8s-node", worker, _NODE, "k8s_node", "k8s_node"),
         spec.nodes),
        (Role("k8s_node_nf", "k8s_node_no_floating_ip_port", "k8s_node_no_floating_ip", "k8s-node-nf", worker,
              _NODE + ",no_floating", "k8s_node", None), spec.nodes_nf),
        (Role("gfs", "glusterfs_node_no_floating_ip_port", "glusterfs_node_no_floating_ip", "gfs-node-nf", ("k8s",),
              "gfs-cluster,network-storage,no_floating", None, None), spec.gfs_nodes),
    ]
    found = [(role, [str(n) for n in range(1, count + 1)]) for role, count in counted if count]
    if spec.master_map:
        found.append((Role("k8s_masters", "k8s_masters_port", "k8s_masters", "k8s", masters, _MASTER + ",no_floating",
                           "k8s_master", None), list(spec.master_map)))
    if spec.node_map:
        found.append((Role("k8s_nodes", "k8s_nodes_port", "k8s_nodes", "k8s-node", worker, _NODE + ",no_floating",
                           "k8s_node", None), list(spec.node_map)))
    return found


def _index(suffix: str) -> int | str:
    """The instance key in state: ``count`` resources are indexed from 0, ``for_each`` ones by the map key."""
    return int(suffix) - 1 if suffix.isdigit() else suffix


def server_groups(apply: ClusterApply) -> None:
    """``*_server_group_policy`` set: one group per host family with members (``etcd_server_group``: the etcd
    one even without etcd hosts, as the module makes it), and ``additional_server_groups``."""
    spec, found = apply.spec, roles(apply.spec)
    wanted = {role.server_group for role, _ in found if role.server_group and spec.server_group}
    wanted |= {"k8s_etcd"} if spec.etcd_server_group else set()  # a policy set makes the group, hosts or not
    families = ("k8s_master", "k8s_node", "k8s_etcd")
    names: list[tuple[str, str]] = [(g, g.replace("_", "-") + "-srvgrp") for g in families if g in wanted]
    names += [(f"additional.{key}", f"k8s-{key}-srvgrp") for key in spec.additional_server_groups]
    for resource, name in names:
        group = nova.create_server_group(apply.store, apply.pid, apply.user_id, name, policies=("anti-affinity",),
                                         created_at=apply.tick(1, 2))
        address = "openstack_compute_servergroup_v2." + (
            resource if not resource.startswith("additional.") else "k8s_node_additional")
        apply.record(tf.CMP + address, tf.server_group(group),
                     index=0 if not resource.startswith("additional.") else resource.split(".", 1)[1],
                     private=tf.private())
        apply.refs[f"server_group.{resource}"] = group


def _group_of(apply: ClusterApply, role: Role, suffix: str) -> Record | None:
    """A ``k8s_nodes`` host whose key names an additional server group joins it; the others their family's."""
    if role.key == "k8s_nodes" and suffix in apply.spec.additional_server_groups:
        return apply.refs.get(f"server_group.additional.{suffix}")
    return apply.refs.get(f"server_group.{role.server_group}") if role.server_group else None


def ports(apply: ClusterApply) -> None:
    groups, subnet = apply.refs["groups"], apply.refs["subnet"]
    for role, suffixes in roles(apply.spec):
        made = []
        for suffix in suffixes:
            port = neutron.create_port(apply.store, apply.refs["network"]["id"], apply.pid,
                                       name=f"{apply.spec.job}-{role.stem}-{suffix}",
                                       fixed_ips=[{"subnet_id": subnet["id"]}],
                                       security_group_ids=[groups[g]["id"] for g in role.groups if g in groups],
                                       created_at=apply.tick(2, 4))
            apply.record(tf.CMP + f"openstack_networking_port_v2.{role.port_resource}", tf.port(port),
                         index=_index(suffix), private=tf.private(create=10, delete=10))
            made.append(port)
        apply.refs[f"ports.{role.key}"] = made


def _boot_volume(apply: ClusterApply) -> list[dict[str, object]]:
    """``*_root_volume_size_in_gb > 0``: a volume from the image, attached as vda (no name, not in state)."""
    size = apply.spec.root_volume_size
    if not size:
        return []
    vol = cinder.create_volume(apply.store, apply.pid, "", size, created_at=apply.when, bootable=True,
                               user_id=apply.user_id)
    return [{"source_type": "volume", "destination_type": "volume", "uuid": vol["id"], "boot_index": 0,
             "device_name": "/dev/vda", "delete_on_termination": False}]


def servers(apply: ClusterApply) -> None:
    spec, refs = apply.spec, apply.refs
    for role, suffixes in roles(spec):
        made = []
        for number, suffix in enumerate(suffixes):
            port = refs[f"ports.{role.key}"][number]
            group = _group_of(apply, role, suffix)
            metadata = {"depends_on": f" {refs['router_id']} ", "kubespray_groups": role.kubespray_groups,
                        "ssh_user": tf.SSH_USER, "use_access_ip": "0"}
            names = tuple(str(refs["groups"][g]["name"]) for g in role.groups if g in refs["groups"])
            started = apply.tick(2, 3)
            apply.cut = started  # the last persist before the newest boot: a killed apply's state ends here
            server = nova.create_server(
                apply.store, apply.pid, apply.user_id, f"{spec.job}-{role.stem}-{suffix}",
                flavor_id=apply.site.flavor["id"], image_id=apply.site.image["id"], networks=({"port": port["id"]},),
                key_name=refs["keypair"]["name"], security_groups=names, metadata=dict(metadata),
                server_group_id=group["id"] if group else None, created_at=started, status="BUILD",
                block_device_mapping=_boot_volume(apply))
            active = apply.tick(14, 25)
            nova.finish_build(apply.store, server["id"])
            boot = tf.Boot(port=port, network=refs["network"], security_groups=names, metadata=metadata,
                           flavor=apply.site.flavor, image=apply.site.image, key_name=refs["keypair"]["name"],
                           created=started, updated=active,
                           availability_zone=str(server.get("OS-EXT-AZ:availability_zone") or "nova"),
                           user_data=None if role.fip_resource is None else tf.rendered_cloudinit()[2],
                           server_group_id=group["id"] if group else None)
            apply.record(tf.CMP + f"openstack_compute_instance_v2.{role.instance_resource}", tf.instance(server, boot),
                         index=_index(suffix), private=tf.private(create=30, delete=30, update=30))
            made.append(server)
        refs[f"servers.{role.key}"] = made


_FIP_ORDER = ("k8s_master", "k8s_master_ne", "k8s_node", "bastion")


def floating_ips(apply: ClusterApply) -> None:
    """module "ips": one floating IP per host that gets one, before any host exists."""
    for role, suffixes in sorted(roles(apply.spec), key=lambda found: _FIP_ORDER.index(found[0].key)
                                 if found[0].key in _FIP_ORDER else len(_FIP_ORDER)):
        if role.fip_resource is None:
            continue
        made = []
        for number in range(len(suffixes)):
            fip = neutron.create_floating_ip(apply.store, apply.pid, apply.site.external["id"],
                                             created_at=apply.tick(2, 3))
            apply.record(tf.IPS + f"openstack_networking_floatingip_v2.{role.fip_resource}",
                         tf.floating_ip(fip, apply.site.external["name"]), index=number,
                         private=tf.private(create=10, delete=10))
            made.append(fip)
        apply.refs[f"fips.{role.key}"] = made


def associate(apply: ClusterApply) -> None:
    for role, suffixes in roles(apply.spec):
        if role.fip_resource is None:
            continue
        for number in range(len(suffixes)):
            fip, port = apply.refs[f"fips.{role.key}"][number], apply.refs[f"ports.{role.key}"][number]
            apply.tick(2, 3)
            neutron.associate_floating_ip(apply.store, fip["id"], port["id"])
            apply.record(tf.CMP + f"openstack_networking_floatingip_associate_v2.{role.fip_resource}",
                         tf.floating_ip_associate(fip, port), index=number, private=tf.private())


def glusterfs_volumes(apply: ClusterApply) -> None:
    """``C-glusterfs_volume-N``, one per gfs node, attached to it."""
    for number, server in enumerate(apply.refs.get("servers.gfs", [])):
        vol = cinder.create_volume(apply.store, apply.pid, f"{apply.spec.job}-glusterfs_volume-{number + 1}",
                                   apply.spec.volume_size, created_at=apply.tick(3, 6))
        apply.record(tf.CMP + "openstack_blockstorage_volume_v2.glusterfs_volume", tf.volume(vol), index=number,
                     private=tf.private(create=10, delete=10))
        apply.tick(3, 5)
        nova.attach_volume(apply.store, server["id"], vol["id"], "/dev/vdb")
        apply.record(tf.CMP + "openstack_compute_volume_attach_v2.glusterfs_volume",
                     tf.volume_attach(server["id"], vol["id"], "/dev/vdb"), index=number,
                     private=tf.private(create=10, delete=10))
