"""What the simulated GitLab knows: one project's jobs, its Terraform states, tokens, and request counters."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

STATUSES = ("created", "pending", "preparing", "waiting_for_resource", "running", "canceling", "success", "failed",
            "canceled", "skipped", "manual", "scheduled")
RUNNING = frozenset({"pending", "preparing", "running", "canceling"})  # a job token is valid only while it runs
FINISHED = frozenset({"success", "failed", "canceled", "skipped"})


def iso(when: datetime | None) -> str | None:
    """GitLab's REST time format: ``2026-05-09T07:35:25.123Z``."""
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@dataclass
class Job:
    id: int
    status: str
    name: str = "tf-elastx_ubuntu24-calico"
    stage: str = "deploy-part1"
    pipeline_id: int = 0
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    failure_reason: str | None = None
    token: str | None = None  # its CI_JOB_TOKEN


@dataclass
class State:
    name: str
    content: bytes = b""
    serial: int = 0
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    lock: dict[str, Any] | None = None
    locked_at: datetime | None = None


@dataclass(frozen=True)
class Token:
    """A personal, project or group access token and its scopes (``read_api``, ``api`` ...)."""

    value: str
    scopes: tuple[str, ...]


@dataclass
class Project:
    id: int
    path: str  # path_with_namespace
    jobs: dict[int, Job] = field(default_factory=dict)
    states: dict[str, State] = field(default_factory=dict)


class GitLabModel:
    """The simulated GitLab's data, guarded by one lock; handlers read and change it only through here."""

    def __init__(self, base_url: str = "http://127.0.0.1") -> None:
        self.lock = threading.RLock()
        self.base_url = base_url
        self.projects: dict[int, Project] = {}
        self.tokens: dict[str, Token] = {}
        self.job_token_can_list_jobs = False  # fine-grained job-token permission READ_JOBS
        self.graphql_page_size = 100
        self.pending_429: list[int] = []  # Retry-After seconds of the next injected 429 answers
        self.failure: int | None = None  # every API answer is this status (500, 502 ...) while set
        self.requests: Counter[tuple[str, str]] = Counter()
        self.statuses: Counter[int] = Counter()

    # --- seeding -------------------------------------------------------------------------------------
    def add_project(self, project_id: int, path: str) -> Project:
        with self.lock:
            project = self.projects.setdefault(project_id, Project(project_id, path))
            return project

    def add_token(self, value: str, scopes: Iterable[str]) -> None:
        with self.lock:
            self.tokens[value] = Token(value, tuple(scopes))

    def add_job(self, project_id: int, job: Job) -> Job:
        with self.lock:
            self.projects[project_id].jobs[job.id] = job
            return job

    def set_state(self, project_id: int, name: str, content: bytes, *, updated_at: datetime | None = None,
                  lock: Mapping[str, Any] | None = None) -> State:
        with self.lock:
            project = self.projects[project_id]
            state = project.states.get(name) or State(name)
            state.content = content
            state.serial += 1
            state.updated_at = updated_at or datetime.now(UTC)
            if lock is not None:
                state.lock, state.locked_at = dict(lock), state.updated_at
            project.states[name] = state
            return state

    # --- look-ups ------------------------------------------------------------------------------------
    def project(self, ref: str) -> Project | None:
        """By numeric id or by ``path_with_namespace`` (already URL-decoded)."""
        with self.lock:
            if ref.isdigit():
                return self.projects.get(int(ref))
            return next((p for p in self.projects.values() if p.path == ref), None)

    def job_by_token(self, token: str) -> tuple[Project, Job] | None:
        with self.lock:
            for project in self.projects.values():
                for job in project.jobs.values():
                    if job.token == token and job.status in RUNNING:
                        return project, job
        return None

    def job_url(self, project: Project, job: Job) -> str:
        return f"{self.base_url}/{project.path}/-/jobs/{job.id}"

    def job_json(self, project: Project, job: Job) -> dict[str, Any]:
        """The Jobs API representation (the fields a cleanup reads, plus a few a client expects)."""
        duration = None
        if job.started_at and job.finished_at:
            duration = (job.finished_at - job.started_at).total_seconds()
        return {
            "id": job.id, "status": job.status, "stage": job.stage, "name": job.name, "ref": "master",
            "tag": False, "coverage": None, "allow_failure": False,
            "created_at": iso(job.created_at), "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at), "erased_at": None, "duration": duration,
            "queued_duration": 1.0, "user": {"id": 1, "username": "ci-bot", "name": "CI bot", "state": "active"},
            "pipeline": {"id": job.pipeline_id, "iid": job.pipeline_id, "project_id": project.id, "ref": "master",
                         "status": job.status, "source": "push",
                         "web_url": f"{self.base_url}/{project.path}/-/pipelines/{job.pipeline_id}"},
            "web_url": self.job_url(project, job), "project": {"ci_job_token_scope_enabled": True},
            "artifacts": [], "runner": None, "tag_list": [], "archived": False,
            "failure_reason": job.failure_reason if job.status == "failed" else None,
        }

    def count(self, method: str, route: str, status: int) -> None:
        with self.lock:
            self.requests[(method, route)] += 1
            self.statuses[status] += 1

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "total": sum(self.requests.values()),
                "routes": [{"method": m, "route": r, "count": n} for (m, r), n in sorted(self.requests.items())],
                "by_status": {str(s): n for s, n in sorted(self.statuses.items())},
            }

    def reset_stats(self) -> None:
        with self.lock:
            self.requests.clear()
            self.statuses.clear()


def seed(model: GitLabModel, *, project_id: int = 42, project_path: str = "kargo-ci/kubernetes-sigs-kubespray",
         tokens: Mapping[str, Iterable[str]] | None = None, jobs: Iterable[Mapping[str, Any]] = (),
         states: Mapping[str, Mapping[str, Any] | bytes | str] | None = None,
         now: datetime | None = None) -> GitLabModel:
    """Fill a model from plain data.

    ``jobs``: ``{"id": 4700, "status": "failed", "age_minutes": 30, "token": "..."}`` (``finished_minutes_ago``
    for finished jobs, default 1); ``states``: name -> state text, or ``{"content": text, "locked": bool,
    "updated_minutes_ago": n}``; ``tokens``: value -> scopes.
    """
    now = now or datetime.now(UTC)
    model.add_project(project_id, project_path)
    for value, scopes in (tokens or {}).items():
        model.add_token(value, scopes)
    for spec in jobs:
        status = str(spec["status"])
        if status not in STATUSES:
            raise ValueError(f"job {spec['id']}: unknown status {status!r}")
        created = now - timedelta(minutes=float(spec.get("age_minutes", 60)))
        started = None if status in ("created", "pending", "manual", "scheduled", "skipped") else \
            created + timedelta(seconds=20)
        finished = now - timedelta(minutes=float(spec.get("finished_minutes_ago", 1))) if status in FINISHED else None
        model.add_job(project_id, Job(id=int(spec["id"]), status=status, pipeline_id=int(spec.get("pipeline", 1000)),
                                      created_at=created, started_at=started, finished_at=finished,
                                      failure_reason="script_failure" if status == "failed" else None,
                                      token=spec.get("token")))
    for name, given in (states or {}).items():
        state_spec: Mapping[str, Any] = {"content": given} if isinstance(given, (bytes, str)) else given
        content = state_spec.get("content", b"")
        lock = {"ID": f"lock-{name}", "Operation": "OperationTypeApply", "Who": "runner", "Version": "1.9.1",
                "Created": iso(now), "Path": ""} if state_spec.get("locked") else None
        model.set_state(project_id, name, content.encode() if isinstance(content, str) else content,
                        updated_at=now - timedelta(minutes=float(state_spec.get("updated_minutes_ago", 5))), lock=lock)
    return model
