"""Scenarios: what a simulator starts with. The YAML files beside this module are the built-in ones.

``document`` reads scenario files and merges ``extends``; ``seed`` turns a document into projects, users and
records; ``kubespray`` (with ``cluster``, ``extras``, ``tfstate``, ``tfstate_document``) builds Kubespray CI
clusters the way OpenTofu applies them, and the state files they leave; ``bench`` writes the benchmark's
scenario. Everything here sits on top of the services and seeds them through their model functions; no
service imports anything from here.
"""

from kubespray_cleanup.simulator.scenarios.document import BUILTIN, Credential, Scenario, ScenarioError, resolve
from kubespray_cleanup.simulator.scenarios.seed import add_ci_user, load_scenario

__all__ = ["BUILTIN", "Credential", "Scenario", "ScenarioError", "add_ci_user", "load_scenario", "resolve"]
