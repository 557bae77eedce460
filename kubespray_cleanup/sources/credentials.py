"""Which credentials a run uses, in a documented order, and the authenticated connection made from them.

Resolution order (README "Credentials", ``tf-cleanup --help``):

1. ``--cloud NAME``: that cloud of a clouds.yaml;
2. ``OS_CLOUD``: likewise;
3. the profile's cloud, if a clouds.yaml defines it;
4. ``OS_*`` environment variables, openrc style (what GitLab CI jobs such as Kubespray's set: password or
   application credential, project by id or name, domains by id or name), without any clouds.yaml;
5. otherwise a configuration error (exit 3) that says where it looked and how to fix it.

A cloud named explicitly (1, 2) that no clouds.yaml defines is a configuration error too, never a
silent fall-through to other credentials.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openstack.config
import openstack.connection
from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as os_exc
from openstack.config import exceptions as cfg_exc
from openstack.config import loader
from requests.adapters import HTTPAdapter

from kubespray_cleanup.errors import CleanupError, CloudError, ConfigError
from kubespray_cleanup.sources.keystone_session import SteadySession, renew_ahead

# OS_* variables that only select or tune a cloud; on their own they are not credentials.
_SELECTORS = frozenset({"OS_CLOUD", "OS_CLOUD_NAME", "OS_REGION_NAME", "OS_CLIENT_CONFIG_FILE",
                        "OS_CLIENT_SECURE_FILE", "OS_INTERFACE", "OS_IDENTITY_API_VERSION"})


@dataclass(frozen=True)
class CloudChoice:
    """The credentials one run uses: a clouds.yaml cloud, or the ``OS_*`` environment (``cloud`` None)."""

    cloud: str | None
    source: str  # where the choice came from, for logs and errors: "--cloud", "OS_CLOUD", ...

    @property
    def label(self) -> str:
        return f"cloud {self.cloud!r}" if self.cloud else "OS_* environment"


def _config(load_yaml: bool, load_env: bool) -> Any:
    """openstacksdk's config: clouds.yaml only (``OS_CLIENT_CONFIG_FILE`` honoured) or ``OS_*`` only."""
    files: dict[str, Any] = {}
    if load_yaml:
        files["config_files"] = _with_override("OS_CLIENT_CONFIG_FILE", _search("clouds"))
        files["secure_files"] = _with_override("OS_CLIENT_SECURE_FILE", _search("secure"))
    try:
        return openstack.config.OpenStackConfig(load_yaml_config=load_yaml, load_envvars=load_env,
                                               session_constructor=SteadySession, **files)
    except cfg_exc.OpenStackConfigException as exc:
        raise ConfigError(f"clouds.yaml: {_first_line(exc)}") from None


def _search(stem: str) -> list[str]:
    """openstacksdk's search path, with the current directory as it is now (openstacksdk freezes the one it
    had when first imported)."""
    dirs = list(dict.fromkeys([os.getcwd(), *loader.CONFIG_SEARCH_PATH[1:]]))  # the same dir twice on Linux
    return [os.path.join(d, stem + suffix) for d in dirs for suffix in (*loader.YAML_SUFFIXES, *loader.JSON_SUFFIXES)]


def _with_override(variable: str, defaults: list[str]) -> list[str]:
    override = os.environ.get(variable)
    return ([override] if override else []) + list(defaults)


def clouds_yaml_names() -> tuple[str | None, list[str]]:
    """The clouds.yaml openstacksdk would read (or None) and the clouds it defines."""
    config = _config(load_yaml=True, load_env=False)
    path = config.config_filename
    explicit = os.environ.get("OS_CLIENT_CONFIG_FILE")
    if explicit and os.path.isfile(explicit) and os.path.getsize(explicit) and path != explicit:
        raise ConfigError(f"clouds.yaml {explicit} (OS_CLIENT_CONFIG_FILE) is not valid YAML or JSON")
    if not path:
        return None, []
    return str(path), sorted(str(n) for n in (config.cloud_config.get("clouds") or {}))


def searched_paths(environ: Mapping[str, str]) -> list[str]:
    explicit = environ.get("OS_CLIENT_CONFIG_FILE")
    return ([explicit] if explicit else []) + [p for p in _search("clouds") if p.endswith(".yaml")]


def has_env_credentials(environ: Mapping[str, str]) -> bool:
    """Whether ``OS_*`` variables carry credentials (not only selectors like OS_REGION_NAME)."""
    keys = {k for k, v in environ.items() if k.startswith("OS_") and v}
    return bool(keys - _SELECTORS) and bool(environ.get("OS_AUTH_URL"))


def missing_env_credentials(environ: Mapping[str, str]) -> str:
    """What an openrc-style environment lacks for its auth type ('' when complete)."""
    auth_type = (environ.get("OS_AUTH_TYPE") or "password").lower()
    if auth_type in ("v3applicationcredential", "applicationcredential"):
        if not (environ.get("OS_APPLICATION_CREDENTIAL_ID") or environ.get("OS_APPLICATION_CREDENTIAL_NAME")):
            return "OS_APPLICATION_CREDENTIAL_ID (or _NAME) is not set"
        if not environ.get("OS_APPLICATION_CREDENTIAL_SECRET"):
            return "OS_APPLICATION_CREDENTIAL_SECRET is not set"
        return ""
    if auth_type in ("password", "v3password", "v2password"):
        if not (environ.get("OS_USERNAME") or environ.get("OS_USER_ID")):
            return "OS_USERNAME (or OS_USER_ID) is not set"
        if not environ.get("OS_PASSWORD"):
            return "OS_PASSWORD is not set (in GitLab: a masked CI/CD variable)"
    return ""


def resolve(explicit: str | None, profile_cloud: str, environ: Mapping[str, str] | None = None) -> CloudChoice:
    """Pick the credentials for a run (module docstring); ConfigError when there are none."""
    env = os.environ if environ is None else environ
    path, names = clouds_yaml_names()
    for name, source in ((explicit, "--cloud"), (env.get("OS_CLOUD") or None, "OS_CLOUD")):
        if name:
            if name not in names:
                where = f"clouds.yaml {path} defines {', '.join(names) or 'no cloud'}" if path else \
                    f"no clouds.yaml found (looked in {_looked(env)})"
                raise ConfigError(f"cloud {name!r} from {source} is not defined: {where}")
            return CloudChoice(name, source)
    if profile_cloud in names:
        return CloudChoice(profile_cloud, f"profile cloud in {path}")
    if has_env_credentials(env):
        missing = missing_env_credentials(env)
        if missing:
            raise ConfigError(f"OS_* environment variables: {missing} (OS_AUTH_URL is set)")
        return CloudChoice(None, "OS_* environment variables")
    found = f"clouds.yaml {path} has no cloud {profile_cloud!r}" if path else \
        f"no clouds.yaml (looked in {_looked(env)})"
    raise ConfigError(f"no OpenStack credentials: {found}, and no OS_AUTH_URL in the environment; set the OS_* "
                      f"variables (openrc), add cloud {profile_cloud!r} to clouds.yaml, or pass --cloud NAME")


def _looked(env: Mapping[str, str]) -> str:
    paths = searched_paths(env)
    shown = ", ".join(paths[:4]) + (" ..." if len(paths) > 4 else "")
    hint = "" if env.get("OS_CLIENT_CONFIG_FILE") else "; OS_CLIENT_CONFIG_FILE unset"
    return shown + hint


def connect(choice: CloudChoice) -> Any:
    """An authenticated openstacksdk Connection, or a one-line error: ConfigError for incomplete
    settings (exit 3), CloudError when the cloud cannot be reached or refuses the credentials (exit 4)."""
    try:
        if choice.cloud is None:
            config = _config(load_yaml=False, load_env=True)
            region = config.get_one(cloud=config.envvar_key)
        else:
            region = _config(load_yaml=True, load_env=False).get_one(cloud=choice.cloud)
        conn = openstack.connection.Connection(config=region)
        conn.authorize()
        renew_ahead(conn)
    except CleanupError:  # e.g. Interrupted by a signal while authenticating
        raise
    except (ks_exc.MissingRequiredOptions, ks_exc.MissingAuthPlugin, ks_exc.NoMatchingPlugin) as exc:
        raise ConfigError(f"{choice.label}: incomplete credentials ({_first_line(exc)})") from None
    except cfg_exc.OpenStackConfigException as exc:
        raise ConfigError(f"{choice.label}: {_first_line(exc)}") from None
    except (ks_exc.ClientException, os_exc.SDKException) as exc:
        raise CloudError(f"{choice.label}: {_auth_failure(exc)}") from None
    except Exception as exc:  # keystoneauth raises a bare Exception for "X is a required attribute"
        if "required" in str(exc):
            raise ConfigError(f"{choice.label}: incomplete credentials ({_first_line(exc)})") from None
        raise CloudError(f"{choice.label}: {_first_line(exc)}") from None
    _widen_connection_pool(conn)
    _skip_environment_lookups(conn)
    return conn


def _auth_failure(exc: BaseException) -> str:
    """One line for a failed authentication; the cause is found in the chain openstacksdk wraps."""
    chain: list[BaseException] = [exc]
    while chain[-1].__context__ is not None and len(chain) < 10:
        chain.append(chain[-1].__context__)
    text = " ".join(str(e) for e in chain)
    if any(isinstance(e, ks_exc.Unauthorized) for e in chain) or "HTTP 401" in text:
        return "authentication failed (401): check the credentials"
    if any(isinstance(e, (ks_exc.MissingRequiredOptions, ks_exc.MissingAuthPlugin)) for e in chain):
        return f"incomplete credentials ({_first_line(exc)})"
    if any(isinstance(e, (ks_exc.ConnectFailure, ks_exc.DiscoveryFailure, ks_exc.ConnectionError)) for e in chain) \
            or "Unable to establish connection" in text:
        return "cannot reach the identity endpoint"
    return _first_line(exc)


def _widen_connection_pool(conn: Any, size: int = 64) -> None:
    """Let parallel deletes reuse connections instead of opening one per call."""
    session = conn.session.session
    for prefix in ("http://", "https://"):
        session.mount(prefix, HTTPAdapter(pool_connections=16, pool_maxsize=size))


_PROXY_ENVIRONMENT = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "netrc")


def _skip_environment_lookups(conn: Any) -> None:
    """Without proxy or netrc settings, stop requests from looking for them (and a CA bundle) on every call.

    requests re-reads the proxy variables (a walk over the whole environment) and stats ``~/.netrc`` per
    request: a fifth of a request's client CPU. A CA bundle named in the environment is kept, set once on
    the session where requests would have picked it up per call.
    """
    if any(key.lower() in _PROXY_ENVIRONMENT for key in os.environ):
        return
    if any(Path(p).expanduser().exists() for p in ("~/.netrc", "~/_netrc")):
        return
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and conn.session.verify is True:
        conn.session.verify = bundle
    conn.session.session.trust_env = False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0]
