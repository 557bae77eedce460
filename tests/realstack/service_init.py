"""Database initialisation steps, run by the realstack service venv's Python (not the project's).

    python service_init.py keystone CONF BOOTSTRAP_URL ADMIN_PASSWORD
    python service_init.py neutron NEUTRON_CONF ML2_CONF

``keystone``: db_sync, fernet_setup, credential_setup and bootstrap in ONE interpreter (each
``keystone-manage`` process spends ~5 s importing Keystone on this machine).

``neutron``: Neutron's alembic migrations ALTER constraints, which sqlite cannot do, so the schema is
created from the models (as Neutron's own unit tests do) and alembic is stamped at every head. The one
migration that SEEDS a fresh database (2023.2 ``c33da356b165``: the four default security group rule
templates) is replayed from that migration's own data: without it every new group, ``default``
included, would be created with no rules at all.
"""

from __future__ import annotations

import getpass
import grp
import os
import sys
from typing import Any


def keystone(conf: str, url: str, password: str) -> None:
    from keystone.cmd import cli

    user, group = getpass.getuser(), grp.getgrgid(os.getgid()).gr_name
    steps = [
        ["db_sync"],
        ["fernet_setup", "--keystone-user", user, "--keystone-group", group],
        ["credential_setup", "--keystone-user", user, "--keystone-group", group],
        ["bootstrap", "--bootstrap-password", password, "--bootstrap-region-id", "RegionOne",
         "--bootstrap-admin-url", url, "--bootstrap-internal-url", url, "--bootstrap-public-url", url],
    ]
    for step in steps:
        cli.CONF.clear()   # forget the previous step's parsed command line
        cli.main(argv=["keystone-manage", "--config-file", conf, *step])


def neutron(conf: str, ml2: str) -> None:
    import configparser

    import sqlalchemy
    from neutron.db.migration import cli as migration_cli
    from neutron.db.migration.models import head

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(conf)
    engine = sqlalchemy.create_engine(parser["database"]["connection"])
    metadata = head.get_metadata()
    metadata.create_all(engine)
    print(f"neutron: created {len(metadata.tables)} tables")
    _seed_default_security_group_rules(engine, metadata)
    sys.argv = ["neutron-db-manage", "--config-file", conf, "--config-file", ml2, "stamp", "heads"]
    migration_cli.main()


def _seed_default_security_group_rules(engine: Any, metadata: Any) -> None:
    import importlib.util
    from pathlib import Path

    import neutron.db.migration.alembic_migrations as migrations
    import sqlalchemy

    found = list(Path(migrations.__file__).parent.glob("versions/*/expand/*_security_group_default_rules.py"))
    if len(found) != 1:
        raise SystemExit(f"neutron: cannot find the default security group rules migration ({found})")
    spec = importlib.util.spec_from_file_location("sg_default_rules_migration", found[0])
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    templates = metadata.tables[migration.table_name]
    standard = metadata.tables["standardattributes"]
    with engine.begin() as connection:
        for rule in migration.default_template_rules:
            rule = dict(rule)
            std = connection.execute(sqlalchemy.insert(standard).values(
                description=rule.pop("description"), resource_type=migration.table_name))
            connection.execute(sqlalchemy.insert(templates).values(
                standard_attr_id=std.inserted_primary_key[0], **rule))
    print(f"neutron: seeded {len(migration.default_template_rules)} default security group rule templates")


if __name__ == "__main__":
    {"keystone": keystone, "neutron": neutron}[sys.argv[1]](*sys.argv[2:])
