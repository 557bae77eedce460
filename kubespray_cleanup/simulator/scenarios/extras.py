"""Optional parts of a Kubespray CI cluster: node volumes, the API load balancer, an OCCM-made load balancer."""

from __future__ import annotations

from datetime import datetime, timedelta

from kubespray_cleanup.simulator import cinder, neutron, nova, octavia
from kubespray_cleanup.simulator.scenarios import tfstate as tf
from kubespray_cleanup.simulator.scenarios.cluster import ClusterApply
from kubespray_cleanup.simulator.store import Record

CSI_CLUSTER = "cinder.csi.openstack.org/cluster"
OCCM_CLUSTER = "cluster.local"  # Kubespray's default cluster_name, shared by every CI cluster


def free_fip(apply: ClusterApply, when: datetime, description: str = "") -> Record:
    """A floating IP from the external network, not associated yet."""
    return neutron.create_floating_ip(apply.store, apply.pid, apply.site.external["id"], created_at=when,
                                      description=description)


def volumes(apply: ClusterApply) -> None:
    """Extra data volumes on the nodes (a CI-local extension: Kubespray's module only does it for GlusterFS)."""
    spec, index = apply.spec, 0
    per_node = spec.volumes_per_node
    for node, server in enumerate(apply.refs.get("servers.k8s_node", []), start=1):
        for number in range(per_node):
            suffix = "" if per_node == 1 else f"-{number + 1}"
            vol = cinder.create_volume(apply.store, apply.pid, f"{spec.job}-k8s-node-{node}-volume{suffix}",
                                       spec.volume_size, created_at=apply.tick(3, 6))
            apply.record(tf.CMP + "openstack_blockstorage_volume_v3.k8s_node_volume", tf.volume(vol), index=index,
                         private=tf.private(create=10, delete=10))
            apply.tick(3, 5)
            device = f"/dev/vd{chr(ord('b') + number)}"
            nova.attach_volume(apply.store, server["id"], vol["id"], device)
            apply.record(tf.CMP + "openstack_compute_volume_attach_v2.k8s_node_volume",
                         tf.volume_attach(server["id"], vol["id"], device), index=index,
                         private=tf.private(create=10, delete=10))
            index += 1


def loadbalancer(apply: ClusterApply) -> None:
    """module "loadbalancer": the API LB; its members are ``module.compute.k8s_master_ips`` (the no-FIP masters)."""
    store, refs, job = apply.store, apply.refs, apply.spec.job
    lb_addr = tf.LBM + "openstack_lb_"
    lb = octavia.create_load_balancer(store, apply.pid, f"{job}-api-loadbalancer", vip_subnet_id=refs["subnet"]["id"],
                                      created_at=apply.tick(2, 3))
    apply.tick(30, 60)  # PENDING_CREATE until the amphora boots
    apply.record(lb_addr + "loadbalancer_v2.k8s_lb", tf.load_balancer(lb), index=0,
                 private=tf.private(create=10, delete=5, update=10))
    listener = octavia.create_listener(store, lb["id"], "api-listener", protocol="TCP", protocol_port=6443,
                                       created_at=apply.tick(5, 10))
    apply.record(lb_addr + "listener_v2.api_listener", tf.listener(listener, lb["id"]), index=0,
                 private=tf.private(create=10, delete=10, update=10))
    pool = octavia.create_pool(store, lb["id"], "api-pool", listener_id=listener["id"], protocol="TCP",
                               lb_algorithm="ROUND_ROBIN", created_at=apply.tick(3, 6))
    apply.record(lb_addr + "pool_v2.api_pool", tf.pool(pool, listener["id"]), index=0,
                 private=tf.private(create=10, delete=10, update=10))
    for index, server in enumerate(refs.get("servers.k8s_master_nf", [])):
        address = refs["ports.k8s_master_nf"][index]["fixed_ips"][0]["ip_address"]
        member = octavia.create_member(store, pool["id"], address, 6443, name=server["name"],
                                       created_at=apply.tick(3, 6))
        apply.record(lb_addr + "member_v2.lb_member", tf.member(member, pool["id"]), index=index,
                     private=tf.private(create=10, delete=10, update=10))
    monitor = octavia.create_health_monitor(store, pool["id"], type="TCP", delay=10, timeout=5, max_retries=5,
                                            name="Api Monitor", created_at=apply.tick(3, 6))
    apply.record(lb_addr + "monitor_v2.monitor", tf.monitor(monitor, pool["id"]), index=0,
                 private=tf.private(create=10, delete=10, update=10))
    fip = free_fip(apply, apply.tick(2, 3))
    apply.record(tf.LBM + "openstack_networking_floatingip_v2.floatip_1",
                 tf.floating_ip(fip, apply.site.external["name"]), index=0, private=tf.private(create=10, delete=10))
    apply.tick(2, 3)
    neutron.associate_floating_ip(store, fip["id"], lb["vip_port_id"])
    vip = store.get("ports", lb["vip_port_id"]) or {"id": lb["vip_port_id"], "fixed_ips": []}
    apply.record(tf.LBM + "openstack_networking_floatingip_associate_v2.public_ip",
                 tf.floating_ip_associate(fip, vip), index=0, private=tf.private())


def occm(apply: ClusterApply) -> None:
    """A ``type: LoadBalancer`` Service's LB, made by the cloud controller manager: in no Terraform state."""
    store, svc = apply.store, apply.spec.occm_service
    apply.at(apply.end + timedelta(minutes=apply.rng.randint(15, 30)))
    name = f"kube_service_{OCCM_CLUSTER}_default_{svc}"
    lb = octavia.create_load_balancer(store, apply.pid, name, vip_subnet_id=apply.refs["subnet"]["id"],
                                      description=f"Kubernetes external service default/{svc} from cluster "
                                                  f"{OCCM_CLUSTER}", tags=[name], created_at=apply.when)
    listener = octavia.create_listener(store, lb["id"], f"listener_0_{name}", protocol="TCP", protocol_port=80,
                                       created_at=apply.tick(20, 40))
    pool = octavia.create_pool(store, lb["id"], f"pool_0_{name}", listener_id=listener["id"], protocol="TCP",
                               created_at=apply.tick(2, 5))
    node_port = 30000 + apply.rng.randrange(2768)
    for server, port in zip(apply.refs.get("servers.k8s_node", []), apply.refs.get("ports.k8s_node", []),
                            strict=True):
        octavia.create_member(store, pool["id"], port["fixed_ips"][0]["ip_address"], node_port, name=server["name"],
                              subnet_id=apply.refs["subnet"]["id"], created_at=apply.tick(2, 5))
    fip = free_fip(apply, apply.tick(2, 5), f"Floating IP for Kubernetes external service default/{svc} from "
                                             f"cluster {OCCM_CLUSTER}")
    neutron.associate_floating_ip(store, fip["id"], lb["vip_port_id"])


def csi_volumes(apply: ClusterApply) -> None:
    """PersistentVolumes the Cinder CSI driver made while the tests ran (``--cluster`` = the cluster name)."""
    for number in range(apply.spec.csi_volumes):
        when = apply.at(apply.end + timedelta(minutes=apply.rng.randint(10, 40)))
        pv = f"pvc-{apply.uuid()}"
        cinder.create_volume(apply.store, apply.pid, pv, 1, created_at=when, user_id=apply.user_id, metadata={
            CSI_CLUSTER: apply.spec.job, "csi.storage.k8s.io/pv/name": pv,
            "csi.storage.k8s.io/pvc/name": f"data-{number}", "csi.storage.k8s.io/pvc/namespace": "default"})
