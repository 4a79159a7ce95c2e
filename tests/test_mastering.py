"""Manual merge, unmerge and the merge history, on SQLite and PostgreSQL: an unmerge puts
back exactly the masters that were there before the merge, and announces it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import Engine, select

from hub.app import Hub
from hub.errors import MasteringRefused
from hub.records import CanonicalRecord, RawRecord, Target
from hub.store import interactions
from hub.store.engine import unit_of_work
from hub.store.outbox import read
from hub.store.tables import blocking_keys, links, masters, merge_history, source_records
from hub.store.tables import interactions as interaction_rows
from hub.testing import national_code, project, record

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" /
                     "events.schema.json").read_text(encoding="utf-8"))
_PATHS = {"name": "name.full", "nc": "nationalCode", "email": "emails.email",
          "mobile": "phones.phone:mobile"}
_sr = source_records.c


@pytest.fixture(name="hub")
def _hub(engine: Engine, tmp_path: Path) -> Hub:
    """A Hub with the default settings on the parametrized store (SQLite, PostgreSQL)."""
    return Hub(project(tmp_path, {}, {}).config, engine=engine)


def _rec(system: str, sid: str, **fields: str) -> tuple[CanonicalRecord, RawRecord]:
    return record(system, sid, {"kind": "person",
                                **{_PATHS[k]: v for k, v in fields.items()}})


def _ingest(hub: Hub, *batch: tuple[CanonicalRecord, RawRecord]) -> None:
    with unit_of_work(hub.engine, "test batch") as conn:
        hub.masters().ingest(conn, batch)


def _sms(hub: Hub, sid: str, mobile: str) -> None:
    with unit_of_work(hub.engine, "test interactions") as conn:
        interactions.record(conn, [record("sms", sid, {
            "channel": "sms", "direction": "inbound", "occurredAt": "2026-11-20T10:00:00+03:30",
            "summary": "سلام", "contact.phone:mobile": mobile}, Target.INTERACTION)])


def _master_of(hub: Hub, system: str, sid: str) -> str:
    with hub.engine.connect() as conn:
        return str(conn.execute(select(_sr.master_id).where(
            _sr.source_system == system, _sr.source_id == sid)).scalar_one())


def _state(hub: Hub, master_id: str) -> dict[str, Any]:
    """What an unmerge must restore: the stored row (but its version), its records, their
    blocking keys, its interactions."""
    with hub.engine.connect() as conn:
        row = conn.execute(select(masters).where(masters.c.id == master_id)).one()
        records = conn.execute(select(_sr.id, _sr.closed_at).where(
            _sr.master_id == master_id).order_by(_sr.id)).all()
        keys = conn.execute(select(blocking_keys.c.key, blocking_keys.c.source_record_id)
                            .where(blocking_keys.c.master_id == master_id)
                            .order_by(blocking_keys.c.key)).all()
        seen = conn.execute(select(interaction_rows.c.source_id).where(
            interaction_rows.c.master_id == master_id)).scalars().all()
    return {"status": row.status, "merged_into": row.merged_into,
            "golden": json.dumps(row.golden, sort_keys=True, ensure_ascii=False),
            "search_text": row.search_text, "records": [tuple(r) for r in records],
            "keys": [tuple(k) for k in keys], "interactions": sorted(seen)}


def _two_people(hub: Hub) -> tuple[str, str]:
    """Maryam (erp/1, a mobile and an SMS) and Sara (web/a and web/b, an e-mail)."""
    _ingest(hub, _rec("erp", "1", name="مریم رضایی", mobile="+989121110000"))
    _ingest(hub, _rec("web", "a", name="سارا احمدی", email="sara@x.ir"),
            _rec("web", "b", name="Sara Ahmadi", email="sara@x.ir", mobile="+989351112233"))
    _sms(hub, "m-1", "+989351112233")
    a, b = _master_of(hub, "erp", "1"), _master_of(hub, "web", "a")
    assert a < b and _master_of(hub, "web", "b") == b
    return a, b


def _valid(hub: Hub) -> None:
    validator = Draft202012Validator(SCHEMA)
    for event in read(hub.engine):
        assert not list(validator.iter_errors(event.envelope())), event


def test_manual_merge_moves_everything_and_is_recorded(hub: Hub) -> None:
    a, b = _two_people(hub)
    merge = hub.merge(b, a, by="steward")   # the older id survives, in either order
    assert (merge.survivor, merge.absorbed, merge.kind) == (a, b, "manual")
    assert _state(hub, b)["records"] == [] and _state(hub, b)["keys"] == []
    after = _state(hub, a)
    assert (after["status"], len(after["records"])) == ("active", 3)
    assert after["interactions"] == ["m-1"]
    assert {k for k, _ in after["keys"]} >= {"em:sara@x.ir", "mo:+989121110000"}
    with hub.engine.connect() as conn:
        gone = conn.execute(select(masters).where(masters.c.id == b)).one()
        history = conn.execute(select(merge_history)).one()
        decisions = conn.execute(select(links.c.decision, links.c.evidence).where(
            links.c.master_id == a, links.c.decision == "merged")).all()
    assert (gone.status, gone.merged_into) == ("merged", a)
    assert (history.survivor, history.absorbed, history.kind) == (a, b, "manual")
    assert sorted(history.record_ids) == [r for r, _ in _state(hub, a)["records"]][1:]
    assert history.evidence["by"] == "steward" and history.undone_at is None
    assert len(decisions) == 2 and decisions[0].evidence["rule"] == "manual merge"
    merged = read(hub.engine, types=["customer.merged"])
    assert [(e.subject, e.data["merged_ids"]) for e in merged] == [(a, [b])]
    assert [s["id"] for s in merged[0].data["customer"]["sources"]] == ["1", "a", "b"]
    assert [m.absorbed for m in hub.merge_history(b)] == [b]
    _valid(hub)


def test_unmerge_restores_the_masters_exactly(hub: Hub) -> None:
    a, b = _two_people(hub)
    before = {m: _state(hub, m) for m in (a, b)}
    versions = {m: hub.customer(m).version for m in (a, b)}   # type: ignore[union-attr]
    hub.merge(a, b)
    assert _state(hub, a) != before[a]
    seq = read(hub.engine)[-1].seq
    done = hub.unmerge(a)   # the survivor's id: its newest merge
    assert (done.survivor, done.restored, done.records, done.interactions) == (a, b, 2, 1)
    assert done.not_restored == []
    assert {m: _state(hub, m) for m in (a, b)} == before
    new = read(hub.engine, after=seq)
    assert [(e.type, e.subject) for e in new] == [("customer.updated", a),
                                                  ("customer.unmerged", b)]
    assert new[1].data["unmerged_from"] == a
    assert new[1].version == versions[b] + 1 and new[0].version == versions[a] + 2
    assert [s["id"] for s in new[1].data["customer"]["sources"]] == ["a", "b"]
    with hub.engine.connect() as conn:
        assert conn.execute(select(merge_history.c.undone_at)).scalar_one() is not None
    with pytest.raises(MasteringRefused, match="no merge to undo"):
        hub.unmerge(a)
    _valid(hub)


def test_unmerge_undoes_an_automatic_merge(hub: Hub) -> None:
    _ingest(hub, _rec("erp", "1", name="رضا یزدانی", mobile="+989351112233"))
    _ingest(hub, _rec("web", "a", name="Reza Yazdani", email="reza@x.ir"))
    older, newer = _master_of(hub, "erp", "1"), _master_of(hub, "web", "a")
    before = {m: _state(hub, m) for m in (older, newer)}
    _ingest(hub, _rec("web", "b", email="reza@x.ir", mobile="+989351112233"))
    assert _master_of(hub, "web", "a") == older
    [merge] = hub.merge_history(newer)
    assert merge.evidence is not None
    assert (merge.kind, merge.survivor, merge.evidence["record"]) == (
        "auto", older, {"system": "web", "id": "b"})
    done = hub.unmerge(newer)   # a merged-away id names its own merge
    assert (done.restored, done.records) == (newer, 1)
    assert _state(hub, newer) == before[newer]
    # The survivor keeps what it had, plus the record that matched both.
    kept = _state(hub, older)
    assert kept["records"][:1] == before[older]["records"] and len(kept["records"]) == 2
    _valid(hub)


def test_unmerge_restores_what_is_left_and_says_what_it_could_not(hub: Hub) -> None:
    a, b = _two_people(hub)
    hub.merge(a, b)
    with unit_of_work(hub.engine, "web/b is gone") as conn:
        hub.masters().close(conn, [("web", "b")])
    done = hub.unmerge(b)
    assert done.records == 1 and len(done.not_restored) == 1
    assert done.not_restored[0].startswith("web/b: closed (gone from its source)")
    assert _master_of(hub, "web", "a") == b and _master_of(hub, "web", "b") == a
    view = hub.customer(b)
    assert view is not None and view.status == "active" and view.sources == ["web/a"]


def test_unmerge_in_a_chain_of_merges(hub: Hub) -> None:
    for sid, name in (("1", "Kaveh Kaviani"), ("2", "Arash Arashi"), ("3", "Zahra Zahedi")):
        _ingest(hub, _rec("erp", sid, name=name))
    x, a, z = (_master_of(hub, "erp", sid) for sid in "123")
    assert x < a < z
    hub.merge(a, z)
    hub.merge(x, a)   # z, merged into a earlier, now resolves to x too
    with pytest.raises(MasteringRefused, match=f"its survivor {a} was merged into {x} since"):
        hub.unmerge(z)
    done = hub.unmerge(a)
    assert (done.restored, done.records) == (a, 2)   # a's record and z's, which a held
    view = hub.customer(z)
    assert view is not None and view.id == a and view.resolved_from == z
    hub.unmerge(z)
    assert [hub.customer(m).sources for m in (x, a, z)] == [   # type: ignore[union-attr]
        ["erp/1"], ["erp/2"], ["erp/3"]]


def test_merges_that_cannot_be_done_are_refused(hub: Hub) -> None:
    a, b = _two_people(hub)
    _ingest(hub, _rec("erp", "2", name="Kian Kiani", nc=national_code("001234567")),
            _rec("erp", "3", name="Kian Kiani Jr", nc=national_code("002345678")))
    c, d = sorted((_master_of(hub, "erp", "2"), _master_of(hub, "erp", "3")))
    with pytest.raises(MasteringRefused, match="into itself"):
        hub.merge(a, a)
    with pytest.raises(MasteringRefused, match="no customer CNOPE"):
        hub.merge(a, "CNOPE")
    with pytest.raises(MasteringRefused, match=r"different national codes \(field nationalC"):
        hub.merge(c, d)
    hub.merge(c, d, force=True)
    with pytest.raises(MasteringRefused, match=f"customer {d} is merged into {c}, not active"):
        hub.merge(a, d)
    with pytest.raises(MasteringRefused, match="no merge 99 in the merge history"):
        hub.unmerge("99")
    assert _state(hub, a)["status"] == _state(hub, b)["status"] == "active"


def test_the_commands_merge_list_unmerge_and_refuse(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from hub.cli import cli

    hub = project(tmp_path, {}, {})
    a, b = _two_people(hub)
    hub.close()
    config = ["--config", str(tmp_path / "config.yaml")]
    runner = CliRunner()
    done = runner.invoke(cli, [*config, "master", "merge", b, a])
    assert done.exit_code == 0, done.output
    assert f"Merged {b} into {a} (2 record(s) moved)" in done.output
    listed = runner.invoke(cli, [*config, "master", "history", b, "--json"])
    [row] = json.loads(listed.output)
    assert (row["survivor"], row["absorbed"], row["kind"]) == (a, b, "manual")
    again = runner.invoke(cli, [*config, "master", "merge", a, b])
    assert again.exit_code == 2 and f"customer {b} is merged into {a}" in again.output
    undone = runner.invoke(cli, [*config, "master", "unmerge", str(row["id"])])
    assert undone.exit_code == 0, undone.output
    assert f"{b} is active again with 2 record(s) and 1 interaction(s)" in undone.output
    asked = runner.invoke(cli, [*config, "erase", b, "--request", "T-1"], input="n\n")
    assert asked.exit_code == 1 and "cannot be undone" in asked.output
    assert Hub(hub.config).customer(b).status == "active"   # type: ignore[union-attr]
    erased = runner.invoke(cli, [*config, "erase", b, "--request", "T-1", "--yes", "--json"])
    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.output)["counts"]["source_records"] == 2
    _valid(hub)   # the unmerge's events, blanked by the erasure, still follow the schema
    about_b = [e for e in read(hub.engine) if e.subject == b]
    assert [e.type for e in about_b] == ["customer.created", "customer.unmerged",
                                         "customer.erased"]
    assert about_b[0].data == about_b[1].data == {"erased": True}


def test_unmerge_undoes_a_merge_made_while_settling_a_conflict(hub: Hub) -> None:
    # Reza's e-mail (web/a) and his mobile (erp/1, erp/2) sit on two customers; erp/3
    # holds the mobile with another national code. web/x holds the e-mail and the mobile:
    # it matches all three, two of them vetoing each other, so the conflict is settled by
    # clustering again: web/a goes with erp/1 and erp/2 (the larger cluster keeps its id),
    # and its customer, left with none of its records, is merged into theirs.
    n1, n2 = national_code("001234567"), national_code("002345678")
    _ingest(hub, _rec("web", "a", name="رضا یزدانی", email="reza@x.ir"))
    _ingest(hub, _rec("erp", "1", name="رضا یزدانی", mobile="+989351112233", nc=n1),
            _rec("erp", "2", name="رضا یزدانی", mobile="+989351112233", nc=n1))
    _ingest(hub, _rec("erp", "3", name="رضا یزدانی", mobile="+989351112233", nc=n2))
    emptied, kept, apart = (_master_of(hub, *ref) for ref in (("web", "a"), ("erp", "1"),
                                                              ("erp", "3")))
    assert len({emptied, kept, apart}) == 3 and emptied < kept   # the older id is emptied

    def mapping() -> dict[tuple[str, str], str]:
        with hub.engine.connect() as conn:
            return {(s, i): m for s, i, m in conn.execute(
                select(_sr.source_system, _sr.source_id, _sr.master_id))}

    before = mapping()
    state = _state(hub, emptied)
    _ingest(hub, _rec("web", "x", name="رضا یزدانی", email="reza@x.ir",
                      mobile="+989351112233"))
    after = mapping()
    assert after[("web", "a")] == after[("web", "x")] == kept and after[("erp", "3")] == apart
    [merge] = hub.merge_history(emptied)
    with hub.engine.connect() as conn:
        web_a = conn.execute(select(_sr.id).where(_sr.source_id == "a")).scalar_one()
        gone = conn.execute(select(masters).where(masters.c.id == emptied)).one()
    assert (merge.kind, merge.survivor, merge.absorbed, merge.record_ids) == (
        "auto", kept, emptied, [web_a])
    assert merge.evidence == {"rule": "conflict settled, strongest links first",
                              "record": {"system": "web", "id": "x"}, "merged_from": emptied}
    assert (gone.status, gone.merged_into) == ("merged", kept)
    done = hub.unmerge(emptied)
    assert (done.survivor, done.restored, done.records, done.not_restored) == (
        kept, emptied, 1, [])
    restored = mapping()
    assert restored.pop(("web", "x")) == kept   # the record that caused it stays
    assert restored == before
    assert _state(hub, emptied) == state
    _valid(hub)
