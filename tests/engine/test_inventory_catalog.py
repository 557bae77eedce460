"""Catalog lookups in the live inventory: an absent service is a skip with its reason, a failed lookup an error."""

from __future__ import annotations

import pytest

from kubespray_cleanup.errors import CloudError
from kubespray_cleanup.model import Kind
from kubespray_cleanup.sources.inventory import list_inventory


class _Catalogless:
    """A connection whose catalog lookups all say "absent"; ``authorize`` tells why."""

    current_project_id = "p1"

    def __init__(self, token_error: Exception | None) -> None:
        self.token_error = token_error

    def has_service(self, service_type: str) -> bool:
        return False

    def authorize(self) -> str:
        if self.token_error is not None:
            raise self.token_error
        return "token"


def test_services_absent_from_the_catalog_are_skipped_with_the_reason() -> None:
    """Token in hand and no load-balancer service: the kind is skipped, said so, nothing raised."""
    inventory = list_inventory(_Catalogless(None), kinds=[Kind.LOAD_BALANCER])
    assert inventory.skipped_kinds == {Kind.LOAD_BALANCER: "service load-balancer not in the catalog"}


def test_failed_token_call_is_an_error_not_an_absent_service() -> None:
    """openstacksdk answers False when the token call fails: that is a CloudError, never a skipped kind."""
    with pytest.raises(CloudError, match="service catalog lookup for load-balancer failed: bad credentials"):
        list_inventory(_Catalogless(RuntimeError("bad credentials")), kinds=[Kind.LOAD_BALANCER])
