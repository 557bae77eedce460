"""Keystone behind a flaky gateway: its own calls retried where they are made, tokens renewed ahead of expiry.

Two things made token trouble cost whole deletes:

* keystoneauth fetches a token (and discovers Keystone's versions) inside whatever call needs one, and does not
  retry those requests: a 503 or a dropped connection on ``POST /v3/auth/tokens`` surfaces as the failure of the
  delete that happened to need the token, and each of the executor's retries needs a token of its own.
  :class:`SteadySession` retries Keystone's own calls (the unauthenticated ones: tokens and discovery) a bounded
  number of times with keystoneauth's exponential backoff (0.5 s, 1 s, 2 s, ...; ``Retry-After`` honoured), on
  connection failures and on 429/500/502/503/504. A 401 or another 4xx (wrong credentials) is not retried.
  Service calls keep their single attempt: the executor retries those, knowing which are deletes.
* keystoneauth renews a token once it has less than two minutes left. A cloud issuing tokens shorter than that
  would get a new token before every call; :func:`renew_ahead` scales the margin to the token's life (a quarter
  of it, at most keystoneauth's two minutes), so tokens are renewed about once per three quarters of their life.

The session is plugged in through openstacksdk's ``session_constructor``; the lock keystoneauth holds while it
fetches a token makes other threads wait for that one fetch instead of each fetching their own.
"""

from __future__ import annotations

from typing import Any

import requests
from keystoneauth1 import session as ks_session

KEYSTONE_RETRIES = 3  # at most 4 tries of each token or discovery call, 3.5 s of backoff in all
RETRIABLE_STATUS_CODES = [429, 500, 502, 503, 504]
DEFAULT_MARGIN_SECONDS = 120.0  # keystoneauth's own


class SteadySession(ks_session.Session):
    """A keystoneauth Session whose unauthenticated (Keystone token and discovery) calls are retried."""

    def request(self, url: str, method: str, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("authenticated") is False:
            if kwargs.get("connect_retries") is None:
                kwargs["connect_retries"] = KEYSTONE_RETRIES
            if not kwargs.get("status_code_retries"):
                kwargs["status_code_retries"] = KEYSTONE_RETRIES
                kwargs["retriable_status_codes"] = RETRIABLE_STATUS_CODES
        return super().request(url, method, **kwargs)


def renew_ahead(conn: Any) -> float | None:
    """Renew the connection's token when a quarter of its life remains (at most two minutes before it expires);
    the margin set, or None when the token does not say when it was issued."""
    auth = getattr(conn.session, "auth", None)
    ref = getattr(auth, "auth_ref", None)
    issued, expires = getattr(ref, "issued", None), getattr(ref, "expires", None)
    if auth is None or issued is None or expires is None:
        return None
    life = float((expires - issued).total_seconds())
    margin = max(0.0, min(DEFAULT_MARGIN_SECONDS, life / 4))
    auth.MIN_TOKEN_LIFE_SECONDS = margin
    return margin
