"""schemas/interaction.xsd validates real interactions and rejects broken ones."""

from __future__ import annotations

import pytest
from lxml import etree

from hub.resources import data_dir
from hub.schema_model import HARDENED_PARSER, load_model

GOOD = """<interaction xmlns="urn:peyvand:interaction:v1">
  <source system="sms" id="kavenegar-8812"/>
  <channel>sms</channel>
  <direction>inbound</direction>
  <occurredAt>2026-11-22T09:15:00Z</occurredAt>
  <summary raw="سلام، لطفا با من تماس بگيريد">سلام، لطفا با من تماس بگیرید</summary>
  <contact><phone type="mobile" raw="09121234567">+989121234567</phone></contact>
</interaction>"""


def test_interaction_schema_accepts_a_real_sms() -> None:
    model = load_model("interaction")
    assert model.namespace == "urn:peyvand:interaction:v1"
    assert model.validator.validate(etree.fromstring(GOOD.encode(), HARDENED_PARSER))
    assert "contact.phone" in model.fields


@pytest.mark.parametrize(("broken", "needle"), [
    (GOOD.replace("<channel>sms</channel>", "<channel>pigeon</channel>"), "channel"),
    (GOOD.replace("2026-11-22T09:15:00Z", "1405/09/01"), "occurredAt"),
    (GOOD.replace("+989121234567", "09121234567"), "phone"),
])
def test_interaction_schema_rejects_with_the_element_named(broken: str, needle: str) -> None:
    validator = load_model("interaction").validator
    assert not validator.validate(etree.fromstring(broken.encode(), HARDENED_PARSER))
    assert needle in str(validator.error_log.last_error.message)


def test_hardened_parser_does_not_expand_entities(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    hostile = (f'<!DOCTYPE x [<!ENTITY s SYSTEM "file://{secret}">]>'
               '<x>&s;</x>').encode()
    root = etree.fromstring(hostile, HARDENED_PARSER)
    assert "TOP-SECRET" not in etree.tostring(root, encoding=str)
    assert (data_dir("schemas") / "interaction.xsd").exists()
