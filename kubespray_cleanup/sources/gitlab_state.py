"""GitLab-managed Terraform state as a source (list by GraphQL, fetch by REST), and ``--purge`` of spent states.

Fails closed like the file source: a state that cannot be listed or read raises :class:`StateError`.
A state's name is an owner hint: the Kubespray template names each state after ``$CI_JOB_ID``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import structlog

from kubespray_cleanup.errors import StateError
from kubespray_cleanup.model import Kind, node_key
from kubespray_cleanup.sources.gitlab_jobs import FINISHED, LIVE, GitLabConfig, JobStatus, explain_failure
from kubespray_cleanup.sources.terraform_state import StateFile, parse_state

log = structlog.get_logger("tf-cleanup")

LOCK_STATE_PREFIX = "tf-cleanup-lock-"
STATES_QUERY = """
query($fullPath: ID!, $after: String) {
  project(fullPath: $fullPath) {
    terraformStates(first: 100, after: $after) {
      nodes { name lockedAt updatedAt latestVersion { serial createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
MAX_PAGES = 100


@dataclass(frozen=True)
class RemoteState:
    """One state as GitLab lists it."""

    name: str
    locked_at: datetime | None
    updated_at: datetime | None
    serial: int | None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class GitLabStates:
    """The project's GitLab-managed states: list, fetch, delete. Knows which source string is which state."""

    def __init__(self, config: GitLabConfig) -> None:
        self.config = config
        self.names: dict[str, str] = {}  # StateFile.source -> state name
        self._rest: Any = None

    @property
    def where(self) -> str:
        return f"gitlab:{self.config.project}"

    def source_of(self, name: str) -> str:
        return f"{self.where}/{name}"

    def state_path(self, name: str) -> str:
        return f"/projects/{quote(self.config.project, safe='')}/terraform/state/{quote(name, safe='')}"

    def rest(self) -> Any:
        """REST client: the token, or the job token as ``gitlab-ci-token`` basic auth as the state API expects."""
        if self._rest is None:
            self._rest = self.config.client(job_token_basic=True)
        return self._rest

    def list(self) -> list[RemoteState]:
        """Every state of the project (GraphQL ``terraformStates``, all pages); our own lock states left out."""
        if not self.config.token:
            raise StateError(self.where, "listing GitLab-managed states needs a read_api token in GITLAB_TOKEN "
                                         "(GraphQL does not accept CI_JOB_TOKEN)")
        try:
            client = self.config.client()
            path = self.config.project_path or str(client.projects.get(self.config.project).path_with_namespace)
            found: list[RemoteState] = []
            after: str | None = None
            for _ in range(MAX_PAGES):
                answer = client.http_post(f"{self.config.url}/api/graphql", max_retries=self.config.max_retries,
                                          post_data={"query": STATES_QUERY,
                                                     "variables": {"fullPath": path, "after": after}})
                page = self._page(answer)
                found += [self._remote(node) for node in page.get("nodes") or ()]
                info = page.get("pageInfo") or {}
                if not info.get("hasNextPage"):
                    break
                after = info.get("endCursor")
        except StateError:
            raise
        except Exception as exc:  # any failure: the source is unreadable, fail closed
            raise StateError(self.where, explain_failure(exc, self.config, "listing Terraform states")) from None
        return [s for s in found if not s.name.startswith(LOCK_STATE_PREFIX)]

    def _page(self, answer: Any) -> Mapping[str, Any]:
        if not isinstance(answer, dict) or answer.get("errors"):
            errors = answer.get("errors") if isinstance(answer, dict) else None
            first = errors[0].get("message") if errors and isinstance(errors[0], dict) else "no data"
            raise StateError(self.where, f"GraphQL terraformStates failed: {first}")
        project = (answer.get("data") or {}).get("project")
        if project is None:
            raise StateError(self.where, "GraphQL: project not found or not visible to the token")
        return dict(project.get("terraformStates") or {})

    @staticmethod
    def _remote(node: Mapping[str, Any]) -> RemoteState:
        version = node.get("latestVersion") or {}
        serial = version.get("serial")
        return RemoteState(str(node["name"]), _time(node.get("lockedAt")), _time(node.get("updatedAt")),
                           serial if isinstance(serial, int) else None)

    def fetch(self, remote: RemoteState) -> StateFile:
        """One state's content as a StateFile (204: no content yet, an empty state). Failure: StateError."""
        source = self.source_of(remote.name)
        self.names[source] = remote.name
        try:
            response = self.rest().http_get(self.state_path(remote.name), raw=True,
                                            max_retries=self.config.max_retries)
        except Exception as exc:  # any failure: the state is unreadable, fail closed
            raise StateError(source, explain_failure(exc, self.config, "reading the state")) from None
        locked = remote.locked_at is not None
        hint = owner_hint(remote.name)
        if response.status_code == 204 or not response.content:
            return StateFile(source=source, serial=remote.serial or 0, lineage="", terraform_version="",
                             modified_at=remote.updated_at, locked=locked, entries=(), unknown_types=(),
                             owner_hint=hint, locked_at=remote.locked_at)
        state = parse_state(response.content, source, modified_at=remote.updated_at, locked=locked)
        return replace(state, owner_hint=hint, locked_at=remote.locked_at)

    def delete(self, name: str) -> None:
        self.rest().http_delete(self.state_path(name), max_retries=self.config.max_retries)


_JOB_IN_NAME = re.compile(r"^(?:.*[-_.])?(\d{3,})$")


def owner_hint(name: str) -> str | None:
    """The job a state's name carries: ``1234567890``, or a trailing job id as in ``kubespray-1234567890``."""
    match = _JOB_IN_NAME.match(name)
    return match.group(1) if match else None


@dataclass(frozen=True)
class PurgeDecision:
    """Whether one GitLab-managed state is purged after the cleanup, and why."""

    name: str
    source: str
    purge: bool
    reason: str
    outcome: str = ""  # "", "purged", "would purge" or the error

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "purge": self.purge, "reason": self.reason,
                "outcome": self.outcome}


@dataclass(frozen=True)
class PurgeContext:
    """What the purge decisions look at: the cloud after the cleanup and the owners' liveness."""

    project_id: str
    remaining: Collection[str]  # node keys that still exist (or, in a dry run, will still exist)
    unlisted: Collection[Kind]  # kinds the inventory could not list: their absence proves nothing
    owners: Mapping[str, str | None]  # state source -> owner
    jobs: Mapping[str, JobStatus]
    live_owners: Collection[str]
    now: datetime
    state_max_age: timedelta
    force: bool = False
    cloud_unreachable: str = ""  # why the cloud could not be checked at all ("" when it was listed)


def decide_purge(states: Iterable[StateFile], names: Mapping[str, str], ctx: PurgeContext) -> list[PurgeDecision]:
    """Purge a state only when every resource it holds is gone, it is unlocked, and its job cannot be running."""
    decisions = []
    for state in states:
        if state.source in names:
            purge, reason = _purge_reason(state, ctx)
            decisions.append(PurgeDecision(names[state.source], state.source, purge, reason))
    return decisions


def _purge_reason(state: StateFile, ctx: PurgeContext) -> tuple[bool, str]:
    owner = ctx.owners.get(state.source)
    job = ctx.jobs.get(owner) if owner else None
    if state.locked:
        return False, "locked"
    if owner in ctx.live_owners or (job is not None and job.liveness == LIVE):
        return False, f"job {owner} is live" + (f" ({job.status})" if job else "")
    recent = state.modified_at is not None and ctx.now - state.modified_at < ctx.state_max_age
    if recent and (job is None or job.liveness != FINISHED):
        return False, "updated recently and GitLab does not report its job finished"
    if ctx.cloud_unreachable:
        if ctx.force:
            return True, f"its cloud cannot be checked ({ctx.cloud_unreachable}); purged because of --force"
        return False, f"its cloud cannot be checked ({ctx.cloud_unreachable}); --force purges it anyway"
    foreign = sorted({e.project_id for e in state.entries if e.kind is not None and e.project_id
                      and e.project_id != ctx.project_id})
    if foreign:
        if ctx.force:
            return True, f"resources in cloud project {', '.join(foreign)}, which this run cannot check (--force)"
        return False, f"resources in cloud project {', '.join(foreign)}, which this run cannot check (--force purges)"
    held = [(e.kind, e.id) for e in state.entries if e.kind is not None and e.id]
    unverifiable = sorted({kind.value for kind, _ in held if kind in ctx.unlisted})
    if unverifiable:
        return False, f"cannot verify {', '.join(unverifiable)}s (not listed)"
    left = [key for key in (node_key(kind, id_) for kind, id_ in held) if key in ctx.remaining]
    if left:
        return False, f"{len(left)} of its {len(held)} resources still exist"
    return True, f"all {len(held)} of its resources are gone" if held else "holds no resources"
