"""Survivorship: single-valued fields by source rank, consents by the latest statement."""

from __future__ import annotations

from hub.records import CanonicalRecord, Value
from hub.survivorship import Linked, build_golden


def _linked(system: str, rid: str, when: int, **fields: str) -> Linked:
    values = {path.replace("__", ".").replace("_sms", ":sms"): [Value(v, v)]
              for path, v in fields.items()}
    return Linked(CanonicalRecord(system, rid, "h", values), (0, when, when))


def _golden(*linked: Linked) -> dict[str, list[tuple[str, str]]]:
    fields = build_golden(linked, priority=["accounting", "sms"])["fields"]
    return {path: [(v["value"], v["source"]) for v in values]
            for path, values in fields.items()}


def test_a_consent_follows_the_latest_statement_whatever_the_rank() -> None:
    trusted = _linked("accounting", "1", 1, name__full="علی کریمی", consents__consent_sms="true")
    texted = _linked("sms", "kavenegar:9", 2, name__full="Ali", consents__consent_sms="false")
    golden = _golden(trusted, texted)
    assert golden["consents.consent:sms"] == [("false", "sms/kavenegar:9")]
    assert golden["name.full"] == [("علی کریمی", "accounting/1")]   # rank, as before


def test_a_later_record_without_a_consent_leaves_it() -> None:
    stop = _linked("sms", "kavenegar:1", 1, consents__consent_sms="false")
    hello = _linked("sms", "kavenegar:2", 2, phones__phone="+989121110001")
    start = _linked("sms", "kavenegar:3", 3, consents__consent_sms="true")
    assert _golden(stop, hello)["consents.consent:sms"] == [("false", "sms/kavenegar:1")]
    assert _golden(hello, start, stop)["consents.consent:sms"] == [("true", "sms/kavenegar:3")]


def test_an_older_statement_from_the_trusted_source_does_not_win_back() -> None:
    newer = _linked("sms", "kavenegar:5", 5, consents__consent_sms="false")
    older = _linked("accounting", "1", 4, consents__consent_sms="true")
    assert _golden(older, newer)["consents.consent:sms"] == [("false", "sms/kavenegar:5")]
