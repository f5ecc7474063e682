from __future__ import annotations

import json
import logging

import pytest
import structlog

from tokengate.logs import configure_logging, scrub_secrets


def test_secrets_are_masked() -> None:
    event = scrub_secrets(
        None,
        "info",
        {"event": "call with tg-abcdefghijklmnop and sk-zyxwvutsrqpo", "api_key": "sk-1", "n": 3},
    )
    assert event == {"event": "call with tg-**** and sk-****", "api_key": "****", "n": 3}


def test_json_logs_are_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="info", fmt="json")
    structlog.get_logger().info("relayed", key="tg-secretsecretsecret", model="C1")
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["event"] == "relayed" and line["key"] == "****" and line["model"] == "C1"
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()
