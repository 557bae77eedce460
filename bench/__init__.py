"""Reproducible figures: tf-cleanup against Kubespray's fixed-order script and openstacksdk's project_cleanup."""
