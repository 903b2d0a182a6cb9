"""The payee's side, written by the `payees` process: every succeeded payment received and
every refund sent once, in the book of the day it settled (the city's day); after a kill -9
mid-way, nothing lost and nothing twice; and a payer's erasure leaves the payee whole."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from mycity.bootstrap import City
from mycity.domain.payee_day import PayeeDay, payee_day_id
from mycity.domain.payment import Payment
from mycity.processes.payees import Payees, city_day
from mycity.processes.tracked import ProcessRunner
from tests.helpers import CitizenFactory, killed_after
from tests.services import PAYEE, close_account, paid, settle


def book(city: City, day: str) -> list[object]:
    found = city.files.events.get(payee_day_id(PAYEE, day))
    return [e for e in found if not isinstance(e, PayeeDay.Opened)]


def test_each_payment_lands_in_the_book_of_the_city_day_it_settled(
    city: City, people: CitizenFactory
) -> None:
    payer = people.register("买书").id
    paid(city, payer, 100, "2026-12-05T15:59:59Z")  # 23:59:59 in Shanghai
    paid(city, payer, 200, "2026-12-05T16:00:00Z", refund=50)  # 00:00:00 the next day
    settle(city)
    assert [e.amount_fen for e in book(city, "2026-12-05")] == [100]  # type: ignore[attr-defined]
    sixth = book(city, "2026-12-06")
    assert [(type(e).__name__, e.amount_fen) for e in sixth] == [  # type: ignore[attr-defined]
        ("Received", 200),
        ("RefundSent", 50),
    ]


def test_a_runner_killed_mid_way_resumes_with_nothing_lost_or_counted_twice(
    city: City, people: CitizenFactory, env: dict[str, str]
) -> None:
    payer = people.register("断电").id
    amounts = [101, 202, 303, 404, 505, 606, 707]
    for amount in amounts:
        paid(city, payer, amount, "2026-12-06T04:00:00Z")
    script = (
        "import time\n"
        "from mycity.bootstrap import build\n"
        "from mycity.processes.payees import Payees\n"
        "from mycity.processes.tracked import ProcessRunner\n"
        "from mycity.settings import Settings\n"
        "city = build(Settings.from_env())\n"
        "record = city.files.record\n"
        "def slow(processing):\n"
        "    record(processing); print('page', flush=True); time.sleep(0.2)\n"
        "city.files.record = slow\n"
        "ProcessRunner(city.files, Payees('Asia/Shanghai'), page_size=2).run_once()\n"
    )
    killed_after(script, env, pages=2)  # between the payer's side and the payee's
    runner = ProcessRunner(city.files, Payees("Asia/Shanghai"), page_size=2)
    assert 0 < runner.position() < city.files.head()
    runner.run_once()
    received = book(city, "2026-12-06")
    assert sorted(e.amount_fen for e in received) == amounts  # type: ignore[attr-defined]


def test_a_payers_erasure_leaves_the_payee_whole_and_the_payer_unreadable(
    city: City, people: CitizenFactory
) -> None:
    payer = people.register("注销", verified=True)
    payment = paid(city, payer.id, 880, "2026-12-06T04:00:00Z")
    settle(city)
    close_account(city, people, payer)
    settle(city)
    assert city.files.read(Payment, payment.id).description is None  # sealed, key shredded
    assert [e.amount_fen for e in book(city, "2026-12-06")] == [880]  # type: ignore[attr-defined]
    [row] = city.read_models.rows("payment_list").select("WHERE id = ?", [str(payment.id)])
    assert (row["description"], row["amount_fen"]) == (None, 880)


def test_city_day_reads_the_moment_in_the_city() -> None:
    zone = ZoneInfo("Asia/Shanghai")
    assert city_day("2026-12-05T15:59:59Z", zone) == "2026-12-05"
    assert city_day("2026-12-05T16:00:00+00:00", zone) == "2026-12-06"
