"""SMS in over HTTP: ``peyvand serve`` started for real on loopback with a gateway of
every preset, driven with httpx as each gateway sends (POST, and GET where it uses GET):
messages become interactions of the sender's customer (a new one, just the mobile, for
an unknown number), a retry is stored once, opt-out and opt-in words turn SMS consent off
and on with customer.updated, delivery reports are recorded, tokens and signatures are
checked; and a gateway's CSV log through the spreadsheet adapter."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
import pytest
from serve_support import ADMIN_TOKEN, FORMS_TOKEN, Server
from sms_support import ENVIRON, SMS_TOKEN, TWILIO_AUTH_TOKEN, sms_project
from sqlalchemy import func, select

from hub.app import Hub
from hub.serve.sms_auth import twilio_signature
from hub.store.queries import InteractionView, MasterView
from hub.store.tables import inbox, interactions

T = TypeVar("T")


@pytest.fixture(name="server", scope="module")
def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("sms")
    with pytest.MonkeyPatch.context() as env:
        for name, value in ENVIRON.items():
            env.setenv(name, value)
        server = Server(sms_project(root, f"sqlite:///{root}/store.sqlite")).start()
    yield server
    if server.process and server.process.poll() is None:
        server.stop()


@pytest.fixture(name="hub", scope="module")
def _hub(server: Server) -> Iterator[Hub]:
    hub = Hub.from_config(server.config, environ={})
    yield hub
    hub.close()


def _wait(what: str, probe: Callable[[], T | None], timeout: float = 20) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def _customer(hub: Hub, number: str) -> MasterView:
    def probe() -> MasterView | None:
        found = hub.search(number)
        return hub.customer(found[0].id) if len(found) == 1 else None
    return _wait(f"a customer with {number}", probe)


def _message(hub: Hub, number: str, text: str) -> tuple[MasterView, InteractionView]:
    """The sender's customer and the interaction its message ``text`` became."""
    def probe() -> tuple[MasterView, InteractionView] | None:
        found = hub.search(number)
        view = hub.customer(found[0].id) if len(found) == 1 else None
        done = [i for i in view.interactions if i.fields.get("summary") == [text]] if view \
            else []
        return (view, done[0]) if view and done else None
    return _wait(f"the SMS {text!r} of {number} on its customer", probe)


def _golden(view: MasterView) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for v in view.values:
        out.setdefault(v.path, []).append((v.value, v.source))
    return out


def _token(**fields: Any) -> dict[str, Any]:
    return {"token": SMS_TOKEN, **fields}


def _stored(hub: Hub, channel: str) -> list[dict[str, Any]]:
    with hub.engine.connect() as conn:
        return list(conn.execute(select(inbox.c.payload).where(inbox.c.channel == channel)
                                 .order_by(inbox.c.seq)).scalars())


def _twilio(server: Server, path: str, form: dict[str, str]) -> httpx.Response:
    url = f"{server.url}{path}"
    signature = twilio_signature(url, form.items(), TWILIO_AUTH_TOKEN)
    return server.post(path, data=form, headers={"X-Twilio-Signature": signature})


# --- an inbound message from each preset -------------------------------------------------

def test_kavenegar_forwards_by_post_and_by_get(server: Server, hub: Hub) -> None:
    posted = server.post("/sms/kavenegar", params={"token": SMS_TOKEN}, data={
        "from": "09121110001", "to": "10004346", "message": "سلام، سفارشم کی می‌رسد؟",
        "messageid": "837201"})
    assert posted.status_code == 200, posted.text
    assert posted.json() == {"receipt": "kavenegar:837201", "status": "accepted"}
    got = httpx.get(f"{server.url}/sms/kavenegar", params=_token(
        **{"from": "+98 912 111 0001", "to": "10004346", "message": "ممنون",
           "messageid": "837202"}))
    assert got.status_code == 200, got.text
    view, first = _message(hub, "09121110001", "سلام، سفارشم کی می‌رسد؟")
    again, second = _message(hub, "09121110001", "ممنون")
    assert again.id == view.id   # "+98 912 111 0001" is the same mobile
    assert first.channel == "sms" and first.fields["direction"] == ["inbound"]
    assert first.fields["contact.phone:mobile"] == ["+989121110001"]
    assert first.fields["messageId"] == ["837201"]
    assert first.source_id == "kavenegar:837201" and second.source_id == "kavenegar:837202"
    stored = _stored(hub, "kavenegar")[0]
    assert stored["sender"] == "+989121110001" and stored["receiver"] == "10004346"
    assert stored["raw.message"] == "سلام، سفارشم کی می‌رسد؟"
    assert "token" not in json.dumps(_stored(hub, "kavenegar"))   # the secret is not kept


def test_ghasedak_posts_with_a_bearer_token(server: Server, hub: Hub) -> None:
    answer = server.post("/sms/ghasedak", headers={"Authorization": f"Bearer {ADMIN_TOKEN[6:]}"},
                         data={"sender": "0935 111 0002", "lineNumber": "30005088",
                               "message": "قیمت", "id": "12345",
                               "receiveDate": "2024-07-02T14:00:34.975Z"})
    assert answer.status_code == 200, answer.text
    _, sms = _message(hub, "09351110002", "قیمت")
    assert sms.occurred_at == "2024-07-02T14:00:34+00:00"   # the gateway's time, not ours


def test_smsir_posts_json_without_an_id(server: Server, hub: Hub) -> None:
    answer = server.post("/sms/smsir", params={"token": SMS_TOKEN}, json={
        "mobile": "9121110003", "number": 30007732, "messageText": "سلام",
        "receivedDateTime": 1795500000})
    assert answer.status_code == 200, answer.text
    assert answer.json()["receipt"].startswith("smsir:sha256-")
    _, sms = _message(hub, "09121110003", "سلام")
    assert sms.occurred_at == "2026-11-24T06:00:00+00:00"


def test_twilio_posts_a_signed_form_and_gets_twiml(server: Server, hub: Hub) -> None:
    form = {"MessageSid": "SM7a1b2c3d4e5f60718293a4b5c6d7e8f9", "AccountSid": "AC" + "0" * 32,
            "From": "+989121110004", "To": "+14155550100", "Body": "Hi, is the shop open?",
            "NumMedia": "0"}
    answer = _twilio(server, "/sms/twilio", form)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/xml")
    assert answer.text.endswith("<Response></Response>")   # no reply is sent
    _message(hub, "+989121110004", "Hi, is the shop open?")


def test_vonage_sends_get_and_json(server: Server, hub: Hub) -> None:
    got = httpx.get(f"{server.url}/sms/vonage", params=_token(
        msisdn="989121110005", to="447700900000", messageId="0A0000000123ABCD1",
        text="Hello", type="text", keyword="HELLO",
        **{"message-timestamp": "2026-11-24 10:15:00"}))
    assert got.status_code == 200, got.text
    posted = server.post("/sms/vonage", params={"token": SMS_TOKEN}, json={
        "msisdn": "447911123457", "to": "447700900000", "messageId": "0A0000000123ABCD2",
        "text": "Hello from the UK", "type": "text",
        "message-timestamp": "2026-11-24 10:16:00"})
    assert posted.status_code == 200, posted.text
    _, sms = _message(hub, "+989121110005", "Hello")
    assert sms.occurred_at == "2026-11-24T10:15:00+00:00"   # Vonage writes UTC
    view, _ = _message(hub, "+447911123457", "Hello from the UK")   # msisdn has no +
    assert _golden(view)["phones.phone:mobile"][0][0] == "+447911123457"


def test_melipayamak_forwards_by_its_documented_get(server: Server, hub: Hub,
                                                   shared_samples: Path) -> None:
    template = (shared_samples / "sms" / "melipayamak_forward_template.query").read_text().strip()
    query = (template.replace("$TO$", "50004001").replace("$FROM$", "09121110006")
             .replace("$TEXT$", quote("زمان تحویل؟")))
    answer = httpx.get(f"{server.url}/sms/melipayamak?{query}&token={SMS_TOKEN}")
    assert answer.status_code == 200 and answer.text == "OK"   # what Melipayamak expects
    view, _ = _message(hub, "09121110006", "زمان تحویل؟")
    stored = _stored(hub, "melipayamak")[0]
    assert stored["raw.name"] == "yourname" and stored["raw.app"] == "sms"   # extras kept
    assert view.records[0].source_id.startswith("melipayamak:sha256-")


def test_a_custom_gateway_names_its_fields_in_config(server: Server, hub: Hub,
                                                    shared_samples: Path) -> None:
    """Kaleyra's callback, its masked numbers replaced: "UNSUBSCRIBE THE OFFER message"
    is a sentence, not the opt-out word; its own word STOPOFFER (config) is one."""
    doc = json.loads((shared_samples / "sms" / "kaleyra_incoming_sms_callback.json").read_text())
    doc.update(source="919812345678", recipient="+919900000000")
    answer = server.post("/sms/kaleyra", params={"token": SMS_TOKEN}, json=doc)
    assert answer.status_code == 200, answer.text
    view, sms = _message(hub, "+919812345678", "UNSUBSCRIBE THE OFFER message")
    assert sms.occurred_at == "2025-04-17T18:35:20+05:30"
    assert "consents.consent:sms" not in _golden(view)
    doc.update(id="90e-second", message="stop offer!")
    assert server.post("/sms/kaleyra", params={"token": SMS_TOKEN}, json=doc).status_code == 200
    view, _ = _message(hub, "+919812345678", "stop offer!")
    view = _wait("the opt-out", lambda: (v := _customer(hub, "+919812345678")) and
                 "consents.consent:sms" in _golden(v) and v)
    assert _golden(view)["consents.consent:sms"][0][0] == "false"


# --- retries, new and known numbers ------------------------------------------------------

def test_a_gateway_retry_is_stored_once(server: Server, hub: Hub) -> None:
    sms = {"from": "09121110007", "to": "10004346", "message": "تکراری", "messageid": "9001"}
    first = server.post("/sms/kavenegar", params={"token": SMS_TOKEN}, data=sms)
    again = server.post("/sms/kavenegar", params={"token": SMS_TOKEN}, data=sms)
    assert first.json()["status"] == "accepted" and again.status_code == 200
    assert again.json() == {"receipt": "kavenegar:9001", "status": "duplicate"}
    # Melipayamak sends no id: the same message again within the minute is its retry.
    query = _token(to="50004001", body="بدون شناسه", **{"from": "09121110007"})
    for _ in range(2):
        assert httpx.get(f"{server.url}/sms/melipayamak", params=query).text == "OK"
    view, _ = _message(hub, "09121110007", "بدون شناسه")
    time.sleep(0.5)   # room for a second copy to show up, were there one
    view = _customer(hub, "09121110007")
    assert [i.fields["summary"] for i in view.interactions].count(["تکراری"]) == 1
    assert [i.fields["summary"] for i in view.interactions].count(["بدون شناسه"]) == 1
    assert sum(p["text"] == "تکراری" for p in _stored(hub, "kavenegar")) == 1
    assert sum(p["text"] == "بدون شناسه" for p in _stored(hub, "melipayamak")) == 1


def test_an_unknown_number_becomes_a_customer_with_just_its_mobile(server: Server,
                                                                   hub: Hub) -> None:
    before = hub.count_customers()
    server.post("/sms/kavenegar", params={"token": SMS_TOKEN}, data={
        "from": "۰۹۳۰۱۱۱۰۰۰۸", "to": "10004346", "message": "اولین پیام", "messageid": "9101"})
    view, sms = _message(hub, "09301110008", "اولین پیام")
    assert {v.path for v in view.values} == {"phones.phone:mobile", "kind"}
    assert _golden(view)["phones.phone:mobile"] == [("+989301110008", "sms/kavenegar:9101")]
    assert hub.count_customers() == before + 1
    assert sms.source_id == "kavenegar:9101"   # attached: it is on the customer's timeline


def test_a_known_numbers_message_joins_its_customer(server: Server, hub: Hub) -> None:
    form = server.post("/forms/contact", data={"name": "مریم رضایی", "mobile": "09121110009"})
    assert form.status_code == 202, form.text
    known = _customer(hub, "09121110009")
    count = hub.count_customers()
    server.post("/sms/kavenegar", params={"token": SMS_TOKEN}, data={
        "from": "00989121110009", "to": "10004346", "message": "من مریم هستم",
        "messageid": "9201"})
    view, _ = _message(hub, "09121110009", "من مریم هستم")
    assert view.id == known.id and view.display_name == "مریم رضایی"
    assert hub.count_customers() == count


def test_a_burst_from_new_numbers_leaves_no_message_unattached(tmp_path: Path,
                                                               store_url: str) -> None:
    """Four gateways' worth of concurrent messages, each from a number never seen: every
    one is an interaction on the customer it made, though messages keep arriving while
    the worker runs the contacts and interactions pipelines (on SQLite and PostgreSQL)."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in ENVIRON.items():
            env.setenv(name, value)
        server = Server(sms_project(tmp_path, store_url)).start()
    hub = Hub.from_config(server.config, environ={})
    numbers = [f"0912{n:07d}" for n in range(2000100, 2000160)]

    def send(i: int) -> int:
        return server.post("/sms/kavenegar", params={"token": SMS_TOKEN}, data={
            "from": numbers[i], "to": "10004346", "message": f"پیام {i}",
            "messageid": f"burst-{i}"}).status_code

    try:
        with ThreadPoolExecutor(4) as pool:
            assert set(pool.map(send, range(len(numbers)))) == {200}
        _wait("every message processed", lambda: hub.count_customers() == len(numbers)
              and _attached(hub) == len(numbers), timeout=60)
        with hub.engine.connect() as conn:
            unattached = conn.execute(select(interactions.c.source_id).where(
                interactions.c.master_id.is_(None))).scalars().all()
        assert unattached == []
        for i in (0, len(numbers) // 2, len(numbers) - 1):
            _message(hub, numbers[i], f"پیام {i}")
    finally:
        hub.close()
        server.stop()


def _attached(hub: Hub) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(interactions).where(
            interactions.c.master_id.is_not(None))).scalar_one())


# --- consent -----------------------------------------------------------------------------

def test_opt_out_then_opt_in_turn_sms_consent_off_and_on(server: Server, hub: Hub) -> None:
    """The website (ranked above SMS) said yes; "لغو ۱۱" turns it off, "شروع" on again:
    consent follows the latest statement, whatever the source's rank."""
    server.post("/forms/contact", data={"name": "Sara Ahmadi", "mobile": "09121110010",
                                        "sms_ok": "yes"})
    view = _customer(hub, "09121110010")
    assert _golden(view)["consents.consent:sms"][0][0] == "true"
    seen = max((e.seq for e in hub.events()), default=0)

    def consent_after(sent: dict[str, str]) -> tuple[str, str, list[Any]]:
        answer = server.post("/sms/kavenegar", params={"token": SMS_TOKEN}, data=sent)
        assert answer.status_code == 200, answer.text
        source = f"sms/kavenegar:{sent['messageid']}"
        def probe() -> tuple[str, str, list[Any]] | None:
            value, by = _golden(_customer(hub, "09121110010"))["consents.consent:sms"][0]
            updates = [e for e in hub.events(after=seen, types=["customer.updated"])
                       if e.subject == view.id]
            return (value, by, updates) if by == source and updates else None
        return _wait(f"the consent stated by {source}", probe)

    value, _, updates = consent_after({"from": "09121110010", "to": "10004346",
                                       "message": " لغو ۱۱ ", "messageid": "9301"})
    assert value == "false"
    golden = updates[-1].data["customer"]["fields"]["consents.consent:sms"]
    assert golden[0]["value"] == "false"   # published, for marketing tools to stop
    seen = updates[-1].seq
    # A message that says nothing about consent leaves it off.
    server.post("/sms/kavenegar", params={"token": SMS_TOKEN}, data={
        "from": "09121110010", "to": "10004346", "message": "سلام", "messageid": "9302"})
    _message(hub, "09121110010", "سلام")
    assert _golden(_customer(hub, "09121110010"))["consents.consent:sms"][0][0] == "false"
    value, _, updates = consent_after({"from": "09121110010", "to": "10004346",
                                       "message": "شروع", "messageid": "9303"})
    assert value == "true"
    assert updates[-1].data["customer"]["fields"]["consents.consent:sms"][0]["value"] == "true"


# --- delivery reports --------------------------------------------------------------------

def test_delivery_reports_are_recorded_once_per_state(server: Server, hub: Hub) -> None:
    report = _token(messageid="555001", status="10")   # Kavenegar's 10: delivered
    for _ in range(2):
        answer = httpx.get(f"{server.url}/sms/kavenegar/status", params=report)
        assert answer.status_code == 200, answer.text
    assert answer.json() == {"receipt": "kavenegar:555001:10", "status": "duplicate"}
    signed = _twilio(server, "/sms/twilio/status", {
        "MessageSid": "SM" + "1" * 32, "MessageStatus": "sent", "AccountSid": "AC" + "0" * 32})
    assert signed.status_code == 200, signed.text
    assert _twilio(server, "/sms/twilio/status", {
        "MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}).status_code == 200
    assert [(p["message_id"], p["status"]) for p in _stored(hub, "kavenegar.status")] == [
        ("555001", "10")]
    assert [(p["message_id"], p["status"]) for p in _stored(hub, "twilio.status")] == [
        ("SM" + "1" * 32, "sent"), ("SM" + "1" * 32, "delivered")]


# --- who may post ------------------------------------------------------------------------

def test_a_missing_or_wrong_token_or_signature_is_refused(server: Server, hub: Hub) -> None:
    sms = {"from": "09121110011", "to": "10004346", "message": "x", "messageid": "666"}
    missing = server.post("/sms/kavenegar", data=sms)
    assert missing.status_code == 401 and "token" in missing.json()["error"]
    wrong = server.post("/sms/kavenegar", params={"token": "not-the-token"}, data=sms)
    assert wrong.status_code == 401
    assert httpx.get(f"{server.url}/sms/kavenegar/status",
                     params={"messageid": "1", "status": "10"}).status_code == 401
    form = {"MessageSid": "SM" + "2" * 32, "From": "+989121110011", "Body": "x"}
    unsigned = server.post("/sms/twilio", data=form)
    assert unsigned.status_code == 401 and "X-Twilio-Signature" in unsigned.json()["error"]
    forged = server.post("/sms/twilio", data={**form, "Body": "لغو"}, headers={
        "X-Twilio-Signature": twilio_signature(f"{server.url}/sms/twilio", form.items(),
                                               TWILIO_AUTH_TOKEN)})   # signed another body
    assert forged.status_code == 401 and "does not match" in forged.json()["error"]
    assert server.post("/sms/ghasedak", data={"sender": "09121110011"}).status_code == 401
    forms_only = server.post("/sms/ghasedak", data={"sender": "09121110011"},
                             headers={"Authorization": f"Bearer {FORMS_TOKEN[6:]}"})
    assert forms_only.status_code == 403 and "'sms' scope" in forms_only.json()["error"]
    assert server.post("/sms/nope", params={"token": SMS_TOKEN},
                       data=sms).status_code == 404
    nobody = server.post("/sms/kavenegar", params={"token": SMS_TOKEN}, data={"to": "1"})
    assert nobody.status_code == 422 and nobody.json()["fields"][0]["field"] == "sender"
    assert hub.search("09121110011") == []
    assert all(p.get("sender") != "+989121110011" for ch in ("kavenegar", "twilio", "ghasedak")
               for p in _stored(hub, ch))


def test_the_openapi_document_lists_the_sms_endpoints(server: Server) -> None:
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/sms/{gateway}"])
    assert {"get", "post"} <= set(paths["/sms/{gateway}/status"])


# --- a gateway's log, exported as CSV ----------------------------------------------------

def test_a_kavenegar_log_csv_becomes_interactions(tmp_path: Path) -> None:
    """The shipped mapping on a log written as Kavenegar's sms/receive names its columns:
    Unix times, Persian digits; a known sender's messages join the customer, an unknown
    one's wait unattached, and a second run reads nothing."""
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "mappings").mkdir()
    (tmp_path / "pipelines" / "customers.csv").write_text(
        "id,name,mobile\n1,علی کریمی,09121234567\n", encoding="utf-8")
    (tmp_path / "pipelines" / "received.csv").write_text(
        "messageid,sender,receptor,message,date\n"
        "70001,09121234567,10004346,سلام،  فاکتور رسید؟,1795500000\n"
        "70002,۰۹۱۲۱۲۳۴۵۶۷,10004346,لغو۱۱,1795500060\n"
        "70003,09359998877,10004346,شماره جدید,1795500120\n", encoding="utf-8")
    (tmp_path / "mappings" / "customers.yaml").write_text(
        "target: customer\nfields:\n  name.full: {from: name}\n"
        "  phones.phone:mobile: {from: mobile}\n", encoding="utf-8")
    (tmp_path / "pipelines" / "customers.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: customers.csv, id_column: id}\n"
        "source_system: crm\nmapping: customers.yaml\n", encoding="utf-8")
    (tmp_path / "pipelines" / "sms_log.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: received.csv, id_column: messageid}\n"
        "source_system: kavenegar\nmapping: sms_log_kavenegar.yaml\n", encoding="utf-8")
    (tmp_path / "config.yaml").write_text(
        f"store: {{url: 'sqlite:///{tmp_path}/store.sqlite'}}\n"
        "pipelines: [customers, sms_log]\n", encoding="utf-8")
    hub = Hub.from_config(tmp_path / "config.yaml", environ={})
    try:
        stats = {s.pipeline: s for s in hub.run()}
        assert stats["sms_log"].read == 3 and stats["sms_log"].interactions == 3
        assert stats["sms_log"].attached == 2
        [found] = hub.search("09121234567")
        view = hub.customer(found.id)
        assert view is not None and view.display_name == "علی کریمی"
        by_id = {i.source_id: i for i in view.interactions}
        assert set(by_id) == {"70001", "70002"}
        assert by_id["70001"].occurred_at == "2026-11-24T06:00:00+00:00"
        assert by_id["70001"].fields["summary"] == ["سلام، فاکتور رسید؟"]
        assert by_id["70002"].fields["contact.phone:mobile"] == ["+989121234567"]
        assert hub.search("09359998877") == []   # the log makes no customers
        assert [s.read for s in hub.run()] == [0, 0]
    finally:
        hub.close()
