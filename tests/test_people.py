"""The seeded Persian people: the same for a seed, valid, and as hard as promised."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from hub.mapping import load_mapping
from hub.pipeline import Preparer
from hub.records import RawRecord
from hub.testing import persian_people
from hub.testing.people import FIELDS, SOURCES

MAPPING = Path(__file__).resolve().parent.parent / "benchmarks" / "persian_mapping.yaml"
ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


def _valid_code(code: str) -> bool:
    code = code.translate(ASCII).zfill(10)
    check = sum(int(d) * (10 - i) for i, d in enumerate(code[:9])) % 11
    return int(code[9]) == (check if check < 2 else 11 - check)


def test_a_seed_gives_the_same_records_and_another_seed_others() -> None:
    first = list(persian_people(3000, seed=5))
    assert first == list(persian_people(3000, seed=5))
    assert first != list(persian_people(3000, seed=6))
    assert len(first) == 3000
    assert all(set(r) == set(FIELDS) for r in first)


def test_records_are_spread_over_sources_and_people() -> None:
    records = list(persian_people(10_000, seed=1))
    people = defaultdict(list)
    for r in records:
        people[r["person"]].append(r)
    assert 5000 <= len(people) <= 6000
    assert max(len(rs) for rs in people.values()) == 4
    # A person's records come from different sources, each with its own id.
    assert all(len({r["source"] for r in rs}) == len(rs) for rs in people.values())
    assert len({(r["source"], r["source_id"]) for r in records}) == len(records)
    assert {r["source"] for r in records} == set(SOURCES)


def test_national_codes_are_valid_and_name_one_person() -> None:
    records = list(persian_people(10_000, seed=2))
    owner: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if r["national_code"]:
            owner[r["national_code"].translate(ASCII).zfill(10)].add(r["person"])
    assert len(owner) > 3000
    assert all(_valid_code(code) for code in owner)
    assert all(len(people) == 1 for people in owner.values())


def test_households_share_home_and_contacts_not_identity() -> None:
    records = list(persian_people(20_000, seed=3))
    by_landline: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in records:
        if r["source"] == "erp":
            by_landline[r["landline"]].append(r)
    shared = [rs for rs in by_landline.values() if len({r["person"] for r in rs}) > 1]
    assert len(shared) > 50
    for rs in shared:
        assert len({r["postal_code"] for r in rs}) == 1
        assert len({r["street"] for r in rs}) == 1
    mobile_owners: dict[str, set[str]] = defaultdict(set)
    for r in records:
        if r["source"] == "sms":
            mobile_owners[r["mobile"][-10:]].add(r["person"])
    assert any(len(people) > 1 for people in mobile_owners.values())


def test_namesakes_are_different_people_sharing_a_name_and_birth_year() -> None:
    records = list(persian_people(20_000, seed=4))
    born: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for r in records:
        if r["source"] == "crm" and r["family_name"][:1] >= "\u0600" and r["birth_date"]:
            born[(r["given_name"], r["family_name"], r["birth_date"][:4])].add(r["person"])
    assert sum(1 for people in born.values() if len(people) > 1) > 10


def test_every_record_goes_through_the_mapping() -> None:
    prepare = Preparer(load_mapping(MAPPING), "persian", system_column="source")
    records = [prepare(RawRecord(r["source_id"], r)) for r in persian_people(2000, seed=9)]
    assert {c.source_system for c in records} == set(SOURCES)
    assert sum(1 for c in records if c.set_aside) < 20
    assert all(c.display_name() for c in records)
    assert sum(1 for c in records if c.first("birthDate")) > 1000
