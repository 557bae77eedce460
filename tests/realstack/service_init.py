"""Database initialisation steps, run by the realstack service venv's Python (not the project's).

    python service_init.py keystone CONF BOOTSTRAP_URL ADMIN_PASSWORD
    python service_init.py neutron NEUTRON_CONF ML2_CONF
    python service_init.py octavia OCTAVIA_CONF CERT_DIR

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


def octavia(conf: str, cert_dir: str) -> None:
    import configparser

    import sqlalchemy
    from octavia.common import constants as c
    from octavia.db import base_models, models
    from octavia.db.migration import cli as migration_cli
    from sqlalchemy import orm

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(conf)
    _throwaway_ca(cert_dir, parser["certificates"]["ca_private_key_passphrase"].encode())
    engine = sqlalchemy.create_engine(parser["database"]["connection"])
    base_models.BASE.metadata.create_all(engine)
    lookups = [(c.SUPPORTED_PROVISIONING_STATUSES, models.ProvisioningStatus),
               (c.SUPPORTED_HEALTH_MONITOR_TYPES, models.HealthMonitorType),
               (c.SUPPORTED_LB_ALGORITHMS, models.Algorithm), (c.SUPPORTED_PROTOCOLS, models.Protocol),
               (c.SUPPORTED_OPERATING_STATUSES, models.OperatingStatus),
               (c.SUPPORTED_SP_TYPES, models.SessionPersistenceType),
               (c.SUPPORTED_AMPHORA_ROLES, models.AmphoraRoles), (c.SUPPORTED_LB_TOPOLOGIES, models.LBTopology),
               (c.SUPPORTED_VRRP_AUTH, models.VRRPAuthMethod), (c.SUPPORTED_L7RULE_TYPES, models.L7RuleType),
               (c.SUPPORTED_L7RULE_COMPARE_TYPES, models.L7RuleCompareType),
               (c.SUPPORTED_L7POLICY_ACTIONS, models.L7PolicyAction),
               (c.SUPPORTED_CLIENT_AUTH_MODES, models.ClientAuthenticationMode)]
    with orm.Session(engine) as session, session.begin():
        for names, model in lookups:
            session.add_all(model(name=name) for name in names)
        placeholder = "DELETED-PLACEHOLDER"
        session.add(models.FlavorProfile(id=c.NIL_UUID, name=placeholder, provider_name=c.DELETED,
                                         flavor_data="{}"))
        session.flush()
        session.add(models.Flavor(id=c.NIL_UUID, flavor_profile_id=c.NIL_UUID, name=placeholder, enabled=False,
                                  description="Placeholder for DELETED LBs with DELETED flavors"))
        session.add(models.AvailabilityZoneProfile(id=c.NIL_UUID, name=placeholder, provider_name=c.DELETED,
                                                   availability_zone_data="{}"))
        session.flush()
        session.add(models.AvailabilityZone(availability_zone_profile_id=c.NIL_UUID, name=c.NIL_UUID,
                                            enabled=False, description="Placeholder for DELETED LBs"))
    print(f"octavia: created {len(base_models.BASE.metadata.tables)} tables, seeded {len(lookups)} lookup tables")
    sys.argv = ["octavia-db-manage", "--config-file", conf, "stamp", "head"]
    migration_cli.main()


def _throwaway_ca(cert_dir: str, passphrase: bytes) -> None:
    import datetime
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "realstack octavia CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    out = Path(cert_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (out / "ca.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.BestAvailableEncryption(passphrase)))


if __name__ == "__main__":
    {"keystone": keystone, "neutron": neutron, "octavia": octavia}[sys.argv[1]](*sys.argv[2:])
