"""The simulated GitLab answers as GitLab documents it, driven through python-gitlab (plain requests where it has
no manager): jobs, job-token limits, scopes, pagination, rate limits, Terraform state and lock, GraphQL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import gitlab
import pytest
import requests

from kubespray_cleanup.simulator.gitlab import GitLabServer
from tests.gitlab.conftest import API_TOKEN, JOB_TOKEN, PROJECT_ID, PROJECT_PATH, READ_TOKEN, WEAK_TOKEN

JOBS = [{"id": 4700, "status": "failed"}, {"id": 4705, "status": "canceled"},
        {"id": 4712, "status": "running", "token": JOB_TOKEN}, {"id": 4713, "status": "canceling"}]
ENCODED = PROJECT_PATH.replace("/", "%2F")


def _query(path: str, after: str | None = None) -> dict[str, object]:
    return {"query": "query($fullPath: ID!, $after: String) { project(fullPath: $fullPath) { "
                     "terraformStates(first: 2, after: $after) { nodes { name lockedAt updatedAt "
                     "latestVersion { serial createdAt } } pageInfo { hasNextPage endCursor } } } }",
            "variables": {"fullPath": path, "after": after}}


def test_single_job_has_the_documented_fields(make_gitlab: Callable[..., GitLabServer]) -> None:
    """GET /projects/:id/jobs/:job_id carries id, status, web_url, pipeline.id, times and failure_reason."""
    gl = gitlab.Gitlab(make_gitlab(jobs=JOBS).url, private_token=READ_TOKEN)
    job = gl.projects.get(PROJECT_ID, lazy=True).jobs.get(4700)
    for name in ("id", "status", "name", "stage", "web_url", "pipeline", "created_at", "started_at", "finished_at",
                 "failure_reason"):
        assert name in job.attributes
    assert job.status == "failed" and job.failure_reason == "script_failure"
    assert job.web_url.endswith(f"/{PROJECT_PATH}/-/jobs/4700")
    assert job.finished_at.endswith("Z")


def test_project_is_found_by_id_and_by_encoded_path(make_gitlab: Callable[..., GitLabServer]) -> None:
    """GET /projects/:id accepts the numeric id and the URL-encoded path_with_namespace."""
    gl = gitlab.Gitlab(make_gitlab().url, private_token=READ_TOKEN)
    assert gl.projects.get(PROJECT_PATH).id == PROJECT_ID
    assert gl.projects.get(PROJECT_ID).path_with_namespace == PROJECT_PATH


def test_unknown_job_is_404(make_gitlab: Callable[..., GitLabServer]) -> None:
    """A job of another project (or an erased one) is a plain 404."""
    gl = gitlab.Gitlab(make_gitlab(jobs=JOBS).url, private_token=READ_TOKEN)
    with pytest.raises(gitlab.GitlabGetError) as caught:
        gl.projects.get(PROJECT_ID, lazy=True).jobs.get(99)
    assert caught.value.response_code == 404


def test_job_token_reads_only_its_own_job(make_gitlab: Callable[..., GitLabServer]) -> None:
    """CI_JOB_TOKEN may call GET /job but not the single-job endpoint, as on gitlab.com."""
    gl = gitlab.Gitlab(make_gitlab(jobs=JOBS).url, job_token=JOB_TOKEN)
    assert gl.http_get("/job")["id"] == 4712
    with pytest.raises(gitlab.GitlabAuthenticationError):
        gl.projects.get(PROJECT_ID, lazy=True).jobs.get(4700)


def test_job_token_lists_jobs_only_with_read_jobs(make_gitlab: Callable[..., GitLabServer]) -> None:
    """The jobs LIST endpoint refuses the job token unless the fine-grained READ_JOBS permission is granted."""
    server = make_gitlab(jobs=JOBS)
    jobs = gitlab.Gitlab(server.url, job_token=JOB_TOKEN).projects.get(PROJECT_ID, lazy=True).jobs
    with pytest.raises(gitlab.GitlabListError) as caught:
        jobs.list(get_all=True)
    assert caught.value.response_code == 403
    server.model.job_token_can_list_jobs = True
    assert [j.id for j in jobs.list(get_all=True)] == [4713, 4712, 4705, 4700]


def test_bearer_and_private_token_both_authenticate(make_gitlab: Callable[..., GitLabServer]) -> None:
    """PRIVATE-TOKEN and Authorization: Bearer are equivalent; a bad token is 401."""
    server = make_gitlab(jobs=JOBS)
    url = f"{server.api_url}/projects/{PROJECT_ID}/jobs/4700"
    assert requests.get(url, headers={"PRIVATE-TOKEN": READ_TOKEN}, timeout=5).status_code == 200
    assert requests.get(url, headers={"Authorization": f"Bearer {READ_TOKEN}"}, timeout=5).status_code == 200
    assert requests.get(url, headers={"PRIVATE-TOKEN": "glpat-bogus"}, timeout=5).status_code == 401
    assert requests.get(url, timeout=5).status_code == 401


def test_token_without_read_api_is_403_insufficient_scope(make_gitlab: Callable[..., GitLabServer]) -> None:
    """A token lacking read_api gets 403 with error insufficient_scope, as GitLab answers."""
    gl = gitlab.Gitlab(make_gitlab(jobs=JOBS).url, private_token=WEAK_TOKEN)
    with pytest.raises(gitlab.GitlabGetError) as caught:
        gl.projects.get(PROJECT_ID, lazy=True).jobs.get(4700)
    assert caught.value.response_code == 403
    assert json.loads(caught.value.response_body)["error"] == "insufficient_scope"


def test_jobs_list_paginates_with_headers_and_scopes(make_gitlab: Callable[..., GitLabServer]) -> None:
    """X-Page/X-Next-Page/X-Total and Link drive python-gitlab's pagination; scope[] filters by status."""
    server = make_gitlab(jobs=[{"id": n, "status": "success" if n % 2 else "running"} for n in range(1, 8)])
    answer = requests.get(f"{server.api_url}/projects/{ENCODED}/jobs", params={"per_page": 3, "page": 2},
                          headers={"PRIVATE-TOKEN": READ_TOKEN}, timeout=5)
    assert [j["id"] for j in answer.json()] == [4, 3, 2]
    assert (answer.headers["X-Page"], answer.headers["X-Next-Page"], answer.headers["X-Total"],
            answer.headers["X-Total-Pages"]) == ("2", "3", "7", "3")
    assert 'rel="next"' in answer.headers["Link"]
    jobs = gitlab.Gitlab(server.url, private_token=READ_TOKEN).projects.get(PROJECT_ID, lazy=True).jobs
    assert [j.id for j in jobs.list(iterator=True, per_page=2)] == [7, 6, 5, 4, 3, 2, 1]
    assert [j.id for j in jobs.list(get_all=True, scope=["running"])] == [6, 4, 2]


def test_429_carries_retry_after_and_python_gitlab_waits(make_gitlab: Callable[..., GitLabServer]) -> None:
    """An injected 429 has Retry-After and RateLimit-* headers; python-gitlab waits and retries."""
    server = make_gitlab(jobs=JOBS)
    server.model.pending_429 = [1]
    raw = requests.get(f"{server.api_url}/projects/{PROJECT_ID}/jobs/4700", headers={"PRIVATE-TOKEN": READ_TOKEN},
                       timeout=5)
    assert raw.status_code == 429 and raw.headers["Retry-After"] == "1" and "RateLimit-Reset" in raw.headers
    server.model.pending_429 = [1]
    started = time.monotonic()
    job = gitlab.Gitlab(server.url, private_token=READ_TOKEN).projects.get(PROJECT_ID, lazy=True).jobs.get(4700)
    assert job.status == "failed" and time.monotonic() - started >= 0.9
    assert server.stats()["by_status"]["429"] == 2


def test_state_get_post_delete_and_204_for_empty(make_gitlab: Callable[..., GitLabServer]) -> None:
    """The Terraform state API: 204 for a state without content, 200 with it, DELETE removes it (then 404)."""
    server = make_gitlab()
    gl = gitlab.Gitlab(server.url, private_token=API_TOKEN)
    path = f"/projects/{ENCODED}/terraform/state/4700"
    gl.http_post(f"{path}/lock", post_data={"ID": "x", "Operation": "OperationTypeInit"})
    gl.http_delete(f"{path}/lock")
    assert gl.http_get(path, raw=True).status_code == 204
    gl.http_post(path, post_data={"version": 4, "serial": 1, "resources": []})
    assert gl.http_get(path)["version"] == 4
    gl.http_delete(path)
    with pytest.raises(gitlab.GitlabHttpError) as caught:
        gl.http_get(path)
    assert caught.value.response_code == 404


def test_held_lock_is_409_and_blocks_delete(make_gitlab: Callable[..., GitLabServer]) -> None:
    """A second lock gets 409 with the holder's lock info; a locked state cannot be deleted; unlock frees it."""
    server = make_gitlab(states={"4712": {"content": '{"version": 4, "resources": []}', "locked": True}})
    base = f"{server.api_url}/projects/{PROJECT_ID}/terraform/state/4712"
    auth = ("gitlab-ci-token", JOB_TOKEN)
    server.model.projects[PROJECT_ID].jobs.clear()
    gl = gitlab.Gitlab(server.url, private_token=API_TOKEN)
    answer = requests.post(f"{base}/lock", json={"ID": "mine"}, headers={"PRIVATE-TOKEN": API_TOKEN}, timeout=5)
    assert answer.status_code == 409 and answer.json()["ID"] == "lock-4712"
    with pytest.raises(gitlab.GitlabHttpError) as caught:
        gl.http_delete(f"/projects/{PROJECT_ID}/terraform/state/4712")
    assert caught.value.response_code == 409
    assert requests.get(base, auth=auth, timeout=5).status_code == 401  # no running job owns this token now
    gl.http_delete(f"/projects/{PROJECT_ID}/terraform/state/4712/lock")
    gl.http_delete(f"/projects/{PROJECT_ID}/terraform/state/4712")


def test_state_writes_need_api_scope(make_gitlab: Callable[..., GitLabServer]) -> None:
    """read_api may read a state but not lock, write or delete it; the running job's token may."""
    server = make_gitlab(jobs=JOBS, states={"4700": '{"version": 4, "resources": []}'})
    base = f"{server.api_url}/projects/{PROJECT_ID}/terraform/state/4700"
    assert requests.get(base, headers={"PRIVATE-TOKEN": READ_TOKEN}, timeout=5).status_code == 200
    assert requests.delete(base, headers={"PRIVATE-TOKEN": READ_TOKEN}, timeout=5).status_code == 403
    assert requests.get(base, auth=("gitlab-ci-token", JOB_TOKEN), timeout=5).status_code == 200
    assert requests.delete(base, auth=("gitlab-ci-token", JOB_TOKEN), timeout=5).status_code == 204


def test_graphql_lists_states_with_page_info(make_gitlab: Callable[..., GitLabServer]) -> None:
    """terraformStates returns name, lockedAt, updatedAt, latestVersion.serial and pages by endCursor."""
    server = make_gitlab(states={"4700": "{}", "4705": "{}", "4712": {"content": "{}", "locked": True}})
    gl = gitlab.Gitlab(server.url, private_token=READ_TOKEN)
    first = gl.http_post(f"{server.url}/api/graphql", post_data=_query(PROJECT_PATH))["data"]["project"]
    page = first["terraformStates"]
    assert [n["name"] for n in page["nodes"]] == ["4700", "4705"]
    assert page["nodes"][0]["latestVersion"]["serial"] == 1 and page["nodes"][0]["lockedAt"] is None
    assert page["pageInfo"]["hasNextPage"] is True
    second = gl.http_post(f"{server.url}/api/graphql", post_data=_query(PROJECT_PATH, page["pageInfo"]["endCursor"]))
    nodes = second["data"]["project"]["terraformStates"]["nodes"]
    assert [n["name"] for n in nodes] == ["4712"] and nodes[0]["lockedAt"]
    missing = gl.http_post(f"{server.url}/api/graphql", post_data=_query("nobody/nothing"))
    assert missing["data"]["project"] is None


def test_stats_count_requests_by_route_and_status(make_gitlab: Callable[..., GitLabServer]) -> None:
    """/_sim/stats counts API requests per route and status, so tests can count what a run asked."""
    server = make_gitlab(jobs=JOBS)
    gl = gitlab.Gitlab(server.url, private_token=READ_TOKEN)
    gl.projects.get(PROJECT_ID, lazy=True).jobs.get(4700)
    with pytest.raises(gitlab.GitlabGetError):
        gl.projects.get(PROJECT_ID, lazy=True).jobs.get(1)
    stats = requests.get(f"{server.url}/_sim/stats", timeout=5).json()
    assert stats["by_status"] == {"200": 1, "404": 1}
    assert server.api_requests() == 2
