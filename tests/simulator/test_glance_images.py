"""Glance v2 images in the simulator, through openstacksdk: discovery, pagination, 404."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions

from kubespray_cleanup.simulator import glance
from kubespray_cleanup.simulator.server import SimulatorServer


def test_image_discovery_lists_v2_versions(elastx: Any) -> None:
    """The unversioned /image root is a 300 listing v2.x versions; the SDK settles on v2."""
    data = elastx.image.get_endpoint_data()
    assert data.api_version == (2, 17) and data.url.endswith("/image/v2/")
    root = elastx.image.get(elastx.image.get_endpoint().rsplit("/v2", 1)[0] + "/")
    assert root.status_code == 300 and root.json()["versions"][0] == {
        "id": "v2.17", "status": "CURRENT", "links": [{"rel": "self", "href": data.url}]}


def test_image_list_pages_with_next_and_first(sim: SimulatorServer, elastx: Any) -> None:
    """Glance pages with top-level ``next``/``first`` links (default page 25); the SDK follows them."""
    with sim.store.lock:
        for index in range(30):
            glance.create_image(sim.store, name=f"img-{index:02d}")
    page = elastx.image.get("/images").json()
    assert len(page["images"]) == 25 and page["first"] == "/v2/images"
    assert page["next"] == f"/v2/images?marker={page['images'][-1]['id']}"
    assert page["images"][0]["schema"] == "/v2/schemas/image" and page["schema"] == "/v2/schemas/images"
    assert len(list(elastx.image.images())) == 32
    assert [i.name for i in elastx.image.images(name="img-07")] == ["img-07"]


def test_image_missing_is_404(elastx: Any) -> None:
    """GET of an unknown image -> 404 "No image found with ID {id}"."""
    missing = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
    with pytest.raises(exceptions.NotFoundException) as err:
        elastx.image.get_image(missing)
    assert err.value.status_code == 404
    assert err.value.response.json()["message"].startswith(f"No image found with ID {missing}")


def test_seeded_image_is_served(elastx: Any) -> None:
    """Scenario images (id, name) are public and active."""
    image = elastx.image.get_image("5394dbe7-8b41-4b84-b95b-f02793f69c0d")
    assert (image.name, image.status, image.visibility) == ("ubuntu-24.04-server-latest", "active", "public")


@pytest.mark.parametrize(("limit", "message"), [("ten", "limit param must be an integer"),
                                                ("-1", "limit param must be positive")])
def test_image_list_refuses_a_bad_limit_in_glance_shape(elastx: Any, limit: str, message: str) -> None:
    answer = elastx.image.get(f"/images?limit={limit}")
    assert answer.status_code == 400
    assert answer.json() == {"message": f"{message}<br /><br />\n\n", "code": "400 Bad Request",
                             "title": "Bad Request"}
