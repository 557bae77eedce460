"""Ask GitLab whether the job that owns a cluster still runs, instead of guessing liveness from age.

One request per owner in question (with a ``read_api`` token: the single-job endpoint), or a few pages of
the jobs list (with only ``CI_JOB_TOKEN``, which GitLab refuses on the single-job endpoint). Any failure of
GitLab as a whole (unreachable, 401, 403, 5xx, rate limit not lifting) makes every owner ``unknown`` with
one warning: the planner then falls back to ``--min-age``. Failure is never a reason to delete.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from kubespray_cleanup.errors import UsageError

log = structlog.get_logger("tf-cleanup")

LIVE_STATUSES = frozenset({"created", "pending", "preparing", "waiting_for_resource", "running", "canceling"})
FINISHED_STATUSES = frozenset({"success", "failed", "canceled", "skipped"})
LIVE, FINISHED, UNKNOWN = "live", "finished", "unknown"
NOT_FOUND, UNANSWERED = "not_found", "unanswered"
MAX_LIST_PAGES = 20  # job-token mode: how far back the jobs list is read (100 jobs a page)
STARTED_SCOPES = ("preparing", "running", "canceling")  # live jobs that may have run a line of script


def liveness_of(status: str) -> str:
    """``live`` / ``finished`` for a GitLab job status; manual, scheduled and statuses GitLab may add are live."""
    if status in FINISHED_STATUSES:
        return FINISHED
    if status in (NOT_FOUND, UNANSWERED):
        return UNKNOWN
    return LIVE


@dataclass(frozen=True)
class JobStatus:
    """What GitLab says about one owner (a job id), as the plan and the reports show it."""

    owner: str
    status: str  # a GitLab job status, or not_found / unanswered
    finished_at: str | None = None
    web_url: str | None = None

    @property
    def liveness(self) -> str:
        return liveness_of(self.status)

    def describe(self) -> str:
        if self.status == NOT_FOUND:
            return "job unknown to GitLab"
        if self.status == UNANSWERED:
            return "job status unavailable"
        if self.finished_at:
            return f"job {self.status}, finished {self.finished_at}"
        return f"job {self.status}"

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "status": self.status, "liveness": self.liveness,
                "finished_at": self.finished_at, "web_url": self.web_url}


@dataclass(frozen=True)
class LiveJob:
    """A job GitLab lists as started and not finished."""

    id: str
    status: str
    name: str = ""
    stage: str = ""


@dataclass(frozen=True)
class LiveJobs:
    """GitLab's list of started live jobs; ``jobs`` None when it could not be read (``why`` says why)."""

    jobs: tuple[LiveJob, ...] | None
    why: str = ""
    own_job: str | None = None  # the run's own job (CI_JOB_ID), listed but never a cluster's


@dataclass(frozen=True)
class GitLabConfig:
    """Where GitLab is and how to authenticate; tokens never appear in repr, logs or messages."""

    url: str
    project: str  # numeric id or path_with_namespace
    token: str | None = field(default=None, repr=False)
    job_token: str | None = field(default=None, repr=False)
    project_path: str | None = None  # for GraphQL, which addresses projects by path
    own_job: str | None = None  # CI_JOB_ID: the job this run is, when it runs in one
    timeout: float = 15.0
    max_parallel: int = 8
    max_retries: int = 3

    @property
    def credential(self) -> str:
        """Which credential is in use, for messages (never its value)."""
        if self.token:
            return "the GitLab token"
        return "CI_JOB_TOKEN" if self.job_token else "no credential"

    def client(self, *, job_token_basic: bool = False) -> Any:
        """A python-gitlab client. ``job_token_basic``: job token as ``gitlab-ci-token`` basic auth (state API)."""
        import gitlab  # python-gitlab: loaded only by runs that talk to GitLab
        import requests

        if self.token:
            return gitlab.Gitlab(self.url, private_token=self.token, timeout=self.timeout)
        if self.job_token and job_token_basic:
            session = requests.Session()
            session.auth = ("gitlab-ci-token", self.job_token)
            return gitlab.Gitlab(self.url, session=session, timeout=self.timeout)
        return gitlab.Gitlab(self.url, job_token=self.job_token, timeout=self.timeout)


def gitlab_config(*, url: str | None = None, project: str | None = None, token_file: str | None = None,
                  profile: Mapping[str, str] | None = None,
                  environ: Mapping[str, str] | None = None) -> GitLabConfig | None:
    """GitLab settings from options, then the profile's ``gitlab:``, then the job's environment; None if absent."""
    env = os.environ if environ is None else environ
    prof = profile or {}
    api = env.get("CI_API_V4_URL", "")
    server = url or prof.get("url") or env.get("CI_SERVER_URL") or (api.removesuffix("/api/v4") if api else "")
    proj = project or prof.get("project") or env.get("CI_PROJECT_ID") or env.get("CI_PROJECT_PATH")
    if not server and not proj:
        return None
    if not server or not proj:
        missing = "--gitlab-url (or CI_SERVER_URL)" if not server else "--gitlab-project (or CI_PROJECT_ID)"
        raise UsageError(f"GitLab is half configured: {missing} is missing")
    token = env.get(prof.get("token_env") or "GITLAB_TOKEN") or None
    if token_file:
        try:
            token = Path(token_file).read_text().strip() or None
        except OSError as exc:
            raise UsageError(f"--gitlab-token-file {token_file}: cannot read ({exc.strerror or exc})") from None
    path = env.get("CI_PROJECT_PATH") if str(proj) == env.get("CI_PROJECT_ID") else None
    if not str(proj).isdigit():
        path = str(proj)
    return GitLabConfig(url=server.rstrip("/"), project=str(proj), token=token,
                        job_token=env.get("CI_JOB_TOKEN") or None, project_path=path,
                        own_job=env.get("CI_JOB_ID") or None)


class GitLabUnavailable(Exception):
    """GitLab as a whole cannot answer (as opposed to one job being unknown)."""


def explain_failure(exc: BaseException, config: GitLabConfig, what: str) -> str:
    """One line that says what failed and what to fix; no token, no response body."""
    import gitlab  # python-gitlab: loaded only by runs that talk to GitLab
    import requests

    code = getattr(exc, "response_code", None)
    if isinstance(exc, requests.RequestException):
        return f"GitLab unreachable at {config.url} ({exc.__class__.__name__}) while {what}"
    if code == 401:
        return f"GitLab refused {config.credential} (401) while {what}: the token is invalid, expired or revoked"
    if code == 403:
        if not config.token:
            return (f"GitLab refused CI_JOB_TOKEN (403) while {what}: the job token may not do this; "
                    "set GITLAB_TOKEN to a project access token with the read_api scope")
        return (f"GitLab refused the token (403) while {what}: it lacks the read_api scope "
                "(or access to the project)")
    if code == 429:
        return f"GitLab kept rate-limiting (429) while {what}"
    if isinstance(code, int):
        return f"GitLab answered {code} while {what}"
    if isinstance(exc, gitlab.GitlabError):
        return f"GitLab error while {what} ({exc.__class__.__name__})"
    return f"GitLab failed while {what} ({exc.__class__.__name__})"


@dataclass
class JobLookup:
    """The answer for a set of owners: a status each, and at most one warning for the whole lookup."""

    statuses: dict[str, JobStatus]
    warning: str | None = None


class GitLabJobs:
    """Job statuses for owners, cached for the run; bounded concurrency; one warning when GitLab fails."""

    def __init__(self, config: GitLabConfig, client_factory: Callable[[], Any] | None = None) -> None:
        self.config = config
        self._factory = client_factory or config.client
        self._local = threading.local()
        self._cache: dict[str, JobStatus] = {}
        self._lock = threading.Lock()
        self.warning: str | None = None

    def lookup(self, owners: Iterable[str]) -> JobLookup:
        wanted = sorted({o for o in owners if o not in self._cache})
        if wanted and self.warning is None:
            try:
                if self.config.token:
                    self._each_job(wanted)
                else:
                    self._from_list(wanted)
            except GitLabUnavailable as exc:
                self.warning = f"{exc}; every owner falls back to --min-age"
                log.warning("gitlab_unavailable", reason=str(exc))
        statuses = {o: self._cache.get(o) or JobStatus(o, UNANSWERED) for o in owners}
        return JobLookup(statuses, self.warning)

    def live_jobs(self) -> LiveJobs:
        """Every started, unfinished job of the project (paged), or unknown when GitLab cannot answer, already
        failed this run, or the list changed under the paging (a job could have slipped between pages)."""
        own = self.config.own_job
        if self.warning is not None:
            return LiveJobs(None, self.warning.split(";")[0], own)
        found: dict[str, LiveJob] = {}
        try:
            project = self._client().projects.get(self.config.project, lazy=True)
            listing = project.jobs.list(scope=list(STARTED_SCOPES), iterator=True, per_page=100,
                                        max_retries=self.config.max_retries)
            first_total = None
            for seen, job in enumerate(listing):
                first_total = listing.total if first_total is None else first_total
                if seen >= MAX_LIST_PAGES * 100:
                    return LiveJobs(None, f"more than {MAX_LIST_PAGES * 100} live jobs", own)
                found[str(job.id)] = LiveJob(str(job.id), str(job.attributes.get("status") or ""),
                                             str(job.attributes.get("name") or ""),
                                             str(job.attributes.get("stage") or ""))
            if listing.total is not None and (listing.total != (first_total or 0) or len(found) < listing.total):
                return LiveJobs(None, "the list of live jobs changed while it was read", own)
        except Exception as exc:  # any failure means: GitLab cannot answer
            reason = explain_failure(exc, self.config, "listing live jobs")
            log.warning("gitlab_unavailable", reason=reason)
            return LiveJobs(None, reason, own)
        log.debug("gitlab_live_jobs_read", jobs=len(found))
        return LiveJobs(tuple(found[k] for k in sorted(found, key=int)), "", own)

    def _client(self) -> Any:
        if not hasattr(self._local, "client"):
            self._local.client = self._factory()
        return self._local.client

    def _each_job(self, owners: list[str]) -> None:
        stop = threading.Event()
        failures: list[BaseException] = []

        def one(owner: str) -> None:
            if stop.is_set():
                return
            try:
                self._remember(self._get_job(owner))
            except Exception as exc:  # any failure means: GitLab cannot answer
                stop.set()
                failures.append(exc)
        workers = max(1, min(self.config.max_parallel, len(owners)))
        with ThreadPoolExecutor(workers, thread_name_prefix="gitlab") as pool:
            list(pool.map(one, [o for o in owners if o.isdigit()]))
        for owner in owners:
            if not owner.isdigit():
                self._remember(JobStatus(owner, NOT_FOUND))
        if failures:
            raise GitLabUnavailable(explain_failure(failures[0], self.config, "reading job statuses"))

    def _get_job(self, owner: str) -> JobStatus:
        import gitlab  # python-gitlab: loaded only by runs that talk to GitLab

        project = self._client().projects.get(self.config.project, lazy=True)
        try:
            job = project.jobs.get(int(owner), max_retries=self.config.max_retries)
        except gitlab.GitlabGetError as exc:
            if exc.response_code == 404:
                return JobStatus(owner, NOT_FOUND)
            raise
        log.debug("gitlab_job_read", owner=owner, status=job.status)
        return _status_of(owner, job.attributes)

    def _from_list(self, owners: list[str]) -> None:
        """Job-token mode: read the jobs list newest first until every owner is seen or older than the oldest."""
        numeric = {int(o) for o in owners if o.isdigit()}
        try:
            project = self._client().projects.get(self.config.project, lazy=True)
            jobs = project.jobs.list(iterator=True, per_page=100, max_retries=self.config.max_retries)
            for seen, job in enumerate(jobs):
                if int(job.id) in numeric:
                    self._remember(_status_of(str(job.id), job.attributes))
                    numeric.discard(int(job.id))
                if not numeric or int(job.id) < min(numeric) or seen >= MAX_LIST_PAGES * 100:
                    break
        except Exception as exc:  # any failure means: GitLab cannot answer
            raise GitLabUnavailable(explain_failure(exc, self.config, "listing jobs")) from None
        for owner in owners:
            if owner not in self._cache:
                self._remember(JobStatus(owner, NOT_FOUND))

    def _remember(self, status: JobStatus) -> None:
        with self._lock:
            self._cache[status.owner] = status


def _status_of(owner: str, attrs: Mapping[str, Any]) -> JobStatus:
    return JobStatus(owner, str(attrs.get("status") or UNANSWERED), attrs.get("finished_at"), attrs.get("web_url"))
