"""The master repository on SQLite and PostgreSQL: a plan applied, its events, its evidence."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select

from hub.matching import MatchSettings
from hub.records import CanonicalRecord, RawRecord
from hub.store.outbox import read
from hub.store.queries import count_masters, get_master
from hub.store.tables import blocking_keys, links, masters, source_records
from hub.testing import ingest, record

_PATHS = {"name": "name.full", "nc": "nationalCode", "email": "emails.email",
          "mobile": "phones.phone:mobile", "birth": "birthDate"}


def _rec(system: str, sid: str, **fields: str) -> tuple[CanonicalRecord, RawRecord]:
    return record(system, sid, {_PATHS[k]: v for k, v in fields.items()})


def _ingest(engine: Engine, batch: list[Any], priority: tuple[str, ...] = ("erp",)) -> Any:
    return ingest(engine, batch, priority)


def _master_of(engine: Engine, system: str, sid: str) -> str:
    with engine.connect() as conn:
        return conn.execute(select(source_records.c.master_id).where(
            source_records.c.source_system == system, source_records.c.source_id == sid)
        ).scalar_one()


def test_duplicates_within_a_batch_become_one_master(engine: Engine) -> None:
    out = _ingest(engine, [
        _rec("erp", "1", name="علي كريمي", mobile="+989121234567"),
        _rec("erp", "2", name="علی کریمی", mobile="+989121234567", email="ali@x.ir"),
        _rec("erp", "3", name="سارا احمدی", email="sara@x.ir"),
    ])
    assert len(out.created) == 2 and out.linked == 1 and out.merged == 0
    assert _master_of(engine, "erp", "1") == _master_of(engine, "erp", "2")
    assert count_masters(engine) == 2
    events = read(engine)
    assert [e.type for e in events] == ["customer.created", "customer.created"]
    assert all(e.version == 1 for e in events)


def test_second_run_changes_and_publishes_nothing(engine: Engine) -> None:
    batch = [_rec("erp", "1", name="علی کریمی", mobile="+989121234567")]
    _ingest(engine, batch)
    before = len(read(engine))
    out = _ingest(engine, batch)
    assert out.unchanged == 1 and out.events == 0 and not out.created
    assert len(read(engine)) == before


def test_a_record_holding_two_masters_keys_merges_them(engine: Engine) -> None:
    _ingest(engine, [_rec("erp", "1", name="رضا یزدانی", mobile="+989351112233")])
    _ingest(engine, [_rec("web", "a", name="Reza Yazdani", email="reza@x.ir")])
    older, newer = _master_of(engine, "erp", "1"), _master_of(engine, "web", "a")
    assert older != newer
    out = _ingest(engine, [_rec("web", "b", email="reza@x.ir", mobile="+989351112233")])
    assert out.merged == 1
    for sid in (("erp", "1"), ("web", "a"), ("web", "b")):
        assert _master_of(engine, *sid) == older
    with engine.connect() as conn:
        row = conn.execute(select(masters).where(masters.c.id == newer)).one()
        assert (row.status, row.merged_into) == ("merged", older)
        stale = conn.execute(select(func.count()).select_from(blocking_keys)
                             .where(blocking_keys.c.master_id == newer)).scalar_one()
        assert stale == 0
    merged = read(engine, types=["customer.merged"])
    assert len(merged) == 1 and merged[0].subject == older
    assert merged[0].data["merged_ids"] == [newer]
    assert merged[0].data["customer"]["id"] == older
    assert merged[0].version == 2
    view = get_master(engine, older)
    assert view is not None and view.sources == ["erp/1", "web/a", "web/b"]
    # Survivorship: erp is trusted first, so its name wins; every phone and e-mail stays.
    assert view.display_name == "رضا یزدانی"
    assert [v.value for v in view.values if v.path == "emails.email"] == ["reza@x.ir"]
    # The links say why: web/a was moved by the merge that web/b's e-mail and mobile made.
    why = {(r.source_system, r.source_id): (r.decision, r.evidence) for r in view.records}
    assert why[("web", "a")][0] == "merged"
    assert why[("web", "a")][1]["record"] == {"system": "web", "id": "b"}
    assert why[("web", "a")][1]["merged_from"] == newer
    assert why[("web", "b")][0] == "joined"
    # The merged-away id resolves to its survivor, which lists it.
    assert view.merged_ids == [newer] and view.resolved_from is None
    resolved = get_master(engine, newer)
    assert resolved is not None
    assert (resolved.id, resolved.resolved_from, resolved.status) == (older, newer, "active")
    assert get_master(engine, "C000NOSUCHID") is None


def test_changed_record_moves_and_old_master_retires(engine: Engine) -> None:
    _ingest(engine, [_rec("erp", "1", name="مینا رحیمی", email="mina@x.ir"),
                     _rec("erp", "2", name="نگار صالحی", email="negar@x.ir")])
    old = _master_of(engine, "erp", "2")
    # The source corrected record 2: it was Mina all along.
    out = _ingest(engine, [_rec("erp", "2", name="مینا رحیمی", email="mina@x.ir")])
    assert out.changed == 1
    assert _master_of(engine, "erp", "2") == _master_of(engine, "erp", "1")
    view = get_master(engine, old)
    assert view is not None and view.status == "retired" and view.records == []
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(source_records)).scalar_one()
    assert total == 2


def test_namesakes_stay_apart_and_families_too(engine: Engine) -> None:
    out = _ingest(engine, [
        _rec("erp", "1", name="محمد احمدی", birth="1980-01-01"),
        _rec("erp", "2", name="محمد احمدی", birth="1991-05-05"),
        _rec("erp", "3", name="حسن رضایی", nc="0076229645", mobile="+989121230000"),
        _rec("erp", "4", name="مریم رضایی", nc="1583250689", mobile="+989121230000"),
    ])
    assert len(out.created) == 4


def test_a_master_never_gathers_two_national_codes(engine: Engine) -> None:
    # Father and son, each with his own national code; the family e-mail on both.
    _ingest(engine, [_rec("erp", "1", name="حسن رضایی", nc="0076229645", email="home@x.ir"),
                     _rec("erp", "2", name="علی رضایی", nc="1583250689", mobile="+989121110000")])
    father, son = _master_of(engine, "erp", "1"), _master_of(engine, "erp", "2")
    assert father != son
    # The son's record again, with the family e-mail: it joins the son, not the father.
    _ingest(engine, [_rec("erp", "3", name="علی رضایی", nc="1583250689", email="home@x.ir")])
    assert _master_of(engine, "erp", "3") == son
    # A record without a national code that touches both: no merge of the two people.
    out = _ingest(engine, [_rec("web", "a", email="home@x.ir", mobile="+989121110000")])
    assert out.merged == 0
    assert father != _master_of(engine, "erp", "2")
    assert count_masters(engine) == 2


def test_an_edited_record_with_no_other_match_keeps_its_master_id(engine: Engine) -> None:
    _ingest(engine, [_rec("erp", "1", name="نگار صالحی", email="negar@x.ir")])
    master = _master_of(engine, "erp", "1")
    out = _ingest(engine, [_rec("erp", "1", name="نگار صالحی", email="negar.new@x.ir")])
    assert out.changed == 1 and out.created == []
    assert _master_of(engine, "erp", "1") == master
    updated = read(engine, types=["customer.updated"])
    assert [(e.subject, e.version) for e in updated] == [(master, 2)]
    assert updated[0].data["customer"]["fields"]["emails.email"] == [
        {"value": "negar.new@x.ir", "source": {"system": "erp", "id": "1"}, "rule": "union"}]


def test_every_decision_is_kept_with_its_evidence(engine: Engine) -> None:
    _ingest(engine, [_rec("erp", "1", name="علی کریمی", mobile="+989121234567"),
                     _rec("erp", "2", name="Ali Karimi", mobile="+989121234567")])
    _ingest(engine, [_rec("erp", "2", name="Ali Karimi", mobile="+989121234567",
                          email="ali@x.ir")])
    with engine.connect() as conn:
        rows = conn.execute(select(source_records.c.source_id, links.c.decision,
                                   links.c.evidence)
                            .join(links, links.c.source_record_id == source_records.c.id)
                            .order_by(links.c.id)).all()
    assert [(sid, decision) for sid, decision, _ in rows] == [
        ("1", "new"), ("2", "joined"), ("2", "joined")]
    evidence = rows[1].evidence
    assert evidence["record"] == {"system": "erp", "id": "1"}
    assert evidence["levels"]["mobile"] == "exact"
    assert evidence["levels"]["given_name"] == "same skeleton"   # علی / Ali
    assert evidence["score"] >= MatchSettings().matcher().match
