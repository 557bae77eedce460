"""The gateway's rate limit: a token bucket per project (or per service), 429 + Retry-After, control routes exempt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from openstack import exceptions as sdk_exc

from kubespray_cleanup.simulator.ratelimit import RateLimiter, RateLimitSpec, TokenBucket
from kubespray_cleanup.simulator.server import SimulatorServer

Factory = Callable[..., SimulatorServer]


class _Now:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _token(sim: SimulatorServer, project: str = "elastx") -> str:
    body: dict[str, Any] = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": f"{project}-ci", "password": f"{project}-password", "domain": {"name": "Default"}}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    answer = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=body, timeout=10)
    assert answer.status_code == 201
    return str(answer.headers["X-Subject-Token"])


def test_rate_limit_spec_parses_rate_burst_and_scope() -> None:
    """'60' means 60/s with a one-second burst per project; burst and per are optional; nonsense is refused."""
    assert RateLimitSpec.parse("60") == RateLimitSpec(60.0, 60, "project")
    assert RateLimitSpec.parse("2.5,burst=4,per=service") == RateLimitSpec(2.5, 4, "service")
    assert RateLimitSpec.parse("0.5").burst == 1
    for bad in ("", "fast", "-1", "10,burst=0", "10,per=user", "10,seed=1"):
        with pytest.raises(ValueError):
            RateLimitSpec.parse(bad)


def test_token_bucket_refuses_beyond_its_burst_and_refills_at_its_rate() -> None:
    """Burst 3 at 10/s: three pass at once, the fourth waits 0.1 s; after 0.1 s one more passes."""
    bucket = TokenBucket(10.0, 3, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(0.1)
    assert bucket.take(0.1) == 0.0
    assert bucket.take(0.1) > 0.0


def test_over_the_limit_each_service_answers_429_with_retry_after_in_its_own_shape(make_sim: Factory) -> None:
    """Burst 1: the second request of a project is refused with Retry-After >= 1 and the service's fault body."""
    clock = _Now()
    sim = make_sim("empty", rate_limit=RateLimiter("1,burst=1,per=service", clock=clock))
    headers = {"X-Auth-Token": _token(sim)}
    shapes = {"/compute/v2.1/flavors": "overLimit", "/network/v2.0/networks": "NeutronError",
              "/load-balancer/v2/lbaas/loadbalancers": "faultstring", "/image/v2/images": "error"}
    for path, key in shapes.items():
        assert requests.get(sim.url + path, headers=headers, timeout=10).status_code == 200
        refused = requests.get(sim.url + path, headers=headers, timeout=10)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert key in refused.json()
    clock.now += 1.0
    assert requests.get(sim.url + "/network/v2.0/networks", headers=headers, timeout=10).status_code == 200
    assert requests.get(sim.url + "/_sim/stats", timeout=10).status_code == 200  # control routes: never limited


def test_per_project_bucket_is_shared_by_services_and_not_by_projects(make_sim: Factory) -> None:
    """per=project: a Nova call uses up the Neutron budget of the same project, not another project's."""
    clock = _Now()
    sim = make_sim("empty", rate_limit=RateLimiter("1,burst=1", clock=clock))
    mine = {"X-Auth-Token": _token(sim)}
    clock.now += 1.0  # token creation is anonymous: one bucket for every caller without a token
    other = {"X-Auth-Token": _token(sim, "other")}
    assert requests.get(sim.url + "/compute/v2.1/flavors", headers=mine, timeout=10).status_code == 200
    assert requests.get(sim.url + "/network/v2.0/networks", headers=mine, timeout=10).status_code == 429
    assert requests.get(sim.url + "/network/v2.0/networks", headers=other, timeout=10).status_code == 200
    for _ in range(3):
        requests.get(sim.url + "/_sim/state", timeout=10)
    assert sim.simulator.rate_limiter is not None and sim.simulator.rate_limiter.refused == 1
    assert sim.simulator.stats_json()["by_status"]["429"] == 1


def test_openstacksdk_sees_the_429_and_its_retry_after(make_sim: Factory) -> None:
    """Through real openstacksdk: an exhausted bucket raises HttpException 429 whose response carries Retry-After."""
    clock = _Now()
    sim = make_sim("empty", rate_limit=RateLimiter("1,burst=3", clock=clock))
    conn = sim.connect("elastx")
    try:
        list(conn.network.networks())  # token + catalog and a first page fit in the burst
        with pytest.raises(sdk_exc.HttpException) as caught:
            for _ in range(3):
                list(conn.network.networks())
        assert caught.value.status_code == 429
        assert caught.value.response is not None and caught.value.response.headers["Retry-After"] == "1"
    finally:
        conn.close()
