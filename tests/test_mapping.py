"""YAML mappings: checked against the XSD at load time, applied as pure restructuring."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import MappingError, MappingFailed
from hub.mapping import load_mapping
from hub.records import RawRecord


def _write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_mappings_load() -> None:
    root = Path(__file__).resolve().parents[1] / "mappings"
    loaded = [load_mapping(p) for p in sorted(root.glob("*.yaml"))]
    assert len(loaded) >= 2
    assert all(m.rules for m in loaded)


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    path = _write(tmp_path, """
fields:
  nationalcode:          {from: a}
  phones.phone:pager:    {from: b}
  lifecycleStage:        {from: c, lookup: {x: vip}}
  birthDate:             {from: [d, e]}
  name.full:             {from: f, constant: g}
  name.given:            {frm: h}
""")
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    problems = info.value.problems
    text = "\n".join(problems)
    assert "Did you mean 'nationalCode'" in text
    assert "'pager' is not a type of phones.phone (allowed: mobile, landline, fax, other)" in text
    assert "'vip' is not a valid lifecycleStage" in text
    assert "birthDate holds one value" in text
    assert "exactly one of from, join, constant (got from, constant)" in text
    assert "unknown key 'frm'. Did you mean 'from'?" in text
    assert len(problems) >= 6
    assert str(path) in str(info.value)


def test_a_stylesheet_that_is_not_xml_is_a_mapping_error_naming_the_file(
        tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="not well-formed XML") as info:
        load_mapping(_write(tmp_path, "<xsl:stylesheet/>", "m.xslt"))
    assert "m.xslt" in str(info.value)


def test_operations(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, """
fields:
  kind:                 {constant: person}
  name.given:           {from: Full Name, split: " ", take: all_but_last}
  name.family:          {from: Full Name, split: " ", take: last}
  addresses.address.street: {join: [Street, Alley], with: "، "}
  emails.email:         {from: [Email, Email 2]}
  lifecycleStage:       {from: Stage, lookup: {مشتری: customer, Lead: lead}, default: prospect}
  nationalCode:         {from: كد ملي}
"""))
    raw = RawRecord("r1", {"Full Name": "محمد رضا کریمی", "Street": "ولیعصر", "Alley": None,
                           "Email": "a@x.ir", "Email 2": "b@x.ir", "Stage": "مشتري",
                           "کد ملی": 76229645})
    assert mapping.apply(raw) == {
        "kind": ["person"],
        "name.given": ["محمد رضا"],
        "name.family": ["کریمی"],
        "addresses.address.street": ["ولیعصر"],
        "emails.email": ["a@x.ir", "b@x.ir"],
        # Arabic ي in the cell still finds the lookup entry written with Persian ی.
        "lifecycleStage": ["customer"],
        # The mapping names the column with Arabic letters, the source with Persian ones.
        "nationalCode": ["76229645"],
    }
    other = RawRecord("r2", {"Full Name": "Sara", "Street": None, "Alley": None, "Email": None,
                             "Email 2": None, "Stage": "Unknown", "کد ملی": None})
    assert mapping.apply(other) == {"kind": ["person"], "name.given": ["Sara"],
                                    "lifecycleStage": ["prospect"]}


def test_lookup_miss_without_default_rejects_the_record(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, "fields:\n  lifecycleStage: "
                                            "{from: Stage, lookup: {Lead: lead}}\n"))
    with pytest.raises(MappingFailed) as info:
        mapping.apply(RawRecord("r9", {"Stage": "VIP"}))
    assert info.value.field == "lifecycleStage"
    assert "'VIP'" in info.value.reason and "lookup" in info.value.reason


def test_missing_column_is_a_mapping_error_naming_the_columns(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, "fields:\n  name.full: {from: Name}\n"))
    with pytest.raises(MappingError) as info:
        mapping.apply(RawRecord("r1", {"Nom": "x"}, "f.csv row 2"))
    assert "column 'Name' is not in the source (f.csv row 2)" in str(info.value)
    assert "'Nom'" in str(info.value)


def test_an_interaction_mapping_is_checked_against_its_own_schema(tmp_path: Path) -> None:
    good = load_mapping(_write(tmp_path, """
target: interaction
fields:
  channel:              {constant: sms}
  direction:            {constant: inbound}
  occurredAt:           {from: received, timezone: Asia/Tehran}
  contact.phone:mobile: {from: sender}
"""))
    assert good.target == "interaction" and good.model.root == "interaction"
    with pytest.raises(MappingError) as info:
        load_mapping(_write(tmp_path, """
target: interaction
fields:
  channel:     {constant: fax}
  name.full:   {from: name}
  occurredAt:  {from: received, calendar: jalali}
""", "bad.yaml"))
    text = "\n".join(info.value.problems)
    assert "'fax' is not a valid channel in interaction.xsd" in text
    assert "'name.full' is not a field of interaction.xsd" in text
    assert "calendar applies to dates only" in text


def test_an_unknown_target_gets_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="Did you mean 'customer'"):
        load_mapping(_write(tmp_path, "target: customers\nfields: {kind: {constant: person}}\n"))


def test_a_yaml_mapping_refuses_an_xml_record_by_name(tmp_path: Path) -> None:
    from lxml import etree

    mapping = load_mapping(_write(tmp_path, "fields:\n  name.full: {from: name}\n"))
    record = RawRecord("p1", etree.fromstring("<party><name>Ali</name></party>"))
    with pytest.raises(MappingFailed, match="XSLT mapping"):
        mapping.apply(record)
