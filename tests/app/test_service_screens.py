"""Applying, paying and the credit screen, as a citizen does it in the app."""

from __future__ import annotations

from playwright.sync_api import Page

from tests.app.conftest import screenshot

PDF = b"%PDF-1.7 a statement of the household register's loss"


def test_apply_with_an_upload_then_pay_its_fee(app: Page) -> None:
    app.click("#tabs button[data-screen=apply]")
    app.wait_for_selector("body[data-ready=apply]")
    app.select_option("#apply-item", "PSB-005")
    assert "¥8.00" in app.inner_text("#apply-about")
    app.fill("input[name='form.household_address']", "常德市武陵区朗州路9号")
    app.set_input_files(
        "input[name='document.loss_statement']",
        {"name": "loss.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    screenshot(app, "apply")
    app.click("#apply-form button[type=submit]")
    app.wait_for_selector("#apply-status[data-kind=info]")
    applied = app.inner_text("#apply-status").split(": ")[-1]
    app.wait_for_selector(f"#apply-mine li[data-application='{applied}']")
    assert "居民户口簿补领" in app.inner_text(f"#apply-mine li[data-application='{applied}']")

    app.click("#tabs button[data-screen=money]")
    app.wait_for_selector(f"#money-bills li[data-bill='{applied}'] button")
    app.click(f"#money-bills li[data-bill='{applied}'] button")
    app.wait_for_selector("#money-status[data-kind=info]")
    app.wait_for_selector("#money-payments li:has-text('¥8.00')")
    assert not app.query_selector(f"#money-bills li[data-bill='{applied}'] button")


def test_the_credit_screen_shows_score_tier_and_benefits(app: Page) -> None:
    app.click("#tabs button[data-screen=money]")
    app.wait_for_selector("body[data-ready=money]")
    score = int(app.inner_text("#credit-score"))  # 600 to begin with; a fee paid adds some
    assert 600 <= score < 700
    history = app.locator("#credit-history li").all_inner_texts()
    assert not history or f"→ {score} ·" in history[0]  # the newest change left this score
    assert app.inner_text("#credit-tier") == "良好"
    assert set(app.locator("#credit-benefits li").all_inner_texts()) == {"容缺受理", "先乘后付"}
    screenshot(app, "payments-and-credit")


def test_english_is_one_tap_away_and_kept(app: Page) -> None:
    app.click("#language")
    try:
        assert app.inner_text("#code-title") == "City code"
        assert app.get_attribute("html", "lang") == "en"
        app.reload()
        app.wait_for_selector("body[data-ready=code]")
        assert app.inner_text("#tabs button[data-screen=wallet]") == "Wallet"
    finally:
        app.click("#language")
    assert app.inner_text("#code-title") == "一码通城"
