"""``tf-cleanup check``: whether the project can hold one more cluster, and if not, why (leftovers, quota,
name collisions, missing flavors or images, stale locks, services that do not answer)."""
