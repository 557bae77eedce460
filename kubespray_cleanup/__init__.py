"""kubespray-cleanup: conflict-free cleanup of leaked Kubespray CI resources on OpenStack."""

__version__ = "0.1.0"
