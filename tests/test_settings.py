from __future__ import annotations

import re
from pathlib import Path

import pytest

from tokengate.errors import ConfigError
from tokengate.settings import Settings

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"
STRONG = "s" * 40


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"^\| `TOKENGATE_([A-Z_]+)`", DOCS.read_text(), re.MULTILINE))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set(), "add these settings to docs/configuration.md"
    assert documented - fields == set(), "these documented settings do not exist"


@pytest.mark.parametrize(
    ("master", "keys", "named"),
    [
        (None, STRONG, "TOKENGATE_MASTER_KEY"),
        ("changeme", STRONG, "TOKENGATE_MASTER_KEY"),
        (STRONG, None, "TOKENGATE_SECRET_KEYS"),
        (STRONG, f"{STRONG},short", "TOKENGATE_SECRET_KEYS"),
    ],
)
def test_weak_or_missing_secret_is_refused_by_name(
    master: str | None, keys: str | None, named: str
) -> None:
    settings = Settings(master_key=master, secret_keys=keys, demo=False)
    with pytest.raises(ConfigError, match=named):
        settings.check_secrets()


def test_strong_secrets_and_demo_mode_pass() -> None:
    Settings(master_key=STRONG, secret_keys=f"{STRONG}, {STRONG}x").check_secrets()
    Settings(demo=True).check_secrets()
    assert Settings(secret_keys=f"{STRONG}, b{STRONG} ,").secret_key_list() == [
        STRONG,
        f"b{STRONG}",
    ]


def test_settings_come_from_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENGATE_PORT", "9191")
    monkeypatch.setenv("TOKENGATE_LOG_FORMAT", "json")
    settings = Settings()
    assert (settings.port, settings.log_format) == (9191, "json")
