"""A simulated GitLab (Jobs API, Terraform state API, GraphQL state list), self-contained, for tests and demos."""

from kubespray_cleanup.simulator.gitlab.model import STATUSES, GitLabModel, Job, seed
from kubespray_cleanup.simulator.gitlab.server import GitLabServer, start_gitlab

__all__ = ["STATUSES", "GitLabModel", "GitLabServer", "Job", "seed", "start_gitlab"]
