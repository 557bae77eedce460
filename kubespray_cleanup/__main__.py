"""``python -m kubespray_cleanup`` runs the same command as ``tf-cleanup``."""

from kubespray_cleanup.cli import main

main()
