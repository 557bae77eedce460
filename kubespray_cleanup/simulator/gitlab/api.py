"""The HTTP face of the simulated GitLab: Jobs API, Terraform state API, GraphQL ``terraformStates``, projects.

Routing works on the raw request path, segment by segment, so a URL-encoded project path
(``group%2Fproject``) stays one segment as GitLab treats it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from werkzeug.wrappers import Request, Response

from kubespray_cleanup.simulator.gitlab.model import GitLabModel, Job, Project, iso

READ_SCOPES = frozenset({"read_api", "api"})
WRITE_SCOPES = frozenset({"api"})
MAX_PER_PAGE = 100


class _Refusal(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass(frozen=True)
class Caller:
    """Who sent a request: a scoped token, or a running job's CI_JOB_TOKEN."""

    scopes: frozenset[str]
    job: Job | None = None

    @property
    def is_job(self) -> bool:
        return self.job is not None


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers, content_type="application/json")


def _message(status: int, text: str) -> Response:
    return _json({"message": text}, status)


Handler = Callable[[Request, list[str], Caller], Response]


class GitLabApp:
    """WSGI application over a :class:`GitLabModel`."""

    def __init__(self, model: GitLabModel) -> None:
        self.model = model
        # (method, pattern of segments after /api/v4, route name, handler); "*" matches one segment
        self.routes: list[tuple[str, tuple[str, ...], str, Handler]] = [
            ("GET", ("job",), "/job", self.own_job),
            ("GET", ("projects", "*"), "/projects/:id", self.get_project),
            ("GET", ("projects", "*", "jobs"), "/projects/:id/jobs", self.list_jobs),
            ("GET", ("projects", "*", "jobs", "*"), "/projects/:id/jobs/:job_id", self.get_job),
            ("GET", ("projects", "*", "terraform", "state", "*"), "/projects/:id/terraform/state/:name",
             self.get_state),
            ("POST", ("projects", "*", "terraform", "state", "*"), "/projects/:id/terraform/state/:name",
             self.put_state),
            ("DELETE", ("projects", "*", "terraform", "state", "*"), "/projects/:id/terraform/state/:name",
             self.delete_state),
            ("POST", ("projects", "*", "terraform", "state", "*", "lock"),
             "/projects/:id/terraform/state/:name/lock", self.lock_state),
            ("DELETE", ("projects", "*", "terraform", "state", "*", "lock"),
             "/projects/:id/terraform/state/:name/lock", self.unlock_state),
        ]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(request.path))
        segments = [unquote(s) for s in raw.split("?", 1)[0].split("/") if s]
        route, response = self.dispatch(request, segments)
        self.model.count(request.method, route, response.status_code)
        return response(environ, start_response)

    def dispatch(self, request: Request, segments: list[str]) -> tuple[str, Response]:
        if segments[:2] == ["_sim", "stats"]:
            return "/_sim/stats", _json(self.model.stats())
        injected = self._injected()
        if segments[:2] == ["api", "graphql"] and request.method == "POST":
            return "/graphql", injected or self._guarded(request, [], self.graphql)
        if segments[:2] != ["api", "v4"]:
            return "other", _message(404, "404 Not Found")
        rest = segments[2:]
        for method, pattern, name, handler in self.routes:
            if method == request.method and len(pattern) == len(rest) and \
                    all(p in ("*", s) for p, s in zip(pattern, rest, strict=True)):
                args = [s for p, s in zip(pattern, rest, strict=True) if p == "*"]
                return name, injected or self._guarded(request, args, handler)
        return "other", _message(404, "404 Not Found")

    def _injected(self) -> Response | None:
        with self.model.lock:
            if self.model.pending_429:
                wait = self.model.pending_429.pop(0)
                reset = int(datetime.now(UTC).timestamp()) + wait
                return _json({"message": "Retry later"}, 429, {
                    "Retry-After": str(wait), "RateLimit-Limit": "2000", "RateLimit-Remaining": "0",
                    "RateLimit-Reset": str(reset), "RateLimit-Observed": "2001"})
            if self.model.failure is not None:
                return _message(self.model.failure, f"{self.model.failure} Internal Server Error")
        return None

    def _guarded(self, request: Request, args: list[str], handler: Handler) -> Response:
        try:
            return handler(request, args, self._caller(request))
        except _Refusal as refusal:
            return refusal.response

    # --- authentication ----------------------------------------------------------------------------------
    def _caller(self, request: Request) -> Caller:
        header = request.headers.get("Authorization", "")
        private = request.headers.get("PRIVATE-TOKEN") or request.args.get("private_token")
        job_token = request.headers.get("JOB-TOKEN") or request.args.get("job_token")
        if header.startswith("Bearer "):
            private = header[len("Bearer "):]
        elif header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode(errors="replace").partition(":")
            if user == "gitlab-ci-token":
                job_token = password
            else:
                private = password
        if private:
            token = self.model.tokens.get(private)
            if token is None:
                raise _Refusal(_message(401, "401 Unauthorized"))
            return Caller(frozenset(token.scopes))
        if job_token:
            found = self.model.job_by_token(job_token)
            if found is None:
                raise _Refusal(_message(401, "401 Unauthorized"))
            return Caller(frozenset(), job=found[1])
        raise _Refusal(_message(401, "401 Unauthorized"))

    @staticmethod
    def _need(caller: Caller, scopes: frozenset[str]) -> None:
        if not caller.scopes & scopes:
            raise _Refusal(_json({"error": "insufficient_scope",
                                  "error_description": "The request requires higher privileges than provided by "
                                                       "the access token.",
                                  "scope": " ".join(sorted(scopes))}, 403))

    def _project(self, ref: str) -> Project:
        project = self.model.project(ref)
        if project is None:
            raise _Refusal(_message(404, "404 Project Not Found"))
        return project

    # --- projects and jobs -------------------------------------------------------------------------------
    def get_project(self, request: Request, args: list[str], caller: Caller) -> Response:
        if caller.is_job:
            raise _Refusal(_message(401, "401 Unauthorized"))
        self._need(caller, READ_SCOPES)
        project = self._project(args[0])
        return _json({"id": project.id, "path_with_namespace": project.path, "path": project.path.split("/")[-1],
                      "name": project.path.split("/")[-1], "web_url": f"{self.model.base_url}/{project.path}",
                      "default_branch": "master"})

    def own_job(self, request: Request, args: list[str], caller: Caller) -> Response:
        if caller.job is None:
            raise _Refusal(_message(401, "401 Unauthorized"))
        found = self.model.job_by_token(caller.job.token or "")
        if found is None:
            raise _Refusal(_message(401, "401 Unauthorized"))
        return _json(self.model.job_json(*found))

    def get_job(self, request: Request, args: list[str], caller: Caller) -> Response:
        if caller.is_job:  # as on gitlab.com: the job token may not read a single job (gitlab-org/gitlab#467492)
            raise _Refusal(_message(401, "401 Unauthorized"))
        self._need(caller, READ_SCOPES)
        project = self._project(args[0])
        job = project.jobs.get(int(args[1])) if args[1].isdigit() else None
        if job is None:
            raise _Refusal(_message(404, "404 Not found"))
        return _json(self.model.job_json(project, job))

    def list_jobs(self, request: Request, args: list[str], caller: Caller) -> Response:
        if caller.is_job and not self.model.job_token_can_list_jobs:
            raise _Refusal(_message(403, "403 Forbidden"))
        if not caller.is_job:
            self._need(caller, READ_SCOPES)
        project = self._project(args[0])
        scopes = request.args.getlist("scope[]") or request.args.getlist("scope")
        with self.model.lock:
            jobs = sorted((j for j in project.jobs.values() if not scopes or j.status in scopes),
                          key=lambda j: -j.id)
            rows = [self.model.job_json(project, j) for j in jobs]
        return self._paged(request, rows)

    def _paged(self, request: Request, rows: list[dict[str, Any]]) -> Response:
        try:
            page = max(1, int(request.args.get("page", "1")))
            per_page = min(MAX_PER_PAGE, max(1, int(request.args.get("per_page", "20"))))
        except ValueError:
            return _message(400, "400 Bad request - page is invalid")
        pages = max(1, -(-len(rows) // per_page))
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(rows)),
                   "X-Total-Pages": str(pages), "X-Prev-Page": str(page - 1) if page > 1 else "",
                   "X-Next-Page": str(page + 1) if page < pages else ""}
        raw = str(request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or quote(request.path))
        base = request.host_url.rstrip("/") + raw.split("?", 1)[0]  # keeps an encoded project path encoded
        query = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]

        def link(number: int, rel: str) -> str:
            params = "&".join(f"{quote(k)}={quote(v)}" for k, v in query + [("page", str(number))])
            return f'<{base}?{params}>; rel="{rel}"'
        links = ([link(page + 1, "next")] if page < pages else []) + [link(1, "first"), link(pages, "last")]
        headers["Link"] = ", ".join(links)
        return _json(rows[(page - 1) * per_page: page * per_page], headers=headers)

    # --- Terraform state ---------------------------------------------------------------------------------
    def _state_caller(self, caller: Caller, write: bool) -> None:
        if not caller.is_job:
            self._need(caller, WRITE_SCOPES if write else READ_SCOPES)

    def get_state(self, request: Request, args: list[str], caller: Caller) -> Response:
        self._state_caller(caller, write=False)
        project = self._project(args[0])
        with self.model.lock:
            state = project.states.get(args[1])
            if state is None:
                raise _Refusal(_message(404, "404 Not Found"))
            if not state.content:
                return Response(status=204)
            return Response(state.content, content_type="application/json")

    def put_state(self, request: Request, args: list[str], caller: Caller) -> Response:
        self._state_caller(caller, write=True)
        project = self._project(args[0])
        lock_id = request.args.get("ID")
        with self.model.lock:
            state = project.states.get(args[1])
            if state is not None and state.lock is not None and state.lock.get("ID") != lock_id:
                return _json(state.lock, 409)
            self.model.set_state(project.id, args[1], request.get_data())
        return Response(status=200)

    def delete_state(self, request: Request, args: list[str], caller: Caller) -> Response:
        self._state_caller(caller, write=True)
        project = self._project(args[0])
        with self.model.lock:
            state = project.states.get(args[1])
            if state is None:
                raise _Refusal(_message(404, "404 Not Found"))
            if state.lock is not None:
                return _message(409, "state is locked")
            del project.states[args[1]]
        return Response(status=204)

    def lock_state(self, request: Request, args: list[str], caller: Caller) -> Response:
        self._state_caller(caller, write=True)
        project = self._project(args[0])
        try:
            info = json.loads(request.get_data() or b"{}")
        except ValueError:
            return _message(400, "400 Bad request - lock info is not JSON")
        with self.model.lock:
            state = project.states.get(args[1])
            if state is None:
                state = self.model.set_state(project.id, args[1], b"")
            if state.lock is not None:
                return _json(state.lock, 409)
            state.lock, state.locked_at = dict(info), datetime.now(UTC)
        return Response(status=200)

    def unlock_state(self, request: Request, args: list[str], caller: Caller) -> Response:
        self._state_caller(caller, write=True)
        project = self._project(args[0])
        body = request.get_data()
        wanted = request.args.get("ID") or (json.loads(body).get("ID") if body.strip() else None)
        with self.model.lock:
            state = project.states.get(args[1])
            if state is None or state.lock is None:
                return Response(status=200)
            if wanted and state.lock.get("ID") != wanted:
                return _json(state.lock, 409)
            state.lock, state.locked_at = None, None
        return Response(status=200)

    # --- GraphQL ------------------------------------------------------------------------------------------
    def graphql(self, request: Request, args: list[str], caller: Caller) -> Response:
        if caller.is_job:  # GraphQL does not accept the job token
            raise _Refusal(_message(401, "401 Unauthorized"))
        self._need(caller, READ_SCOPES)
        try:
            body = json.loads(request.get_data() or b"{}")
            query, variables = str(body["query"]), dict(body.get("variables") or {})
        except (ValueError, KeyError, TypeError):
            return _json({"errors": [{"message": "Invalid request body"}]}, 400)
        if "terraformStates" not in query:
            return _json({"errors": [{"message": "this simulator answers terraformStates queries only"}]})
        path = _argument(query, "fullPath", variables)
        first = int(_argument(query, "first", variables) or self.model.graphql_page_size)
        after = _argument(query, "after", variables)
        project = self.model.project(str(path or ""))
        if project is None:
            return _json({"data": {"project": None}})
        with self.model.lock:
            states = sorted(project.states.values(), key=lambda s: s.name)
            start = int(base64.b64decode(after).decode()) if after else 0
            page = states[start:start + first]
            nodes = [{"name": s.name, "lockedAt": iso(s.locked_at), "updatedAt": iso(s.updated_at),
                      "latestVersion": {"serial": s.serial, "createdAt": iso(s.updated_at)} if s.content else None}
                     for s in page]
        end = start + len(page)
        cursor = base64.b64encode(str(end).encode()).decode()
        return _json({"data": {"project": {"terraformStates": {
            "count": len(states), "nodes": nodes,
            "pageInfo": {"hasNextPage": end < len(states), "endCursor": cursor if page else None}}}}})


def _argument(query: str, name: str, variables: dict[str, Any]) -> str | None:
    """The value of ``name:`` in the query: a string or number literal, or a ``$variable``."""
    match = re.search(rf"\b{name}\s*:\s*(\"((?:[^\"\\]|\\.)*)\"|\$(\w+)|(\d+))", query)
    if not match:
        return None
    if match.group(3):
        value = variables.get(match.group(3))
        return None if value is None else str(value)
    return match.group(2) if match.group(2) is not None else match.group(4)
