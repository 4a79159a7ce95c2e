"""Field-level quarantine: a bad value is set aside and the record goes on; a record waits
whole only when a strict field is bad, nothing identifying is left, or XML cannot hold it.
Every problem of a record is named at once, and a replay after a fix restores the values."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from hub.app import Hub
from hub.store.tables import source_records
from hub.testing import project

MAPPING = ("fields:\n  kind: {constant: person}\n  name.full: {from: name}\n"
           "  phones.phone:mobile: {from: mobile}\n  emails.email: {from: email}\n"
           "  birthDate: {from: born, calendar: CAL}\n  addresses.address.city: {from: city}\n")


def _hub(root: Path, rows: str, *, calendar: str = "jalali", strict: str = "") -> Hub:
    (root / "people.csv").write_text("id,name,mobile,email,born,city\n" + rows,
                                     encoding="utf-8")
    mapping = MAPPING.replace("CAL", calendar)
    if strict:
        mapping = mapping.replace(f"{{from: {strict}}}", f"{{from: {strict}, strict: true}}")
    return project(root, {"crm": ("spreadsheet", "{path: ../people.csv, id_column: id}",
                                  "people.yaml")}, {"people.yaml": mapping})


def _stored(hub: Hub, source_id: str) -> dict[str, list[str]]:
    """The standardized values of a stored record, by path."""
    with hub.engine.connect() as conn:
        row = conn.execute(select(source_records.c.canonical)
                           .where(source_records.c.source_id == source_id)).scalar_one()
    return {path: [v for v, _ in values] for path, values in row.items()}


def test_one_bad_optional_value_is_set_aside_and_the_record_goes_on(tmp_path: Path) -> None:
    hub = _hub(tmp_path, "1,علی کریمی,09121234567,ali@x.ir,1367/07/31,تهران\n")
    [stats] = hub.run()
    assert (stats.created, stats.rejected, stats.set_aside) == (1, 0, 1)
    stored = _stored(hub, "1")
    assert "birthDate" not in stored
    assert stored["phones.phone:mobile"] == ["+989121234567"]
    [entry] = hub.quarantine()
    assert entry.kind == "values" and entry.stage == "standardize"
    assert "accepted, a value set aside: birthDate: '1367/07/31'" in entry.describe()


def test_every_problem_of_a_record_is_named_at_once(tmp_path: Path) -> None:
    hub = _hub(tmp_path, "1,علی کریمی,0912abc,ali@@x.ir,1367/07/31,تهران\n")
    hub.run()
    [entry] = hub.quarantine()
    assert [p.field for p in entry.problems] == ["phones.phone:mobile", "emails.email",
                                                 "birthDate"]
    assert "3 values set aside" in entry.describe()


def test_a_strict_field_holds_the_whole_record_with_every_problem(tmp_path: Path) -> None:
    hub = _hub(tmp_path, "1,علی کریمی,0912abc,ali@@x.ir,1367/07/31,تهران\n"
                         "2,سارا احمدی,09351112233,sara@x.ir,1370/01/02,کرج\n",
               strict="mobile")
    [stats] = hub.run()
    assert (stats.created, stats.rejected) == (1, 1)
    [entry] = hub.quarantine()
    assert entry.kind == "record" and entry.source_id == "1"
    assert entry.reason.startswith("3 problems: phones.phone:mobile:")
    assert hub.events(types=["record.rejected"])[0].data["source"]["id"] == "1"


def test_a_record_with_nothing_identifying_left_waits_whole(tmp_path: Path) -> None:
    hub = _hub(tmp_path, "1,,0912abc,ali@@x.ir,,تهران\n")
    [stats] = hub.run()
    assert (stats.created, stats.rejected) == (0, 1)
    [entry] = hub.quarantine()
    assert entry.kind == "record"
    assert [p.field for p in entry.problems] == ["phones.phone:mobile", "emails.email",
                                                 "name.full"]
    assert "nothing identifies the customer" in entry.reason


def test_a_replay_after_a_mapping_fix_restores_the_value(tmp_path: Path) -> None:
    # The source writes Gregorian dates; the mapping said Jalali.
    hub = _hub(tmp_path, "1,علی کریمی,09121234567,ali@x.ir,1986-07-03,تهران\n")
    hub.run()
    assert "birthDate" not in _stored(hub, "1")
    master = hub.search("علی کریمی")[0].id
    fixed = _hub(tmp_path, "1,علی کریمی,09121234567,ali@x.ir,1986-07-03,تهران\n",
                 calendar="gregorian")
    assert fixed.replay() == (1, 0)
    assert _stored(fixed, "1")["birthDate"] == ["1986-07-03"]
    assert fixed.quarantine() == []
    view = fixed.customer(master)
    assert view is not None and ("birthDate", "1986-07-03") in [
        (v.path, v.value) for v in view.values]


def test_the_source_fixing_a_value_closes_its_entry(tmp_path: Path) -> None:
    hub = _hub(tmp_path, "1,علی کریمی,09121234567,ali.x.ir,,تهران\n")
    hub.run()
    assert len(hub.quarantine()) == 1
    hub = _hub(tmp_path, "1,علی کریمی,09121234567,ali@x.ir,,تهران\n")
    [stats] = hub.run()
    assert stats.changed == 1 and hub.quarantine() == []
    assert _stored(hub, "1")["emails.email"] == ["ali@x.ir"]


@pytest.mark.parametrize("char", [chr(c) for c in [*range(1, 9), 0x0B, 0x0C,
                                                   *range(0x0E, 0x20), 0xFFFE, 0xFFFF]])
def test_characters_xml_cannot_hold_never_stop_a_run(tmp_path: Path, char: str) -> None:
    # Finding H1: one such character in a name or a city crashed every run for good.
    hub = _hub(tmp_path, f"1,Good Before,09121000001,a1@x.ir,,Tehran\n"
                         f"2,Bad{char}Name,09121000002,a2@x.ir,,Teh{char}ran\n"
                         f"3,Good After,09121000003,a3@x.ir,,Tehran\n")
    [stats] = hub.run()
    assert (stats.read, stats.created, stats.rejected) == (3, 3, 0)
    stored = _stored(hub, "2")
    assert stored["name.full"] == ["BadName"] and stored["addresses.address.city"] == ["Tehran"]
