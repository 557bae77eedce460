"""Empty server groups in no state: leaked once no live job can still claim them (the creation window).

Kubespray's OpenStack module names its server groups ``k8s-master-srvgrp``, ``k8s-node-srvgrp``,
``k8s-etcd-srvgrp`` (and ``k8s-K-srvgrp`` per ``additional_server_groups`` key) with no cluster prefix: every
job makes the same names, and Nova gives server groups no creation time. A group with members belongs to the
job of its members, one in a state to that state's job (``ownership``). What is left is a group without members
and in no state: a cancelled job's ``k8s-etcd-srvgrp`` with 0 etcd hosts, or a group whose servers are already
gone. It counts against the server-group quota (10 by default) until someone deletes it.

Terraform creates server groups at the very start of an apply (they depend on nothing), so such a group can
only belong to a job that is running now and whose apply has not written the group to its state yet. The
rule, for an empty group (``members`` listed and empty) in no state, whose name is one the module makes (the
three above, plus the profile's ``server_groups``; never any other name):

1. GitLab not configured, or its list of live jobs unavailable (unreachable, 401/403 - a bare CI_JOB_TOKEN
   may not list jobs -, 5xx, the list changed while it was paged): keep, and say which.
2. The live jobs GitLab lists (``GET /projects/:id/jobs?scope[]=preparing&scope[]=running&scope[]=canceling``,
   read after the cloud's inventory) are the candidates, except:
   - the run's own job (``CI_JOB_ID``): a cleanup job creates no cluster;
   - jobs whose name does not match the profile's ``gitlab.cluster_jobs`` regex, when it has one;
   - jobs not started yet (``created``, ``pending``, ``waiting_for_resource``, ``manual``, ``scheduled``, none of
     which the list is asked for): they have not run a line of script, so they cannot have made a group that
     already existed when the inventory was read. A job that starts later makes a group of its own (another id).
3. A candidate job's window for the name is closed when a state of that job (a GitLab-managed state named after
   it, or a state given to the run, whose owner is the job) lists a server group of that name with another id:
   the module makes one group of each name per job, so that job has its own. Otherwise it is open: keep, with
   the job that holds it ("job 4731 is running and its state does not list k8s-etcd-srvgrp yet").
4. No candidate left, or every candidate's window closed: the group is leaked. Its owner reads
   ``finished job (creation window)``, ``found_by`` ``creation window``, and it is deleted like any leaked
   resource (by id: a group of the same name made meanwhile is another object).

Assumed, as by the rest of the ownership rules: the cloud project is used by the configured GitLab project's CI
jobs only (a person's or another project's ``tofu apply`` is invisible to GitLab's list).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from kubespray_cleanup.config import Profile
from kubespray_cleanup.liveness import owner_of_state
from kubespray_cleanup.model import Kind, Resource
from kubespray_cleanup.sources.gitlab_jobs import LiveJobs
from kubespray_cleanup.sources.terraform_state import StateFile

MODULE_GROUPS = ("k8s-master-srvgrp", "k8s-node-srvgrp", "k8s-etcd-srvgrp")
WINDOW_OWNER = "finished job (creation window)"
WINDOW_RULE = "creation window"
NOT_CONFIGURED = ("GitLab not configured: an empty server group in no state can only be proven leaked by "
                  "GitLab's list of live jobs")


@dataclass(frozen=True)
class Verdict:
    leaked: bool
    reason: str


def group_names(profile: Profile) -> frozenset[str]:
    """The server-group names the rule may judge: the module's fixed three and the profile's own."""
    return frozenset(MODULE_GROUPS) | frozenset(profile.server_groups)


def is_candidate(res: Resource, profile: Profile) -> bool:
    """An empty server group with a module-made name (in no state: the caller checks)."""
    members = res.attrs.get("members")
    return res.kind is Kind.SERVER_GROUP and res.name in group_names(profile) and isinstance(members, list) \
        and not members


def judge(groups: Iterable[Resource], states: list[StateFile], profile: Profile,
          live: LiveJobs | None) -> dict[str, Verdict]:
    """Node key -> verdict for each candidate group (empty, module-made name, in no state: the caller's pick)."""
    chosen = [g for g in groups if is_candidate(g, profile)]
    if not chosen:
        return {}
    if live is None:
        return {g.key: Verdict(False, NOT_CONFIGURED) for g in chosen}
    if live.jobs is None:
        why = f"GitLab's list of live jobs is unavailable ({live.why}): an empty server group is kept"
        return {g.key: Verdict(False, why) for g in chosen}
    pattern = re.compile(profile.gitlab["cluster_jobs"]) if profile.gitlab.get("cluster_jobs") else None
    candidates = [j for j in live.jobs if j.id != live.own_job and (pattern is None or pattern.search(j.name))]
    own_groups: dict[str, dict[str, set[str]]] = {}  # job -> group name -> ids its states list
    with_state = set()
    for state in states:
        owner = owner_of_state(state, profile)
        with_state.add(owner)
        for entry in state.entries:
            if owner and entry.kind is Kind.SERVER_GROUP:
                own_groups.setdefault(owner, {}).setdefault(entry.name, set()).add(entry.id)
    verdicts = {}
    for group in chosen:
        open_by = [j for j in candidates if not own_groups.get(j.id, {}).get(group.name, set()) - {group.id}]
        if not open_by:
            verdicts[group.key] = Verdict(True, f"leaked: no live job can still claim {group.name} "
                                                f"({_closed(len(candidates))})")
            continue
        job = open_by[0]
        where = "its state does not list" if job.id in with_state else "no state of it lists"
        more = f" (and {len(open_by) - 1} more live job{'s' if len(open_by) > 2 else ''})" if len(open_by) > 1 else ""
        verdicts[group.key] = Verdict(False, f"job {job.id} is {job.status} and {where} {group.name} yet{more}: "
                                             "its creation window is open")
    return verdicts


def _closed(candidates: int) -> str:
    if not candidates:
        return "GitLab lists no other live job"
    return f"the {candidates} live job{'s' if candidates > 1 else ''} GitLab lists have their own"
