"""The SMS intake's parts without a server: opt-out words, the gateways' presets, URL tokens
and Twilio's signature, and the settings' checks (the server: tests/integration/test_sms.py).
"""

from __future__ import annotations

import typing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.app import Hub
from hub.config import load_config
from hub.errors import ConfigError
from hub.serve.auth import AuthError, Tokens
from hub.serve.payload import BodyProblem
from hub.serve.settings import SmsSettings, parse_sms
from hub.serve.sms import SmsEndpoints
from hub.serve.sms_auth import check_twilio, check_url_token, twilio_signature
from hub.serve.sms_consent import ConsentWords
from hub.serve.sms_presets import PRESETS, Gateway

NOW = datetime(2026, 11, 24, 10, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(("text", "said"), [
    ("لغو", "false"), ("لغو11", "false"), ("لغو 11", "false"), ("لغو۱۱", "false"),
    (" «لغو ۱۱» ", "false"), ("لـغـو!", "false"), ("انصراف", "false"), ("STOP", "false"),
    ("stop.", "false"), ("Unsubscribe", "false"), ("لغو عضويت", "false"),
    ("START", "true"), ("شروع", "true"), ("عضويت", "true"),   # Arabic ي
    ("stop sending me offers", ""), ("yes", ""), ("11", ""), ("سلام", ""), ("", "")])
def test_a_message_that_is_an_opt_out_or_opt_in_word(text: str, said: str) -> None:
    assert ConsentWords().statement(text) == said


def test_a_gateway_adds_words_of_its_own() -> None:
    words = ConsentWords(opt_out=["STOPOFFER"], opt_in=["بله عضو"])
    assert words.statement("stop offer") == "false"
    assert words.statement("بله، عضو!") == "true"
    assert words.statement("لغو") == "false"   # the defaults stay


def test_each_preset_reads_its_gateways_fields() -> None:
    cases = {
        "kavenegar": {"from": "09121234567", "to": "10004346", "message": "لغو",
                      "messageid": "88"},
        "ghasedak": {"sender": "09121234567", "lineNumber": "30005088", "message": "لغو",
                     "id": "88"},
        "smsir": {"mobile": "9121234567", "number": 30007732, "messageText": "لغو"},
        "twilio": {"From": "+989121234567", "To": "+14155550100", "Body": "لغو",
                   "MessageSid": "88"},
        "vonage": {"msisdn": "989121234567", "to": "447700900000", "text": "لغو",
                   "messageId": "88"},
        "melipayamak": {"from": "09121234567", "to": "50004001", "body": "لغو"},
    }
    for name, fields in cases.items():
        key, normal = Gateway(PRESETS[name]).message(fields, NOW)
        assert normal["sender"] == "+989121234567", name
        assert normal["text"] == "لغو" and normal["sms_consent"] == "false", name
        assert normal["gateway"] == name and key.startswith(f"{name}:"), name
        assert all(normal[f"raw.{k}"] == v for k, v in fields.items()), name


def test_times_are_read_in_the_gateways_zone_and_a_bad_one_is_the_arrival() -> None:
    kavenegar = Gateway(PRESETS["kavenegar"])
    _, normal = kavenegar.message({"from": "09121234567", "date": "1795500000"}, NOW)
    assert normal["received_at"] == "2026-11-24T06:00:00+00:00"
    _, normal = kavenegar.message({"from": "09121234567", "date": "1405/09/03 10:00"}, NOW)
    assert normal["received_at"] == "2026-11-24T10:00:00+03:30"   # Tehran, no offset given
    _, normal = kavenegar.message({"from": "09121234567", "date": "not a time"}, NOW)
    assert normal["received_at"] == "2026-11-24T10:15:30+00:00"
    assert normal["raw.date"] == "not a time"


def test_a_message_without_an_id_is_keyed_by_its_content_and_minute() -> None:
    meli = Gateway(PRESETS["melipayamak"])
    sms = {"from": "09121234567", "to": "50004001", "body": "سلام"}
    first, _ = meli.message(sms, NOW)
    assert first.startswith("melipayamak:sha256-")
    assert meli.message(sms, NOW.replace(second=59))[0] == first        # a retry
    assert meli.message(sms, NOW.replace(minute=16))[0] != first        # sent again
    assert meli.message({**sms, "body": "سلام!"}, NOW)[0] != first


def test_a_sender_that_is_no_number_is_kept_as_sent_and_none_is_refused() -> None:
    gateway = Gateway(PRESETS["kavenegar"])
    _, normal = gateway.message({"from": "Irancell", "message": "x"}, NOW)
    assert normal["sender"] == "Irancell"   # the pipeline sets it aside, with its reason
    with pytest.raises(BodyProblem) as refused:
        gateway.message({"to": "10004346", "message": "x"}, NOW)
    assert refused.value.status == 422 and refused.value.fields[0]["field"] == "sender"


def test_fields_override_a_presets_names_whatever_their_case() -> None:
    preset = PRESETS["custom"].with_fields({"sender": ["src", "source"], "text": "msg"})
    _, normal = Gateway(preset).message({"SOURCE": "+447911123456", "Msg": "hi"}, NOW)
    assert normal["sender"] == "+447911123456" and normal["text"] == "hi"


def test_a_delivery_report_is_keyed_by_message_and_state() -> None:
    twilio = Gateway(PRESETS["twilio"])
    sent = twilio.report({"MessageSid": "SM1", "MessageStatus": "sent"}, NOW)
    delivered = twilio.report({"MessageSid": "SM1", "MessageStatus": "delivered"}, NOW)
    assert sent.source_id == "twilio:SM1:sent" and delivered.source_id == "twilio:SM1:delivered"
    assert delivered.payload["status"] == "delivered"
    smsir = Gateway(PRESETS["smsir"]).report({"messageId": 7, "deliveryState": 1}, NOW)
    assert smsir.source_id == "smsir:7:1"


def test_twilios_published_signature_example() -> None:
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"),
              ("Digits", "1234"), ("From", "+14158675309"), ("To", "+18005551212")]
    assert twilio_signature(url, params, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert twilio_signature(url, reversed(params), "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    check_twilio("RSOYDt4T1cUTdK1PDd93/VVr8B8=", url, params, "12345")
    # Twilio may have signed the URL with its default port, or without it.
    check_twilio("RSOYDt4T1cUTdK1PDd93/VVr8B8=",
                 "https://mycompany.com:443/myapp.php?foo=1&bar=2", params, "12345")
    for url_, params_, token in ((url, [*params[:-1], ("To", "+1")], "12345"),
                                 (url.replace("bar=2", "bar=3"), params, "12345"),
                                 (url, params, "54321")):
        with pytest.raises(AuthError, match="does not match"):
            check_twilio("RSOYDt4T1cUTdK1PDd93/VVr8B8=", url_, params_, token)
    with pytest.raises(AuthError, match="X-Twilio-Signature"):
        check_twilio(None, url, params, "12345")


def test_the_url_token_must_be_there_and_right() -> None:
    check_url_token("s" * 30, "s" * 30)
    for given in (None, "", "s" * 29, "t" * 30):
        with pytest.raises(AuthError) as refused:
            check_url_token(given, "s" * 30)
        assert refused.value.status == 401


def test_every_preset_can_be_configured() -> None:
    named = typing.get_args(typing.get_type_hints(SmsSettings)["preset"])
    assert set(named) == set(PRESETS)


def test_the_settings_name_every_problem() -> None:
    problems = parse_sms("sms_in", {
        "preset": "custom", "auth": "token", "fields": {"text": "msg", "colour": "x",
                                                        "time": [1]},
        "country": "Iran", "timezone": "Asia/Nowhere"}).problems("serve.sms.sms_in")
    text = "\n".join(problems)
    assert "serve.sms.sms_in.secret_env: token needs the name" in text
    assert "serve.sms.sms_in.fields.colour: unknown field" in text
    assert "serve.sms.sms_in.fields.time: expected a field name" in text
    assert "serve.sms.sms_in.fields.sender: a custom gateway names" in text
    assert "serve.sms.sms_in.country: a two-letter country code" in text
    assert "serve.sms.sms_in.timezone: 'Asia/Nowhere' is not a time zone" in text
    with pytest.raises(ConfigError, match="auth: expected one of 'token', 'bearer', 'twilio'"):
        parse_sms("sms_in", {"preset": "kavenegar", "auth": "none"})


def test_a_gateway_names_a_configured_inbox_pipeline(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "pipelines: [sms_contacts, accounting_customers]\nserve:\n  sms:\n"
        "    sms_in: {preset: kavenegar, auth: token, secret_env: T}\n"
        "    accounting_customers: {preset: twilio, auth: twilio}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "config.yaml", environ={})
    text = "\n".join(info.value.problems)
    assert "serve.sms.sms_in: no configured pipeline 'sms_in'" in text
    assert "serve.sms.accounting_customers: the pipeline reads 'spreadsheet'" in text
    assert "serve.sms.accounting_customers.secret_env: twilio needs" in text


def test_the_shipped_sms_pipelines_load_and_run_contacts_first(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        f"store: {{url: 'sqlite:///{tmp_path}/store.sqlite'}}\n"
        "pipelines: [sms_in, sms_contacts]\nserve:\n  sms:\n"
        "    sms_in: {preset: kavenegar, auth: token, secret_env: PEYVAND_SMS_TOKEN}\n",
        encoding="utf-8")
    hub = Hub.from_config(tmp_path / "config.yaml", environ={})
    try:
        assert [c.name for c in hub.check()] == ["sms_in", "sms_contacts"]
        endpoints = SmsEndpoints(hub, {}, Tokens({}))
        [(channel, pipelines)] = endpoints.gateways.items()
        assert channel == "sms_in"
        assert (pipelines.customers, pipelines.others) == (["sms_contacts"], ["sms_in"])
    finally:
        hub.close()
