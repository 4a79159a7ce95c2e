"""The e-mail adapter on local mailboxes: the contract, decoding, ids, positions, options.

The IMAP side is tested against a real server in tests/integration/test_imap.py, the
real-world samples in test_email_samples.py, a pipeline in test_email_pipeline.py.
"""

from __future__ import annotations

import base64
import imaplib
import itertools
import mailbox
import socket
from pathlib import Path
from typing import Any, ClassVar

import pytest
from structlog.testing import capture_logs

from adapters import get_adapter_class
from adapters._mail_message import KEYS, Reading, read_message
from adapters.email import EmailAdapter
from hub.adapter import SourceContext
from hub.errors import ConfigError, FatalSourceError, SourceUnavailable
from hub.records import Checkpoint, RawRecord
from hub.testing.conformance import AdapterConformance


def b64(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def qp(text: str, charset: str) -> str:
    encoded = "".join(chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 32 else f"={b:02X}"
                      for b in text.encode(charset))
    return f"=?{charset}?Q?{encoded}?="


_counter = itertools.count(1)


def message(*, sender: str = "Ali Karimi <ali@x.ir>", subject: str = "Order",
            body: str = "Hello", message_id: str | None = "", to: str = "sales@shop.ir",
            headers: str = "", content_type: str = "text/plain; charset=utf-8",
            date: str = "Mon, 24 Nov 2025 10:00:00 +0330") -> bytes:
    """A message as a mail client writes it; ``message_id=""`` makes a unique one."""
    n = next(_counter)
    mid = f"<m{n}@x.ir>" if message_id == "" else message_id
    lines = [f"From: {sender}", f"To: {to}", f"Subject: {subject}", f"Date: {date}",
             *([f"Message-ID: {mid}"] if mid else []), "MIME-Version: 1.0",
             f"Content-Type: {content_type}", "Content-Transfer-Encoding: 8bit",
             *filter(None, headers.split("\n"))]
    return ("\n".join(lines) + "\n\n" + body + "\n").encode()


def adapter(base: Path, **options: Any) -> EmailAdapter:
    return EmailAdapter.from_options(options, where="p.yaml", context=SourceContext(base))


def read(base: Path, checkpoint: Checkpoint | None = None, **options: Any) -> list[RawRecord]:
    return list(adapter(base, **options).read(checkpoint))


def eml_folder(root: Path, *messages: bytes) -> Path:
    folder = root / "mail"
    folder.mkdir(exist_ok=True)
    for i, raw in enumerate(messages, start=1):
        (folder / f"{i:03}.eml").write_bytes(raw)
    return folder


def one(tmp_path: Path, raw: bytes, **options: Any) -> dict[str, Any]:
    """The data of ``raw`` read from a folder of .eml files."""
    eml_folder(tmp_path, raw)
    [record] = read(tmp_path, path="mail", **options)
    return dict(record.data)


# -- the contract, on each kind of local mailbox ---------------------------------------

class TestMaildirConformance(AdapterConformance):
    """A Maildir with a Maildir++ Sent folder, as Dovecot or Postfix keep one."""

    adapter_class = EmailAdapter
    bad_options: ClassVar = {"path": 7, "since": "yesterday", "summary_length": 5}

    def make_source(self, tmp_path: Path) -> dict[str, Any]:
        box = mailbox.Maildir(tmp_path / "Maildir", create=True)
        for name in ("علی کریمی", "Sara Ahmadi", "مریم حسینی"):
            box.add(message(sender=f"{b64(name, 'utf-8')} <{len(name)}@x.ir>"))
        box.add_folder("Sent").add(message(sender="sales@shop.ir", to="Ali <ali@x.ir>"))
        return {"path": "Maildir", "folders": ["INBOX", "Sent"], "own_addresses": ["@shop.ir"]}


class TestEmlFolderConformance(AdapterConformance):
    """A folder of .eml files, as a mail client's "save as" or an export writes them."""

    adapter_class = EmailAdapter
    bad_options: ClassVar = {"folders": "INBOX", "direction": "sideways"}

    def make_source(self, tmp_path: Path) -> dict[str, Any]:
        eml_folder(tmp_path, message(), message(message_id=None), message(subject="3"),
                   b"\x00\x01 not a message at all")
        return {"path": "mail"}


class TestMboxConformance(AdapterConformance):
    """An mbox file, as Thunderbird or a Unix mail spool keeps one."""

    adapter_class = EmailAdapter
    bad_options: ClassVar = {"own_addresses": ["sales"], "tls": "none", "path": "x.mbox"}

    def make_source(self, tmp_path: Path) -> dict[str, Any]:
        box = mailbox.mbox(tmp_path / "inbox.mbox", create=True)
        for subject in ("1", "2", "3"):
            box.add(message(subject=subject, body=f"From the start\nline {subject}"))
        box.close()
        return {"path": "inbox.mbox"}


def test_registered_as_email() -> None:
    assert get_adapter_class("email") is EmailAdapter


# -- decoding ----------------------------------------------------------------------------

@pytest.mark.parametrize(("sender", "name", "address"), [
    (f"{b64('علی کریمی', 'utf-8')} <ali@x.ir>", "علی کریمی", "ali@x.ir"),
    (f"{qp('مريم حسيني', 'windows-1256')} <maryam@x.ir>", "مريم حسيني", "maryam@x.ir"),
    (f"{b64('مريم حسيني', 'windows-1256')} <maryam@x.ir>", "مريم حسيني", "maryam@x.ir"),
    (f"{b64('张伟', 'gb2312')} <zhang@x.cn>", "张伟", "zhang@x.cn"),
    ('"Karimi, Ali" <ali@x.ir>', "Karimi, Ali", "ali@x.ir"),
    (f"{qp('Müller, Jürgen', 'iso-8859-1')} <jm@x.de>", "Müller, Jürgen", "jm@x.de"),
    (f'"{qp("Rezaei, Sara", "utf-8")}" <sara@x.ir>', "Rezaei, Sara", "sara@x.ir"),
    ("مریم <maryam@x.ir>", "مریم", "maryam@x.ir"),   # raw UTF-8 in the header (RFC 6532)
    (f"{b64('noreply@bank.com', 'utf-8')} <phish@evil.test>", "", "phish@evil.test"),
    ("<only@x.ir>", "", "only@x.ir"),
    ("Moderator <moderator>", "Moderator", ""),   # no domain: no address
])
def test_display_names_in_any_charset(tmp_path: Path, sender: str, name: str,
                                      address: str) -> None:
    data = one(tmp_path, message(sender=sender))
    assert (data["from_name"], data["from_address"]) == (name, address)
    assert (data["contact_name"], data["contact_address"]) == (name, address)


def test_a_comma_inside_a_name_does_not_split_the_recipients(tmp_path: Path) -> None:
    to = ('"Karimi, Ali" <ali@x.ir>, =?utf-8?q?Rezaei=2C_Sara?= <sara@x.ir>,\n'
          f" {qp('Müller, J.', 'iso-8859-1')} <jm@x.de>, sales@shop.ir")
    data = one(tmp_path, message(to=to, headers="Cc: Reza <reza@x.ir>, Sara <sara@x.ir>"))
    assert data["to_addresses"] == "ali@x.ir, sara@x.ir, jm@x.de, sales@shop.ir"
    assert data["cc_addresses"] == "reza@x.ir, sara@x.ir"


@pytest.mark.parametrize(("subject", "expected"), [
    (b64("سفارش شماره ۱۲", "utf-8"), "سفارش شماره ۱۲"),
    (qp("پيگيري سفارش", "windows-1256"), "پيگيري سفارش"),
    (f"{b64('سفارش ', 'utf-8')}\n {b64('فوری', 'utf-8')}", "سفارش فوری"),   # folded, split
    (f"Re: {b64('订单', 'gb2312')}", "Re: 订单"),
    ("=?utf-8?B?not base64!?=", "=?utf-8?B?not base64!?="),   # broken: kept as written
    ("=?x-unknown-charset?Q?caf=E9?=", "café"),
])
def test_subjects_are_decoded(tmp_path: Path, subject: str, expected: str) -> None:
    assert one(tmp_path, message(subject=subject))["subject"] == expected


def test_every_key_is_in_every_record_and_the_date_is_as_written(tmp_path: Path) -> None:
    data = one(tmp_path, message(date="Tue, 24 Nov 2026 10:15:00 +0330 (IRST)"))
    assert set(data) == set(KEYS)
    assert data["date"] == "Tue, 24 Nov 2026 10:15:00 +0330 (IRST)"
    assert data["folder"] == "mail" and data["received"] == ""
    assert all(isinstance(v, str) for v in data.values())


def test_the_summary_is_the_messages_own_text(tmp_path: Path) -> None:
    body = ("سلام،\nلطفاً سفارش ۱۲ را پیگیری کنید.\n\n"
            "On Mon, 24 Nov 2025 at 10:00, Sales <sales@shop.ir> wrote:\n"
            "> Thank you for your order. Call us: 021 8877 6655\n")
    data = one(tmp_path, message(body=body))
    assert data["summary"] == "سلام، لطفاً سفارش ۱۲ را پیگیری کنید."
    assert data["phones_found"] == ""   # our number, in the quoted mail


def test_html_only_mail_is_summarised_as_text(tmp_path: Path) -> None:
    html = ("<html><head><style>p {color: red}</style><title>x</title></head><body>"
            "<p>Dear&nbsp;team,</p><div>my number is <b>0935&#8209;111&#8209;2233</b>"
            "</div><blockquote>old quoted text 09121112233</blockquote></body></html>")
    data = one(tmp_path, message(body=html, content_type="text/html; charset=utf-8"))
    assert data["summary"].startswith("Dear team, my number is 0935")
    assert "quoted" not in data["summary"]


def test_phones_in_persian_or_latin_digits_and_the_signature(tmp_path: Path) -> None:
    body = ("با سلام، لطفاً با شماره ۰۹۱۲ ۱۲۳ ۴۵۶۷ تماس بگیرید.\n"
            "Order date 1402/05/17, national code 0076229645.\n"
            "--\nReza Yazdani\nTel: +98 21 8877 6655 | Mobile: 0912-123-4567\n")
    assert one(tmp_path, message(body=body))["phones_found"] == "+989121234567, +982188776655"


def test_an_outbound_message_is_with_its_recipient(tmp_path: Path) -> None:
    raw = message(sender="Shop Sales <sales@shop.ir>", to='"Karimi, Ali" <ali@x.ir>',
                  body="Our number: 021 8877 6655")
    data = one(tmp_path, raw, own_addresses=["@shop.ir"])
    assert (data["direction"], data["contact_name"], data["contact_address"]) == (
        "outbound", "Karimi, Ali", "ali@x.ir")
    assert data["phones_found"] == ""   # our own signature
    (tmp_path / "mail" / "001.eml").unlink()
    assert one(tmp_path, raw, direction="inbound")["direction"] == "inbound"
    (tmp_path / "mail" / "001.eml").unlink()
    assert one(tmp_path, raw, own_addresses=["SALES@shop.ir"])["direction"] == "outbound"


def test_thread_is_the_first_message_of_the_conversation(tmp_path: Path) -> None:
    headers = "In-Reply-To: <b@x.ir>\nReferences: <a@x.ir>\n <b@x.ir>"
    data = one(tmp_path, message(message_id="<c@x.ir>", headers=headers))
    assert (data["message_id"], data["in_reply_to"], data["thread"]) == ("c@x.ir", "b@x.ir",
                                                                         "a@x.ir")


def test_a_message_that_is_no_message_is_a_problem_record(tmp_path: Path) -> None:
    eml_folder(tmp_path, b"PK\x03\x04 binary junk, not headers", b"", message())
    records = read(tmp_path, path="mail")
    assert [r.problem is not None for r in records] == [True, True, False]
    assert "no header lines" in (records[0].problem or "")
    assert records[0].source_id.startswith("sha256:")
    assert set(records[0].data) == set(KEYS)
    assert records[0].location == "001.eml"


def test_control_characters_never_reach_the_record(tmp_path: Path) -> None:
    data = one(tmp_path, message(subject="a\x00b\x1bc", body="x\x00y"))
    assert (data["subject"], data["summary"]) == ("abc", "xy")


def test_malformed_mime_is_read_as_far_as_it_goes(tmp_path: Path) -> None:
    raw = (b"From: Ali <ali@x.ir>\nSubject: broken\nContent-Type: multipart/mixed; "
           b'boundary="b"\nContent-Transfer-Encoding: base64\n\n--b\nContent-Type: text/plain;'
           b" charset=klingon\n\nreadable text\n--b\nContent-Type: text/html\n\n<p")
    data = one(tmp_path, raw)
    assert (data["subject"], data["summary"]) == ("broken", "readable text")


# -- ids ---------------------------------------------------------------------------------

def test_without_message_id_the_id_is_a_hash_of_what_the_author_wrote(tmp_path: Path) -> None:
    raw = message(message_id=None)
    relayed = b"Received: from relay.x.ir by mx.shop.ir\nDelivered-To: sales@shop.ir\n" + raw
    other = message(message_id=None, body="another text")
    eml_folder(tmp_path, raw, relayed, other)
    records = read(tmp_path, path="mail")
    # The relayed copy is the same message: read once.
    assert [r.location for r in records] == ["001.eml", "003.eml"]
    assert all(r.source_id.startswith("sha256:") for r in records)
    assert records[0].source_id != records[1].source_id


def test_a_message_id_too_long_for_the_store_is_hashed(tmp_path: Path) -> None:
    long_id = "x" * 300 + "@x.ir"
    eml_folder(tmp_path, message(message_id=f"<{long_id}>"))
    [record] = read(tmp_path, path="mail")
    assert record.data["message_id"] == long_id
    assert record.source_id.startswith("mid-sha256:") and len(record.source_id) == 43


def test_a_message_filed_twice_is_one_record_and_a_reused_id_is_not_lost(tmp_path: Path
                                                                         ) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(message(message_id="<same@x.ir>"))
    box.add_folder("Archive").add(message(message_id="<same@x.ir>"))
    box.add_folder("Other").add(message(message_id="<same@x.ir>", body="not the same"))
    records = read(tmp_path, path="Maildir", folders=["INBOX", "Archive", "Other"])
    assert [r.data["folder"] for r in records] == ["INBOX", "Other"]
    assert records[0].source_id == "same@x.ir"
    assert records[1].source_id.startswith("same@x.ir#")


# -- positions -----------------------------------------------------------------------------

def write_maildir(root: Path, names: list[str]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / "Maildir" / "new" / name).write_bytes(message(subject=name))
    return root / "Maildir"


def test_a_message_delivered_in_the_second_of_the_last_one_read_is_not_missed(
        tmp_path: Path) -> None:
    write_maildir(tmp_path, ["1700000000.M9P1.host", "1700000000.M5P1.host"])
    first = read(tmp_path, path="Maildir")
    assert [r.data["subject"] for r in first] == ["1700000000.M5P1.host",
                                                  "1700000000.M9P1.host"]
    assert first[0].data["received"] == "2023-11-14T22:13:20+00:00"
    write_maildir(tmp_path, ["1700000000.M10P1.host", "1699999999.late.host",
                             "1700000001.M1P1.host"])   # M10 sorts before M5

    rest = read(tmp_path, first[-1].checkpoint, path="Maildir")

    assert [r.data["subject"] for r in rest] == ["1700000000.M10P1.host",
                                                 "1700000001.M1P1.host"]
    assert read(tmp_path, rest[-1].checkpoint, path="Maildir") == []


def test_a_rewritten_mbox_is_read_from_the_start(tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "inbox.mbox", create=True)
    keys = [box.add(message(subject=s)) for s in ("1", "2", "3")]
    box.flush()
    second = read(tmp_path, path="inbox.mbox")[1].checkpoint
    assert [r.data["subject"] for r in read(tmp_path, second, path="inbox.mbox")] == ["3"]
    box.add(message(subject="4"))
    box.flush()
    assert [r.data["subject"] for r in read(tmp_path, second, path="inbox.mbox")] == ["3", "4"]

    box.remove(keys[0])   # compacted by a mail client: the second message moved up
    box.flush()
    with capture_logs() as logs:
        again = read(tmp_path, second, path="inbox.mbox")
    box.close()
    assert [r.data["subject"] for r in again] == ["2", "3", "4"]
    assert any(e["event"].startswith("mbox changed") for e in logs)


def test_a_new_eml_file_is_read_after_the_last_one(tmp_path: Path) -> None:
    eml_folder(tmp_path, message(subject="1"), message(subject="2"))
    last = read(tmp_path, path="mail")[-1].checkpoint
    (tmp_path / "mail" / "003.eml").write_bytes(message(subject="3"))
    (tmp_path / "mail" / "notes.txt").write_text("not mail")
    assert [r.data["subject"] for r in read(tmp_path, last, path="mail")] == ["3"]


def test_one_eml_file(tmp_path: Path) -> None:
    (tmp_path / "one.eml").write_bytes(message(subject="only"))
    [record] = read(tmp_path, path="one.eml")
    assert record.data["subject"] == "only" and record.location == "one.eml"


def test_since_reads_messages_of_that_day_on_by_their_date(tmp_path: Path) -> None:
    eml_folder(tmp_path, message(subject="old", date="Sun, 31 Dec 2023 23:00:00 +0000"),
               message(subject="new", date="Mon, 1 Jan 2024 08:00:00 +0330"),
               message(subject="undated", date=""))
    records = read(tmp_path, path="mail", since="2024-01-01")
    assert [r.data["subject"] for r in records] == ["new", "undated"]
    assert adapter(tmp_path, path="mail", since="2024-01-01").estimate_total(None) is None


def test_a_checkpoint_of_another_mailbox_kind_reads_all_and_garbage_is_fatal(
        tmp_path: Path) -> None:
    eml_folder(tmp_path, message(), message())
    imap_checkpoint = Checkpoint('{"at":{"INBOX":[1,5]},"kind":"imap"}')
    assert len(read(tmp_path, imap_checkpoint, path="mail")) == 2
    with pytest.raises(FatalSourceError, match=r"reset the pipeline's checkpoint"):
        read(tmp_path, Checkpoint("12"), path="mail")


# -- options and paths ---------------------------------------------------------------------

def problems(**options: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        adapter(Path.cwd(), **options)
    return "\n".join(caught.value.problems)


def test_every_problem_of_the_options_is_listed_at_once() -> None:
    found = problems(url="imaps://ali:hunter2@mail.x.ir:993/INBOX", folders=["Sent"],
                     tls="none", own_addresses=["sales"], direction="inbound",
                     since="1403/01/01", password_env="hunter2 !")
    for expected in ("options.url: holds a password", "options.folders: options.url names",
                     "options.tls: none sends the password in clear",
                     "options.own_addresses: 'sales'", "unused when options.direction",
                     "options.since: '1403/01/01'", "options.password_env: must be"):
        assert expected in found
    assert "hunter2" not in found.replace("imaps://ali:hunter2", "")   # never echoed


@pytest.mark.parametrize(("options", "problem"), [
    ({}, "options.url: give an IMAP server"),
    ({"path": "Maildir", "host": "mail.x.ir", "ca_file": "ca.pem"},
     "options.host: is for an IMAP server"),
    ({"host": "mail.x.ir", "url": "imaps://a@mail.x.ir"}, "options.host: the host is in"),
    ({"url": "https://mail.x.ir"}, "options.url: expected imaps://"),
    ({"url": "imap://a@mail.x.ir", "tls": "imaps", "password_env": "P"},
     "options.tls: imaps contradicts"),
    ({"host": "mail.x.ir", "password_env": "P"}, "options.user: the IMAP user is required"),
    ({"host": "mail.x.ir", "user": "a"}, "options.password_env: required"),
    ({"host": "mail.x.ir", "user": "a", "password_env": "P", "port": 70000},
     "options.port: 70000"),
    ({"path": "m", "summary_length": 10}, "options.summary_length"),
    ({"path": "m", "folders": [" "]}, "options.folders: a folder name is empty"),
    ({"pathh": "m"}, "Did you mean 'path'"),
])
def test_bad_options(options: dict[str, Any], problem: str) -> None:
    assert problem in problems(**options)


@pytest.mark.parametrize("options", [
    {"url": "imaps://ali%40x.ir@mail.x.ir/INBOX", "password_env": "MAIL_PASSWORD"},
    {"url": "imap://ali@[::1]:1143", "password_env": "P", "tls": "none"},
    {"host": "localhost", "port": 1143, "user": "a", "password_env": "P", "tls": "none"},
    {"host": "mail.x.ir", "user": "a", "password_env": "P", "folders": ["INBOX", "Sent"],
     "own_addresses": ["@shop.ir", "info@shop.ir"], "since": "2024-01-01"},
    {"path": "Maildir", "direction": "outbound", "summary_length": 500},
])
def test_good_options(options: dict[str, Any]) -> None:
    adapter(Path.cwd(), **options)


def test_a_missing_path_or_folder_is_fatal_and_says_which(tmp_path: Path) -> None:
    with pytest.raises(FatalSourceError, match=r"nowhere: no such mailbox"):
        read(tmp_path, path="nowhere")
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add_folder("Sent")
    with pytest.raises(FatalSourceError, match=r"no Maildir folder 'Sentt'.*INBOX, Sent"):
        read(tmp_path, path="Maildir", folders=["Sentt"])
    (tmp_path / "inbox.mbox").write_bytes(b"")
    with pytest.raises(FatalSourceError, match=r"options.folders is for IMAP and Maildir"):
        read(tmp_path, path="inbox.mbox", folders=["INBOX"])


def test_the_password_must_be_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PEYVAND_NO_SUCH_VARIABLE", raising=False)
    mail = adapter(Path.cwd(), url="imaps://a@mail.x.ir/INBOX",
                   password_env="PEYVAND_NO_SUCH_VARIABLE")
    with pytest.raises(FatalSourceError, match=r"PEYVAND_NO_SUCH_VARIABLE .* is not set"):
        list(mail.read(None))


def test_a_host_that_does_not_exist_is_fatal_a_resolver_away_is_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEYVAND_TEST_PASSWORD", "x")
    mail = adapter(Path.cwd(), url="imaps://a@imap.nowhere.invalid/INBOX",
                   password_env="PEYVAND_TEST_PASSWORD")
    failing: list[OSError] = []

    def connect(*_: object, **__: object) -> None:
        raise failing[-1]

    monkeypatch.setattr(imaplib, "IMAP4_SSL", connect)
    failing.append(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    with pytest.raises(FatalSourceError, match=r"no host 'imap.nowhere.invalid'"):
        list(mail.read(None))
    failing.append(socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"))
    with pytest.raises(SourceUnavailable, match=r"^email: "):
        list(mail.read(None))


@pytest.mark.parametrize(("headers", "why"), [
    ("Auto-Submitted: auto-replied\n", "Auto-Submitted: auto-replied"),
    ("Auto-Submitted: no\n", ""),
    ("Precedence: bulk\n", "Precedence: bulk"),
    ("X-Autoreply: yes\n", "has X-Autoreply"),
    ("List-Unsubscribe: <mailto:u@list.example>\n", "has List-Unsubscribe"),
    ("", ""),
])
def test_automated_reasons_come_from_the_headers(headers: str, why: str) -> None:
    raw = (f"From: Sara <sara@example.com>\nTo: sales@shop.ir\n{headers}"
           "Subject: hi\n\nhello\n").encode()
    message = read_message(raw, folder="INBOX", received="", reading=Reading(None, (), 300))
    assert message.data["automated"] == why


@pytest.mark.parametrize(("sender", "machine"), [
    ("noreply@shop.ir", True), ("no-reply+orders@shop.ir", True), ("do-not-reply@x.ir", True),
    ("MAILER-DAEMON@mx.example", True), ("bounces@list.example", True),
    ("noreen@example.com", False), ("reply@example.com", False)])
def test_no_reply_senders_are_machines(sender: str, machine: bool) -> None:
    raw = f"From: {sender}\nTo: sales@shop.ir\nSubject: x\n\nbody\n".encode()
    message = read_message(raw, folder="INBOX", received="", reading=Reading(None, (), 300))
    assert bool(message.data["automated"]) is machine
