"""Shared set-up for the Nova simulator tests: a network with a subnet, and a server booted on it."""

from __future__ import annotations

from typing import Any


def make_network(conn: Any, name: str = "net") -> tuple[Any, Any]:
    net = conn.network.create_network(name=name)
    subnet = conn.network.create_subnet(network_id=net.id, cidr="10.1.0.0/24", ip_version=4, name=f"{name}-sub")
    return net, subnet


def boot(conn: Any, name: str, networks: list[dict[str, str]], **kwargs: Any) -> Any:
    flavor = next(iter(conn.compute.flavors()))
    image = next(iter(conn.image.images()))
    server = conn.compute.create_server(name=name, flavor_id=flavor.id, image_id=image.id, networks=networks,
                                        **kwargs)
    return conn.compute.wait_for_server(server, interval=0.02, wait=10)
