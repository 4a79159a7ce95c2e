"""The README's first run: the demo becomes exactly the true customer master.

Runs ``peyvand`` as a user does (a subprocess in an empty folder, shipped config) and
checks the result against ``pipelines/demo/truth.csv``, written by the demo generator.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Engine, func, select

from hub.store import quarantine
from hub.store.engine import open_engine
from hub.store.outbox import read
from hub.store.tables import masters, outbox, source_records

TRUTH = Path(__file__).resolve().parents[1] / "pipelines" / "demo" / "truth.csv"


def peyvand(cwd: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "hub", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == code, done.stderr
    return done


@pytest.fixture(name="demo", scope="module")
def _demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Engine, str]:
    cwd = tmp_path_factory.mktemp("demo")
    first = peyvand(cwd, "run", code=3)   # 3: new entries in quarantine (seven bad values)
    engine = open_engine(f"sqlite:///{cwd}/.peyvand/master.sqlite")
    return cwd, engine, first.stdout


@pytest.fixture(name="truth", scope="module")
def _truth() -> list[dict[str, str]]:
    with TRUTH.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _clusters(engine: Engine) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    with engine.connect() as conn:
        for system, sid, master in conn.execute(select(
                source_records.c.source_system, source_records.c.source_id,
                source_records.c.master_id)):
            out[master].add((system, sid))
    return out


def test_master_is_exactly_the_true_clustering(demo, truth) -> None:  # type: ignore[no-untyped-def]
    _, engine, summary = demo
    persons: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for row in truth:
        if row["person"]:
            persons[row["person"]].add((row["source_system"], row["source_id"]))
    found = _clusters(engine)
    assert len(persons) > 100  # the demo is not trivially small
    assert {frozenset(c) for c in found.values()} == {frozenset(c) for c in persons.values()}
    with engine.connect() as conn:
        active = conn.execute(select(func.count()).select_from(masters)
                              .where(masters.c.status == "active")).scalar_one()
    assert active == len(persons)
    assert f"Customer master: {len(persons)} customers." in summary


def test_named_merges(demo, truth) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = demo
    master_of = {ref: m for m, refs in _clusters(engine).items() for ref in refs}
    notes = {(r["source_system"], r["source_id"]): r["note"] for r in truth}
    # The bridge: a mobile-only record and an e-mail-only record joined by a third one.
    bridge = [ref for ref, note in notes.items() if note.startswith("bridge")]
    assert len(bridge) == 3
    assert len({master_of[ref] for ref in bridge}) == 1
    kinds = {"arabic/persian letters + phone forms": "shared mobile",
             "spelling only (rule c)": "rule c only", "Latin vs Persian name": "Latin name"}
    for what, marker in kinds.items():
        pairs = [ref for ref, note in notes.items() if marker in note]
        assert pairs, f"the demo has no case of {what}"
        for ref in pairs:
            other = _referenced(notes[ref], ref[0])
            assert master_of[ref] == master_of[other], f"{what}: {ref} vs {other}"
    # Traps: namesakes and a family sharing a landline stay apart.
    for ref, note in notes.items():
        if "different person" in note:
            other = _referenced(note, ref[0])
            assert master_of[ref] != master_of[other], f"{ref} must not merge with {other}"


def _referenced(note: str, own_system: str) -> tuple[str, str]:
    """The first record id named in a truth note: 1017 (accounting) or L-0010 (sales)."""
    for word in note.replace(",", " ").replace(":", " ").split():
        if word.startswith("L-"):
            return ("sales", word)
        if word.isdigit() and len(word) == 4:
            return ("accounting", word)
    raise AssertionError(f"no record id in note {note!r} ({own_system})")


def test_every_invalid_value_is_set_aside_with_file_row_and_field(demo, truth) -> None:  # type: ignore[no-untyped-def]
    _, engine, summary = demo
    invalid = {(r["source_system"], r["source_id"]): r["invalid_field"]
               for r in truth if r["invalid_field"]}
    assert len(invalid) >= 5
    entries = {(e.source_system, e.source_id): e for e in quarantine.entries(engine)}
    assert set(entries) == set(invalid)
    for ref, field in invalid.items():
        entry = entries[ref]
        assert entry.kind == "values"
        assert [p.field.partition(":")[0] for p in entry.problems] == [field]
        sentence = entry.describe()
        file = "accounting_customers.csv" if ref[0] == "accounting" else "sales_leads.xlsx"
        assert sentence.startswith(file)
        assert " row " in sentence and f"record {ref[1]}" in sentence
        assert f"a value set aside: {entry.problems[0].field}:" in sentence
    # Each record reached the master, without the value that was set aside.
    with engine.connect() as conn:
        stored = dict(conn.execute(select(source_records.c.source_id,
                                          source_records.c.canonical).where(
            source_records.c.source_id.in_([sid for _, sid in invalid]))).all())
    assert set(stored) == {sid for _, sid in invalid}
    for (_, sid), field in invalid.items():
        assert not any(path.partition(":")[0] == field for path in stored[sid])
    assert read(engine, types=["record.rejected"]) == []
    assert "values set aside" in summary


def test_second_run_changes_and_publishes_nothing(demo) -> None:  # type: ignore[no-untyped-def]
    cwd, engine, _ = demo
    with engine.connect() as conn:
        before = conn.execute(select(func.max(outbox.c.seq))).scalar_one()
        versions = dict(conn.execute(select(masters.c.id, masters.c.version)).all())
    second = peyvand(cwd, "run")
    assert "Events published: 0." in second.stdout
    # The files are unchanged, so each pipeline resumes after its last row: nothing read.
    rows = [line.split("│") for line in second.stdout.splitlines() if "│" in line]
    assert {cells[1].strip(): cells[2].strip() for cells in rows} == {
        "accounting_customers": "0", "sales_leads": "0", "contact_form": "0"}
    with engine.connect() as conn:
        assert conn.execute(select(func.max(outbox.c.seq))).scalar_one() == before
        assert dict(conn.execute(select(masters.c.id, masters.c.version)).all()) == versions


def test_events_are_published_once_with_ids_and_versions(demo) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = demo
    events = read(engine)
    assert all(e.published_at is not None for e in events)
    assert len({e.event_id for e in events}) == len(events)
    created = [e for e in events if e.type == "customer.created"]
    assert created and all(e.version == 1 for e in created)
    by_master: dict[str, list[int]] = defaultdict(list)
    for e in events:
        if e.type.startswith("customer."):
            by_master[e.subject].append(e.version)  # type: ignore[arg-type]
    assert all(v == list(range(1, len(v) + 1)) for v in by_master.values())


def test_xref_export_has_one_row_per_accepted_record(demo, truth, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cwd, engine, _ = demo
    xref = tmp_path / "xref.csv"
    peyvand(cwd, "export", "--xref", str(xref))
    with xref.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    accepted = {(r["source_system"], r["source_id"]) for r in truth if r["person"]}
    assert {(r["source_system"], r["source_id"]) for r in rows} == accepted
    assert len(rows) == len(accepted)
    master_of = {ref: m for m, refs in _clusters(engine).items() for ref in refs}
    assert all(master_of[(r["source_system"], r["source_id"])] == r["master_id"] for r in rows)


def test_exports_and_lookups(demo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cwd, engine, _ = demo
    with engine.connect() as conn:
        active = conn.execute(select(func.count()).select_from(masters)
                              .where(masters.c.status == "active")).scalar_one()
    xml = tmp_path / "master.xml"
    peyvand(cwd, "export", "--format", "xml", "-o", str(xml))
    tree = etree.parse(str(xml), etree.XMLParser(resolve_entities=False, no_network=True))
    assert len(tree.getroot()) == active
    csv_out = peyvand(cwd, "export", "--format", "csv").stdout
    assert len(list(csv.DictReader(csv_out.splitlines()))) == active
    # Search folds Arabic letters and finds Latin spellings through the skeleton.
    master_id = next(iter(_clusters(engine)))
    shown = peyvand(cwd, "master", "show", master_id).stdout
    assert master_id in shown and "Linked source records:" in shown
    events = peyvand(cwd, "events", "--from", "0", "--limit", "3").stdout.splitlines()
    assert len(events) == 3


def test_search_is_folded_and_cross_script(demo, truth) -> None:  # type: ignore[no-untyped-def]
    cwd, engine, _ = demo
    latin = next((r["source_id"], _referenced(r["note"], "sales")) for r in truth
                 if "Latin name" in r["note"])
    with engine.connect() as conn:
        rows = {r.source_id: r for r in conn.execute(select(source_records).where(
            source_records.c.source_id.in_([latin[0], latin[1][1]])))}
    sales, accounting = rows[latin[0]], rows[latin[1][1]]
    assert sales.master_id == accounting.master_id
    persian = accounting.canonical["name.full"][0][0]
    typed_in_arabic = persian.replace("ی", "ي").replace("ک", "ك")
    assert sales.master_id in peyvand(cwd, "master", "search", typed_in_arabic).stdout
    family_latin = sales.raw["Last Name"]
    assert family_latin.isascii()
    assert sales.master_id in peyvand(cwd, "master", "search", family_latin).stdout


def test_search_by_each_kind_of_key(demo) -> None:  # type: ignore[no-untyped-def]
    """An e-mail, a mobile in the forms people type it, a national code and a source
    record's system/id each find the customer that holds it, and only that one."""
    cwd, engine, _ = demo
    with engine.connect() as conn:
        records = list(conn.execute(select(source_records)))
    holder = next(r for r in records if r.canonical.get("nationalCode")
                  and r.canonical.get("phones.phone:mobile") and r.canonical.get("emails.email"))
    mobile = holder.canonical["phones.phone:mobile"][0][0]          # +989…
    local = "0" + mobile[3:6] + " " + mobile[6:9] + " " + mobile[9:]
    persian = local.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    for key in (holder.canonical["emails.email"][0][0].upper(), mobile, local, persian,
                holder.canonical["nationalCode"][0][0], f"{holder.source_system}/"
                f"{holder.source_id}"):
        found = peyvand(cwd, "master", "search", key).stdout
        assert holder.master_id in found, key
        assert found.count("│ C") == 1, (key, found)
    assert "No customer matches" in peyvand(cwd, "master", "search", "nobody@example.com").stdout
