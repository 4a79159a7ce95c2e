"""The e-mail adapter on the real messages in ../shared/samples/email (SOURCES.md there):
every one is read, the values a person would check are right, and the shipped
interaction mapping takes them or says why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.email import EmailAdapter
from hub.adapter import SourceContext
from hub.errors import RecordRejected
from hub.mapping import load_mapping
from hub.pipeline import Preparer
from hub.records import RawRecord

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"

pytestmark = pytest.mark.samples


@pytest.fixture(name="samples", scope="module")
def _samples(shared_samples: Path) -> Path:
    return shared_samples / "email"


def _read(samples: Path, **options: str) -> dict[str, RawRecord]:
    adapter = EmailAdapter.from_options({"path": str(samples), **options}, where="test",
                                        context=SourceContext(Path.cwd()))
    return {r.location: r for r in adapter.read(None)}


@pytest.fixture(name="records", scope="module")
def _records(samples: Path) -> dict[str, RawRecord]:
    """Every sample, read from the samples folder itself as a folder of .eml files,
    automated ones included."""
    return _read(samples, automated="read")


def test_messages_machines_sent_are_skipped_unless_asked_for(
        samples: Path, records: dict[str, RawRecord]) -> None:
    """A list post (Precedence: list), a newsletter (List-Id, a no-reply sender) and a
    bounce (multipart/report) are no customer's words: left out by default."""
    why = {name: r.data["automated"] for name, r in records.items() if r.data["automated"]}
    assert why == {"dovecot_014_yahoo_alternative.eml": "Precedence: list",
                   "spamscope_test_6_cyrillic.eml": "has List-Id",
                   "spamscope_malformed_2_bounce.eml": "a delivery or read report"}
    assert sorted(_read(samples)) == sorted(set(records) - set(why))


def test_every_sample_is_read_without_a_problem(samples: Path,
                                                records: dict[str, RawRecord]) -> None:
    assert sorted(records) == sorted(p.name for p in samples.glob("*.eml"))
    assert [name for name, r in records.items() if r.problem] == []
    assert len({r.source_id for r in records.values()}) == len(records)


@pytest.mark.parametrize(("sample", "expected"), [
    ("dovecot_014_yahoo_alternative.eml", {
        "from_name": "calpas calpas", "from_address": "calpas2007@yahoo.fr",
        "subject": "[Shapelib] need some help",
        "message_id": "325993.29502.qm@web28416.mail.ukl.yahoo.com"}),
    ("dovecot_015_encoded_subject_mixed.eml", {
        "from_name": "Jonas Sterr - ProxForge", "to_addresses": "jonas.sterr@gmx.net",
        "subject": "Re: (#5290765) Proxmox Shop E-Mails"}),
    ("spamscope_test_6_cyrillic.eml", {   # UTF-8 base64 name and a folded subject
        "from_name": "Время пришло", "from_address": "noreply@ggg.com",
        "subject": "Быстрее вкладывайте в золото!"}),
    ("spamscope_test_9_gb2312.eml", {"from_name": "xwfcpggy", "from_address": "zyb@sgis.com.cn"}),
    ("spamscope_test_17_encoded_addr.eml", {   # a display name that is only an address
        "from_name": "", "from_address": "notificaccion-clientes@bbva.mx",
        "subject": "Transferencia Interbancaria Banca en Línea", "summary": "Test"}),
    ("rfc_000_multipart_mixed.eml", {
        "from_name": "Nathaniel Borenstein", "to_addresses": "ned@innosoft.com",
        "date": "Fri, 07 Oct 1994 16:15:05 -0700 (PDT)"}),
    ("rfc_009_nested_multipart.eml", {"from_name": "Whomever", "summary": "Hello"}),
    ("dovecot_006_signed_binary.eml", {   # the text part, not the HTML one before it
        "subject": "Hide and seek", "summary": "Search me, and Find me here"}),
    ("dovecot_007_digest.eml", {   # a From without a domain: a name, no address
        "from_name": "Moderator-Address", "from_address": "", "subject": ""}),
])
def test_decoded_values(records: dict[str, RawRecord], sample: str,
                        expected: dict[str, str]) -> None:
    data = records[sample].data
    assert {key: data[key] for key in expected} == expected


def test_gb2312_subject_is_read_as_the_gbk_it_really_is(records: dict[str, RawRecord]) -> None:
    # Python's strict gb2312 codec fails on one of its characters; gb18030 reads them all.
    record = records["spamscope_test_9_gb2312.eml"]
    assert record.data["subject"].startswith("我把镜头拉近些，你们看看这个是什么")
    assert "\ufffd" not in record.data["subject"]
    assert len(record.data["to_addresses"].split(", ")) > 20


def test_the_malformed_bounce_still_yields_its_record(records: dict[str, RawRecord]) -> None:
    bounce = records["spamscope_malformed_2_bounce.eml"]
    assert bounce.problem is None
    assert bounce.source_id == "B0950073156@apus.netpar.com.br"
    assert bounce.data["from_address"] == "postmaster@netpar.com.br"
    assert bounce.data["subject"] == "Delivery failure (abh@netpar.com.br)"
    assert bounce.data["summary"].startswith("Your message has encountered delivery problems")


def test_the_interaction_mapping_takes_the_samples_or_says_why(
        records: dict[str, RawRecord]) -> None:
    prepare = Preparer(load_mapping(MAPPINGS / "email_interactions.yaml"), "mail")
    accepted, rejected = {}, {}
    for name, record in records.items():
        try:
            accepted[name] = prepare(record)
        except RecordRejected as exc:
            rejected[name] = " ".join(p.describe() for p in exc.problems)
    # Two Dovecot test mails have no Date header, and one no sender either.
    assert rejected == {
        "dovecot_006_signed_binary.eml": "contact: the interaction has no contact name, "
                                         "e-mail or phone, so nothing identifies who it was with",
        "dovecot_007_digest.eml": rejected["dovecot_007_digest.eml"]}
    assert "occurredAt" in rejected["dovecot_007_digest.eml"]
    yahoo = accepted["dovecot_014_yahoo_alternative.eml"]
    assert yahoo.first("occurredAt") == "2011-03-09T11:19:45+00:00"
    assert yahoo.first("contact.email") == "calpas2007@yahoo.fr"
    assert accepted["rfc_000_multipart_mixed.eml"].first("occurredAt") == \
        "1994-10-07T16:15:05-07:00"
