"""Applying, paying and the credit screen, as a citizen does it in the app."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page

from tests.app.conftest import Demo, screenshot, shown_soon

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


def officer(demo: Demo, step: str, application_id: str) -> None:
    """The police's officer moves an application on, through the API."""
    graphql = f"{demo.url}/graphql"
    log_in = """mutation($id: String!, $secret: String!) { logInWithClientCredentials(input:
      {clientId: $id, clientSecret: $secret}) { tokens { accessToken } } }"""
    login = {"id": "officer-psb-01", "secret": demo.secret("officer-psb-01")}
    answer = httpx.post(graphql, json={"query": log_in, "variables": login}).json()
    token = answer["data"]["logInWithClientCredentials"]["tokens"]["accessToken"]
    move = (
        f"mutation($id: ID!) {{ {step}(input: {{applicationId: $id}}) "
        "{ userErrors { code } } }"
    )
    done = httpx.post(
        graphql,
        json={"query": move, "variables": {"id": application_id}},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert done["data"][step]["userErrors"] == [], done


def test_a_completed_application_is_rated_with_the_grade_chosen(app: Page, demo: Demo) -> None:
    """The application the first test submitted, completed by the police, then rated."""
    shown_soon(app, "apply", "#apply-mine", "居民户口簿补领")
    applied = app.get_attribute("#apply-mine li[data-application]", "data-application") or ""
    for step in ("acceptApplication", "approveApplication", "completeApplication"):
        officer(demo, step, applied)
    shown_soon(app, "apply", f"#apply-mine li[data-application='{applied}']", "已办结")
    rating = f"#apply-mine li[data-application='{applied}'] form.rating"
    app.select_option(f"{rating} select", "SATISFIED")
    shown_soon(app, "apply", "#apply-mine", "已办结")  # the list drawn again: the choice kept
    assert app.input_value(f"{rating} select") == "SATISFIED"
    app.click(f"{rating} button")
    row = shown_soon(app, "apply", f"#apply-mine li[data-application='{applied}']", "· 满意")
    assert row.endswith("· 满意") and not app.query_selector(rating)
