"""Logs are structured and never show personal data; timestamps stay intact."""

from __future__ import annotations

import json
from typing import Any

import pytest
import structlog

from hub.errors import ConfigError
from hub.log import (
    configure,
    mask,
    mask_personal_data,
    mask_url,
    password_problem,
    without_password,
)


@pytest.mark.parametrize(("text", "hidden"), [
    ("customer ali.karimi@example.com wrote", "ali.karimi"),
    ("mobile +989121234567 failed", "9121234567"),
    ("کد ملی 0076229645 نامعتبر", "76229645"),
    # The finding's strings (M8): dates and phones written with separators.
    ("born 1367/07/31", "1367/07/31"),
    ("born 2023-08-08.", "2023-08-08"),
    ("born 31.07.1367", "31.07.1367"),
    ("born ۱۳۶۷/۰۷/۳۱", "۱۳۶۷/۰۷/۳۱"),
    ("call (0912) 1234567", "1234567"),
    ("call +98 (912) 123-4567", "123-4567"),
    ("call 0912 123 4567 now", "123 4567"),
    ("postal code 1234567890", "34567"),
    ("short postal 12345", "12345"),
])
def test_mask_hides_identifiers(text: str, hidden: str) -> None:
    assert hidden not in mask(text)


@pytest.mark.parametrize("text", [
    "cannot reach the bus at amqp://guest:***@127.0.0.1:5672//",
    "event 5de19fce-1234-4b2c-9abc-0123456789ab published",
    "customer C1A205676A56284FC47FC23F",
    "record L-0076 in row 20",
    "version 0.2.0",
])
def test_mask_leaves_what_is_not_personal(text: str) -> None:
    assert mask(text) == text


def _processed(**event: Any) -> dict[str, Any]:
    return dict(mask_personal_data(None, "info", dict(event)))


def test_timestamps_level_event_and_logger_are_never_masked() -> None:
    line = _processed(timestamp="2026-11-23T23:41:27.123456Z", level="warning",
                      event="batch 20261123 committed", logger="peyvand.pipeline")
    assert line == {"timestamp": "2026-11-23T23:41:27.123456Z", "level": "warning",
                    "event": "batch 20261123 committed", "logger": "peyvand.pipeline"}


def test_a_reason_is_personal_whatever_it_says() -> None:
    # hub/pipeline.py logs "record rejected" with the sentence that embeds the value.
    line = _processed(reason="'mostafa_hosseini85.gmail.com' is not a valid e-mail",
                      field="emails.email", record="1019")
    assert line["reason"] == "***"
    assert line["field"] == "emails.email" and line["record"] == "1019"


def test_personal_values_are_masked_inside_lists_and_dicts() -> None:
    line = _processed(problems=["born 1367/07/31", {"email": "x.gmail.com", "n": 3}])
    assert "1367/07/31" not in json.dumps(line, ensure_ascii=False)
    assert "x.gmail.com" not in json.dumps(line)
    assert line["problems"][1]["n"] == 3


def test_rendered_json_masks_personal_keys_and_values(capsys: pytest.CaptureFixture[str]) -> None:
    configure("info", "json")
    try:
        structlog.get_logger().info("record rejected", name="علی کریمی", record="1001",
                                    field="phones.phone:mobile",
                                    reason="'09121234567' is not a valid phone number")
    finally:
        structlog.reset_defaults()
    line = json.loads(capsys.readouterr().err)
    assert line["name"] == "***"
    assert line["record"] == "1001"
    assert line["reason"] == "***" and line["field"] == "phones.phone:mobile"
    assert line["level"] == "info" and line["event"] == "record rejected"
    assert line["timestamp"][:2] == "20" and "***" not in line["timestamp"]


def test_an_exception_traceback_is_masked_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure("info", "json")
    try:
        try:
            raise ValueError("bad value 09121234567")
        except ValueError:
            structlog.get_logger().exception("failed")
    finally:
        structlog.reset_defaults()
    line = json.loads(capsys.readouterr().err)
    assert "ValueError" in line["exception"] and "09121234567" not in line["exception"]


def test_logs_follow_sys_stderr_when_it_is_replaced(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """rich's progress bars swap sys.stderr to print above the bars: a logger that kept the
    stream it was configured with wrote under the bars, which erased the line."""
    configure("warning", "json")
    try:
        import io
        swapped = io.StringIO()
        monkeypatch.setattr("sys.stderr", swapped)
        structlog.get_logger().warning("store busy or unreachable, retrying")
    finally:
        structlog.reset_defaults()
    assert "store busy" in swapped.getvalue()


def test_an_unknown_level_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"log\.level"):
        configure("loud")


# --- URLs (M1) ------------------------------------------------------------------------

@pytest.mark.parametrize("password", ["S3cr3t#Tail9", "S3cr3t/Tail9", "S3cr3t?Tail9",
                                      "S3cr3t@Tail9", "S3cr3t%23Tail9", "S3cr3t:Tail9",
                                      "S3cr3t Tail9", "S3cr3t[Tail9]"])
@pytest.mark.parametrize("template", [
    "amqp://guest:{}@127.0.0.1:5672//",
    "postgresql+psycopg://peyvand:{}@db.example:5432/peyvand",
    "amqp://:{}@mq//",
])
def test_mask_url_hides_every_part_of_any_password(template: str, password: str) -> None:
    shown = mask_url(template.format(password))
    assert "S3cr3t" not in shown and "Tail9" not in shown
    assert ":***@" in shown


@pytest.mark.parametrize(("url", "shown"), [
    ("amqp://guest:pw#x@127.0.0.1:5672//", "amqp://guest:***@127.0.0.1:5672//"),
    ("amqp://guest@127.0.0.1:5672//", "amqp://guest@127.0.0.1:5672//"),
    ("sqlite:///data/a@b.sqlite", "sqlite:///data/a@b.sqlite"),
    ("postgresql://db:5432/x", "postgresql://db:5432/x"),
    ("postgresql://u@db/x?password=S3cr3t&sslmode=require",
     "postgresql://u@db/x?password=***&sslmode=require"),
    ("memory://", "memory://"),
])
def test_mask_url_keeps_what_is_not_a_password(url: str, shown: str) -> None:
    assert mask_url(url) == shown


@pytest.mark.parametrize("password", ["a#b", "a/b", "a?b", "a@b", "a%zz", "a b"])
def test_unencoded_reserved_characters_in_a_password_are_refused(password: str) -> None:
    problem = password_problem(f"amqp://guest:{password}@mq:5672//")
    assert problem is not None and "percent-encode" in problem
    assert password not in problem


@pytest.mark.parametrize("url", ["amqp://guest:a%23b%40c@mq:5672//", "amqp://guest:a:b@mq//",
                                 "memory://", "sqlite:///x@y.sqlite", "amqp://guest@mq//",
                                 "postgresql+psycopg://u:p@db:5432/x"])
def test_encoded_passwords_are_accepted(url: str) -> None:
    assert password_problem(url) is None


def test_a_driver_message_loses_the_password_it_quotes() -> None:
    url = "amqp://guest:S3cr3t%23Tail9@mq//"
    text = "Port could not be cast to integer value as 'S3cr3t#Tail9' (S3cr3t%23Tail9)"
    cleaned = without_password(text, url)
    assert "S3cr3t" not in cleaned and "Tail9" not in cleaned
