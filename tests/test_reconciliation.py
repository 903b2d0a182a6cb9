"""Reconciling a day (对账): a clean day, then each kind of difference after the provider's
statement is edited by hand; the command's lines, summary and exit codes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from mycity.bootstrap import City
from mycity.cli import cli
from mycity.domain.enterprise import Enterprise
from mycity.domain.errors import ErrorCode, UserError
from mycity.identity.principal import Principal, Role
from mycity.usecases.reconciliation import Kind
from tests.helpers import CitizenFactory
from tests.payments_helpers import (
    SHOP,
    LocalProvider,
)
from tests.services import settle


def today() -> dt.date:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def a_day_of_trade(city: City, provider: LocalProvider) -> str:
    """Two payments, one refund and one failed charge; the day's statement."""
    people = CitizenFactory(city)
    payer = people.register("对账", verified=True)
    provider.open(city.ids.payer(payer.id), "payer", 2000)
    for n, amount in enumerate((1000, 500, 5000)):
        payload = city.city_codes.issue(payer.principal).payload
        payment, _ = city.payments.charge_by_code(SHOP, payload, amount, f"recon-{n:04d}", "货")
        if n == 0:
            city.payments.refund(SHOP, payment.id, 200, "recon-refund", "退")
    settle(city)
    with provider.client as client:
        return client.get(f"/v1/statements/{today().isoformat()}").text


def test_a_clean_day_then_every_kind_of_difference(paying: City, provider: LocalProvider) -> None:
    statement = a_day_of_trade(paying, provider)
    clean = paying.reconciliation.reconcile(today())
    assert clean.differences == [] and clean.lines == 4 and clean.recorded == 3
    shop = Principal("shop-test", Role.MERCHANT, None, "测试商店")
    assert paying.reads.payments.settlement(shop, today().isoformat(), None).reconciled is True

    header, first, second, third, fourth = statement.splitlines()
    charge_row = next(r for r in (first, second, third, fourth) if ",1000,succeeded," in r)
    refund_row = next(r for r in (first, second, third, fourth) if r.startswith("refund,"))
    failed_row = next(r for r in (first, second, third, fourth) if ",failed," in r)
    edited = [
        header,
        charge_row.replace(",1000,", ",1001,"),  # an amount changed
        refund_row.replace(",succeeded,", ",failed,"),  # an outcome changed
        failed_row.replace(",failed,", ",succeeded,"),
        "charge,ch_made_up,,,8f0d0000-0000-4000-8000-000000000000,p:x,merchant:shop-test,"
        "7,succeeded,2026-12-06T13:00:00Z",  # one the city never had
    ]  # and the 500 fen charge left out
    report = paying.reconciliation.reconcile(today(), "\n".join(edited) + "\n")
    kinds = sorted(d.kind for d in report.differences)
    assert kinds == sorted(
        [
            Kind.AMOUNT_DIFFERS,
            Kind.STATUS_DIFFERS,
            Kind.STATUS_DIFFERS,
            Kind.MISSING_IN_CITY,
            Kind.MISSING_FROM_STATEMENT,
        ]
    )
    missing = next(d for d in report.differences if d.kind is Kind.MISSING_FROM_STATEMENT)
    assert missing.city == "500 fen succeeded"
    assert report.summary.endswith("5 differ")
    assert paying.reads.payments.settlement(shop, today().isoformat(), None).reconciled is False


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("", "line 1"),
        ("type,id\n", "line 1"),
        ("type,id,charge,charge_reference,reference,payer,payee,amount_fen,status,settled_at\n"
         "charge,ch_1,,,r,p,q,-5,succeeded,t\n", "line 2"),
        ("type,id,charge,charge_reference,reference,payer,payee,amount_fen,status,settled_at\n"
         "charge,ch_1,,,r,p,q,5,lost,t\n", "line 2"),
        ("type,id,charge,charge_reference,reference,payer,payee,amount_fen,status,settled_at\n"
         "payout,ch_1,,,r,p,q,5,succeeded,t\n", "line 2"),
    ],
)  # fmt: skip
def test_a_malformed_statement_is_refused_by_its_line(paying: City, text: str, line: str) -> None:
    with pytest.raises(UserError) as caught:
        paying.reconciliation.reconcile(today(), text)
    assert caught.value.code is ErrorCode.INVALID_ARGUMENT
    assert caught.value.message.startswith(line)


def test_the_command_reports_a_line_each_and_exits_1_when_any_differ(
    paying: City, provider: LocalProvider, env: dict[str, str], tmp_path: Path
) -> None:
    statement = a_day_of_trade(paying, provider)
    environment = env | {
        "MYCITY_PAYMENT_PROVIDER": provider.url,
        "MYCITY_PAYMENT_PROVIDER_KEY": provider.api_key,
        "MYCITY_PAYMENT_WEBHOOK_KEY": provider.public_key,
    }
    runner = CliRunner()
    day = today().isoformat()
    clean = runner.invoke(cli, ["payments", "reconcile", "--date", day], env=environment)
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.strip().endswith("clean")
    edited = tmp_path / "statement.csv"
    edited.write_text(statement.replace(",1000,succeeded,", ",999,succeeded,"))
    found = runner.invoke(
        cli, ["payments", "reconcile", "--date", day, "--statement", str(edited)], env=environment
    )
    assert found.exit_code == 1
    lines = found.stdout.strip().splitlines()
    assert lines[0].startswith("AMOUNT_DIFFERS charge ")
    assert lines[-1].endswith("1 differ")
    wrong = runner.invoke(cli, ["payments", "reconcile", "--date", "06/12/2026"], env=environment)
    assert wrong.exit_code == 2 and "YYYY-MM-DD" in wrong.output


def test_the_till_command_registers_once_and_says_what_is_wrong_in_a_line(
    paying: City, provider: LocalProvider, env: dict[str, str]
) -> None:
    people = CitizenFactory(paying)
    owner = people.register("店主", verified=True)
    code = paying.files.read(Enterprise, people.enterprise(owner)).credit_code
    paying.clients.add("till-cli", Role.MERCHANT, "收银台")
    environment = env | {
        "MYCITY_PAYMENT_PROVIDER": provider.url,
        "MYCITY_PAYMENT_PROVIDER_KEY": provider.api_key,
        "MYCITY_PAYMENT_WEBHOOK_KEY": provider.public_key,
    }
    runner = CliRunner()
    done = runner.invoke(
        cli, ["payments", "till", "till-cli", "--enterprise", code], env=environment
    )
    assert done.exit_code == 0, done.output
    assert done.stdout.strip().endswith(f"paid into merchant:{code}")
    again = runner.invoke(
        cli, ["payments", "till", "till-cli", "--enterprise", code], env=environment
    )
    assert again.exit_code == 2
    assert again.output.strip().splitlines()[-1].endswith("till-cli is registered already")
    assert "Traceback" not in again.output
