"""Logs are structured and never show personal data."""

from __future__ import annotations

import json

import pytest
import structlog

from hub.log import configure, mask


@pytest.mark.parametrize(("text", "hidden"), [
    ("customer ali.karimi@example.com wrote", "ali.karimi"),
    ("mobile +989121234567 failed", "9121234567"),
    ("کد ملی 0076229645 نامعتبر", "76229645"),
])
def test_mask_hides_identifiers(text: str, hidden: str) -> None:
    assert hidden not in mask(text)


def test_rendered_json_masks_personal_keys_and_values(capsys: pytest.CaptureFixture[str]) -> None:
    configure("info", "json")
    try:
        structlog.get_logger().info("record rejected", name="علی کریمی", record="1001",
                                    reason="'09121234567' is not a valid phone number")
    finally:
        structlog.reset_defaults()
    line = json.loads(capsys.readouterr().err)
    assert line["name"] == "***"
    assert line["record"] == "1001"
    assert "09121234567" not in line["reason"] and "is not a valid phone number" in line["reason"]
    assert line["level"] == "info" and line["event"] == "record rejected"
