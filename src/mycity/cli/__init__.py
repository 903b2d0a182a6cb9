"""The `mycity` command: serve, demo data, read models, schema, credentials, keys, SMS, audit,
licences, city codes, health, backups, witnesses, the local payment provider, payments.

A mistake gets one line on stderr that says what is wrong and what to do, and exit code 2
for bad input (1 when the store or something else is not there); never a traceback, unless
asked for with `-v`.
"""

from __future__ import annotations

from mycity.cli.app import cli
from mycity.cli.commands import (
    audit,
    backups,
    clients,
    codes,
    credit,
    health,
    keys,
    licences,
    payments,
    provider,
    read_models,
    serving,
    sms,
    witness,
)

for module in (
    serving,
    read_models,
    clients,
    keys,
    sms,
    audit,
    licences,
    codes,
    health,
    backups,
    witness,
    provider,
    payments,
    credit,
):
    module.register(cli)


def main() -> None:
    cli()


__all__ = ["cli", "main"]
