"""Keystone v3 through openstacksdk and plain HTTP: application credentials, 401s, scoping and token checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import openstack.config
import openstack.connection
import pytest
import requests
from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as sdk_exc

from kubespray_cleanup.simulator.server import SimulatorServer
from kubespray_cleanup.simulator.store import AppCredential

Factory = Callable[..., SimulatorServer]


def _connect(cloud: dict[str, Any]) -> Any:
    """An openstacksdk Connection from one clouds.yaml entry (no files or environment read)."""
    config = openstack.config.OpenStackConfig(load_yaml_config=False, load_envvars=False)
    return openstack.connection.Connection(config=config.get_one(cloud=None, **cloud))


def _app_credential_cloud(sim: SimulatorServer, **auth: str) -> dict[str, Any]:
    return {"auth_type": "v3applicationcredential", "auth": {"auth_url": sim.auth_url, **auth},
            "region_name": "RegionOne", "interface": "public", "identity_api_version": 3}


def _add_app_credential(sim: SimulatorServer, secret: str = "s3cret") -> AppCredential:
    """An application credential of elastx-ci on project elastx, as ``openstack application credential create``."""
    store = sim.store
    user, project = store.user_by_name("elastx-ci"), store.project_by_name("elastx")
    assert user is not None and project is not None
    cred = AppCredential(id=store.new_hex_id(), name="kubespray-ci", secret=secret, user_id=user.id,
                         project_id=project.id, roles=["member"])
    with store.lock:
        store.app_credentials[cred.id] = cred
    return cred


def _password_body(user: str, password: str, project: str) -> dict[str, Any]:
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}


def _token(sim: SimulatorServer, user: str, password: str, project: str) -> str:
    answer = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=_password_body(user, password, project),
                           timeout=5)
    assert answer.status_code == 201
    return str(answer.headers["X-Subject-Token"])


def test_application_credential_by_id_authenticates_through_openstacksdk(sim: SimulatorServer) -> None:
    """auth_type v3applicationcredential with id + secret gets a token scoped to the credential's project."""
    cred = _add_app_credential(sim)
    conn = _connect(_app_credential_cloud(sim, application_credential_id=cred.id,
                                          application_credential_secret=cred.secret))
    conn.network.create_network(name="made-with-app-cred")
    assert conn.current_project_id == cred.project_id
    assert "made-with-app-cred" in {n.name for n in conn.network.networks()}
    owner = sim.store.project_by_name("elastx")
    assert owner is not None and all(n.project_id == owner.id for n in conn.network.networks(name="made-with-app-cred"))


def test_application_credential_by_name_and_user_authenticates(sim: SimulatorServer) -> None:
    """The credential can also be named with its owner (application_credential_name + username)."""
    cred = _add_app_credential(sim)
    conn = _connect(_app_credential_cloud(sim, application_credential_name=cred.name, username="elastx-ci",
                                          user_domain_name="Default", application_credential_secret=cred.secret))
    assert [n.name for n in conn.network.networks()] == ["public"]
    assert conn.current_project_id == cred.project_id


def test_application_credential_with_a_wrong_secret_is_refused(sim: SimulatorServer) -> None:
    """A wrong secret: the SDK raises keystoneauth's Unauthorized before any service call."""
    cred = _add_app_credential(sim)
    conn = _connect(_app_credential_cloud(sim, application_credential_id=cred.id,
                                          application_credential_secret="not-it"))
    with pytest.raises(ksa_exc.Unauthorized):
        list(conn.network.networks())
    assert not any(r["route"].startswith("/network") for r in sim.simulator.stats_json()["routes"])


def test_wrong_password_answers_401_with_keystone_error_body(sim: SimulatorServer) -> None:
    """POST /v3/auth/tokens with a wrong password: 401 {"error": {"code", "title", "message"}}, no token."""
    answer = requests.post(f"{sim.url}/identity/v3/auth/tokens",
                           json=_password_body("elastx-ci", "wrong", "elastx"), timeout=5)
    assert answer.status_code == 401
    assert "X-Subject-Token" not in answer.headers
    assert answer.json() == {"error": {"code": 401, "title": "Unauthorized",
                                       "message": "The request you have made requires authentication."}}


def test_wrong_password_through_openstacksdk_raises_unauthorized(sim: SimulatorServer) -> None:
    """A wrong password in clouds.yaml: service calls raise keystoneauth's Unauthorized, authorize() an SDK 401."""
    cloud = sim.clouds()["clouds"]["elastx"]
    cloud["auth"]["password"] = "wrong"
    with pytest.raises(ksa_exc.Unauthorized) as err:
        list(_connect(cloud).network.networks())
    assert err.value.http_status == 401
    with pytest.raises(sdk_exc.SDKException, match=r"HTTP 401"):
        _connect(cloud).authorize()


def test_unknown_project_scope_is_401(sim: SimulatorServer) -> None:
    """A user asking for a project it has no role on is refused like a bad password."""
    answer = requests.post(f"{sim.url}/identity/v3/auth/tokens",
                           json=_password_body("elastx-ci", "elastx-password", "other"), timeout=5)
    assert answer.status_code == 401 and answer.json()["error"]["title"] == "Unauthorized"


def test_project_token_sees_only_its_project_and_admin_sees_all(sim: SimulatorServer, elastx: Any, other: Any,
                                                                 admin: Any) -> None:
    """Network lists: elastx and other each see their own network (and the external one), admin sees both."""
    elastx.network.create_network(name="elastx-net")
    other.network.create_network(name="other-net")
    assert {n.name for n in elastx.network.networks()} == {"elastx-net", "public"}
    assert {n.name for n in other.network.networks()} == {"other-net", "public"}
    assert {n.name for n in admin.network.networks()} == {"elastx-net", "other-net", "public"}
    assert elastx.network.find_network("other-net") is None


def test_token_body_carries_project_roles_and_catalog(sim: SimulatorServer) -> None:
    """The token names user, project and roles, and its catalog points every service at this simulator."""
    answer = requests.post(f"{sim.url}/identity/v3/auth/tokens",
                           json=_password_body("elastx-ci", "elastx-password", "elastx"), timeout=5)
    token = answer.json()["token"]
    assert token["project"]["name"] == "elastx" and token["user"]["name"] == "elastx-ci"
    assert [r["name"] for r in token["roles"]] == ["member"]
    urls = {entry["type"]: entry["endpoints"][0]["url"] for entry in token["catalog"]}
    assert set(urls) == {"identity", "compute", "network", "block-storage", "image", "load-balancer"}
    assert all(url.startswith(sim.url) for url in urls.values())
    assert urls["block-storage"].endswith(f"/volume/v3/{token['project']['id']}")


def test_token_validation_route_accepts_live_tokens_and_rejects_unknown_ones(sim: SimulatorServer) -> None:
    """GET/HEAD /v3/auth/tokens: 200 for a live subject token, 404 for an unknown one, 401 without X-Auth-Token."""
    caller = _token(sim, "elastx-ci", "elastx-password", "elastx")
    subject = _token(sim, "other-ci", "other-password", "other")
    url = f"{sim.url}/identity/v3/auth/tokens"
    for method in ("GET", "HEAD"):
        ok = requests.request(method, url, headers={"X-Auth-Token": caller, "X-Subject-Token": subject}, timeout=5)
        assert ok.status_code == 200
        gone = requests.request(method, url, headers={"X-Auth-Token": caller, "X-Subject-Token": "0" * 64},
                                timeout=5)
        assert gone.status_code == 404
        anonymous = requests.request(method, url, headers={"X-Subject-Token": subject}, timeout=5)
        assert anonymous.status_code == 401
    assert requests.get(url, headers={"X-Auth-Token": caller, "X-Subject-Token": "nope"},
                        timeout=5).json()["error"]["code"] == 404


def test_expired_token_is_rejected_by_services_and_validation(make_sim: Factory) -> None:
    """Once a token's ttl passes, services answer 401 and validation 404 for it."""
    server = make_sim("empty", faults="token_ttl=0.2")
    caller = _token(server, "elastx-ci", "elastx-password", "elastx")
    fresh = requests.get(f"{server.url}/network/v2.0/networks", headers={"X-Auth-Token": caller}, timeout=5)
    assert fresh.status_code == 200
    with server.store.lock:
        server.store.wall_offset += timedelta(seconds=1)
    stale = requests.get(f"{server.url}/network/v2.0/networks", headers={"X-Auth-Token": caller}, timeout=5)
    assert stale.status_code == 401 and stale.json()["error"]["title"] == "Unauthorized"


def test_project_list_is_scoped_for_members_and_complete_for_admin(sim: SimulatorServer) -> None:
    """GET /v3/projects: a member sees its own project, admin sees every project."""
    member = _token(sim, "elastx-ci", "elastx-password", "elastx")
    boss = _token(sim, "admin", "admin-password", "admin")
    url = f"{sim.url}/identity/v3/projects"
    mine = requests.get(url, headers={"X-Auth-Token": member}, timeout=5).json()["projects"]
    every = requests.get(url, headers={"X-Auth-Token": boss}, timeout=5).json()["projects"]
    assert [p["name"] for p in mine] == ["elastx"]
    assert {p["name"] for p in every} == {"elastx", "other", "admin"}
