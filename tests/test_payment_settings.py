"""The payment settings: off by default, all three together or a line that says what is
missing, the provider's key checked, the ceiling read."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mycity.integrations.webhooks import public_key_text
from mycity.settings import Settings, SettingsError

KEY = public_key_text(Ed25519PrivateKey.generate().public_key())


def settings(**env: str) -> Settings:
    return Settings.from_env({"MYCITY_DATA_DIR": "/tmp/mycity-settings-test", **env})


def test_no_provider_takes_no_payments() -> None:
    found = settings()
    assert not found.payments.enabled and found.payments.ceiling_fen == 5_000_000


def test_a_provider_with_its_keys() -> None:
    found = settings(
        MYCITY_PAYMENT_PROVIDER="http://127.0.0.1:8020/",
        MYCITY_PAYMENT_PROVIDER_KEY="secret",
        MYCITY_PAYMENT_WEBHOOK_KEY=f"{KEY} {KEY}",
        MYCITY_PAYMENT_CEILING_FEN="100",
    )
    payments = found.payments
    assert payments.enabled and payments.provider == "http://127.0.0.1:8020"
    assert payments.webhook_keys == (KEY, KEY) and payments.ceiling_fen == 100


def test_the_api_key_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "api.key").write_text("from-file\n")
    found = settings(
        MYCITY_PAYMENT_PROVIDER="https://pay.example",
        MYCITY_PAYMENT_PROVIDER_KEY_FILE=str(tmp_path / "api.key"),
        MYCITY_PAYMENT_WEBHOOK_KEY=KEY,
    )
    assert found.payments.api_key == "from-file"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"MYCITY_PAYMENT_PROVIDER": "ftp://x"}, "http:// or https://"),
        ({"MYCITY_PAYMENT_PROVIDER": "http://x"}, "needs MYCITY_PAYMENT_PROVIDER_KEY"),
        (
            {"MYCITY_PAYMENT_PROVIDER": "http://x", "MYCITY_PAYMENT_PROVIDER_KEY": "k"},
            "MYCITY_PAYMENT_WEBHOOK_KEY",
        ),
        (
            {
                "MYCITY_PAYMENT_PROVIDER": "http://x",
                "MYCITY_PAYMENT_PROVIDER_KEY": "k",
                "MYCITY_PAYMENT_WEBHOOK_KEY": "whpk_short",
            },
            "MYCITY_PAYMENT_WEBHOOK_KEY: the key is not",
        ),
    ],
)
def test_a_setting_wrong_or_missing_is_one_line(env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        settings(**env)
