"""The review queue and ``peyvand explain`` on SQLite and PostgreSQL: pairs queued once,
listed with both sides, accepted (merged) or rejected (never linked again), decisions
kept in the store across Hubs, and the commands a data steward runs."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from hub.app import Hub
from hub.cli import cli
from hub.errors import MasteringRefused
from hub.matching import MatchSettings
from hub.matching.explain import Explanation, FieldWeight
from hub.store.engine import read, unit_of_work
from hub.store.review import (
    ReviewError,
    accepted_between,
    add_pairs,
    open_pairs,
    rejected_between,
)
from hub.store.tables import review_pairs, source_records
from hub.testing import ingest, national_code, record


def _evidence(a: str, b: str) -> dict[str, Any]:
    return Explanation(
        ("erp", "1"), ("web", "a"), prior=-4.0, score=3.5, probability=0.918,
        decision="review", thresholds=(6.0, 2.0), model="test",
        fields=[FieldWeight("name", "jaro-winkler >= 0.92", 5.5, a, b),
                FieldWeight("mobile", "missing", 0.0),
                FieldWeight("birth_date", "exact", 2.0, "1360-01-01", "1360-01-01",
                            "common value")]).to_json()


BAND = MatchSettings(match_probability=0.999999, review_probability=0.5)


@pytest.fixture(name="hub")
def _hub(store_url: str, tmp_path: Path) -> Any:
    """A Hub on a store holding Ali twice (nothing links them) and Sara."""
    # A wide review band, so the pairs below fall in it whatever the model's weights.
    (tmp_path / "config.yaml").write_text(
        f"store: {{url: '{store_url}'}}\npipelines: []\nmatching: {{match_probability: "
        f"{BAND.match_probability}, review_probability: {BAND.review_probability}}}\n",
        encoding="utf-8")
    hub = Hub.from_config(tmp_path / "config.yaml", environ={})
    ingest(hub.engine, [
        record("erp", "1", {"name.full": "علی کریمی", "phones.phone:mobile": "+989121234567"}),
        record("web", "a", {"name.full": "[/] Ali Karimy", "emails.email": "ali@x.ir"}),
        record("web", "b", {"name.full": "سارا احمدی", "emails.email": "sara@x.ir"})])
    yield hub
    hub.close()


def _ids(hub: Hub) -> dict[str, int]:
    with hub.engine.connect() as conn:
        return {f"{r.source_system}/{r.source_id}": r.id for r in conn.execute(
            select(source_records.c.id, source_records.c.source_system,
                   source_records.c.source_id))}


def _queue(hub: Hub, *pairs: tuple[str, str]) -> list[int]:
    """Queue pairs of records (by system/id, given larger id first); their pair ids."""
    ids = _ids(hub)
    with unit_of_work(hub.engine, "queueing") as conn:
        add_pairs(conn, [(ids[b], ids[a], 3.5, _evidence(a, b)) for a, b in pairs])
        return [p.id for p in sorted(open_pairs(conn, limit=100), key=lambda p: p.id)]


def _status(hub: Hub, pair_id: int) -> Any:
    with hub.engine.connect() as conn:
        return conn.execute(select(review_pairs).where(review_pairs.c.id == pair_id)).one()


def test_a_pair_is_queued_once_smaller_record_first(hub: Hub) -> None:
    ids = _ids(hub)
    erp, web = ids["erp/1"], ids["web/a"]
    with unit_of_work(hub.engine, "queueing") as conn:
        pairs = [(web, erp, 3.5, _evidence("a", "b")), (erp, web, 9.0, None), (erp, erp, 1.0,
                                                                                None)]
        assert add_pairs(conn, pairs) == 1
        assert add_pairs(conn, [(erp, web, 4.0, None)]) == 0
        assert add_pairs(conn, []) == 0
    with hub.engine.connect() as conn:
        [row] = conn.execute(select(review_pairs)).all()
    assert (row.record_a, row.record_b, row.score, row.status) == (erp, web, 3.5, "open")
    assert row.evidence["fields"][0]["a"] == "a"


def test_open_pairs_show_both_records_and_their_customers(hub: Hub) -> None:
    _queue(hub, ("erp/1", "web/a"))
    [pair] = hub.review_list()
    assert (pair.a.ref, pair.b.ref) == ("erp/1", "web/a")
    assert (pair.a.name, pair.b.name) == ("علی کریمی", "[/] Ali Karimy")
    assert pair.a.master_name == "علی کریمی" and pair.a.master_id != pair.b.master_id
    assert not pair.same_master and pair.score == 3.5
    assert pair.explanation is not None and pair.explanation == pair.evidence   # queued
    assert [f["field"] for f in pair.explanation["fields"]] == ["name", "mobile", "birth_date"]
    assert hub.review_count() == 1


def test_a_rejected_pair_stays_rejected_and_never_comes_back(hub: Hub) -> None:
    [pair_id] = _queue(hub, ("erp/1", "web/a"))
    done = hub.review_decide(pair_id, False, "maryam")
    assert (done.status, done.merged, done.unchanged) == ("rejected", None, False)
    row = _status(hub, pair_id)
    assert (row.status, row.decided_by) == ("rejected", "maryam") and row.decided_at
    ids = _ids(hub)
    pair = (ids["erp/1"], ids["web/a"])
    # The matcher loads these as cannot-link constraints, from either record.
    for touching in ([ids["erp/1"]], [ids["web/a"]], list(ids.values())):
        assert read(hub.engine, "t", partial(rejected_between, record_ids=touching)) == {pair}
    assert read(hub.engine, "t", lambda c: rejected_between(c, [ids["web/b"]])) == set()
    assert read(hub.engine, "t", lambda c: accepted_between(c, list(ids.values()))) == set()
    assert _queue(hub, ("erp/1", "web/a")) == []   # queued again: stays rejected
    assert hub.review_list() == [] and hub.review_count() == 0
    assert hub.review_decide(pair_id, False, "reza").unchanged
    with pytest.raises(ReviewError, match=f"review pair {pair_id} was already rejected "
                                          "by maryam"):
        hub.review_decide(pair_id, True, "reza")


def test_decisions_are_in_the_store_not_the_model(hub: Hub, tmp_path: Path) -> None:
    [pair_id] = _queue(hub, ("erp/1", "web/a"))
    hub.review_decide(pair_id, False, "maryam")
    hub.close()
    again = Hub.from_config(tmp_path / "config.yaml", environ={})   # a new model, say
    try:
        ids = _ids(again)
        assert read(again.engine, "t", lambda c: rejected_between(c, [ids["web/a"]])) == {
            (ids["erp/1"], ids["web/a"])}
        assert _status(again, pair_id).status == "rejected"
    finally:
        again.close()


def test_an_unknown_pair_is_named(hub: Hub) -> None:
    with pytest.raises(ReviewError, match="there is no review pair 999"):
        hub.review_decide(999, True, "maryam")


def test_accepting_a_pair_already_on_one_customer_records_it(hub: Hub) -> None:
    [pair_id] = _queue(hub, ("erp/1", "web/a"))
    # A later record holds both keys: matching merges the two customers by itself.
    ingest(hub.engine, [record("crm", "9", {"phones.phone:mobile": "+989121234567",
                                            "emails.email": "ali@x.ir"})])
    [pair] = hub.review_list()
    assert pair.same_master
    done = hub.review_decide(pair_id, True, "maryam")
    assert (done.status, done.merged) == ("accepted", None)
    ids = _ids(hub)
    assert read(hub.engine, "t", lambda c: accepted_between(c, [ids["erp/1"]])) == {
        (ids["erp/1"], ids["web/a"])}


def test_a_closed_record_takes_its_pairs_off_the_list(hub: Hub) -> None:
    _queue(hub, ("erp/1", "web/a"), ("web/a", "web/b"))
    assert len(hub.review_list()) == 2
    with unit_of_work(hub.engine, "closing") as conn:
        hub.masters().close(conn, [("web", "b")])
    assert [(p.a.ref, p.b.ref) for p in hub.review_list()] == [("erp/1", "web/a")]
    assert hub.review_count() == 1


def test_accepting_a_pair_merges_the_two_customers_into_the_older(hub: Hub) -> None:
    [pair_id] = _queue(hub, ("erp/1", "web/a"))
    [pair] = hub.review_list()
    older, newer = sorted((pair.a.master_id, pair.b.master_id))
    done = hub.review_decide(pair_id, True, "maryam")
    assert (done.status, done.merged) == ("accepted", (older, newer))
    view = hub.customer(newer)
    assert view is not None and view.id == older and view.resolved_from == newer
    assert sorted(view.sources) == ["erp/1", "web/a"]
    assert _status(hub, pair_id).status == "accepted"


def test_two_national_codes_refuse_an_accept_and_the_pair_stays_open(hub: Hub) -> None:
    codes = national_code("001234567"), national_code("001234568")
    ingest(hub.engine, [record("erp", "8", {"name.full": "مینا رادان", "nationalCode": codes[0]}),
                        record("web", "8", {"name.full": "Mina Radan", "nationalCode": codes[1]})])
    [pair_id] = _queue(hub, ("erp/8", "web/8"))
    with pytest.raises(MasteringRefused, match="different national codes"):
        hub.review_decide(pair_id, True, "maryam")
    assert _status(hub, pair_id).status == "open"


# --- the commands -----------------------------------------------------------------------

def _peyvand(tmp_path: Path, *args: str, code: int = 0) -> Result:
    done = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"), *args],
                              terminal_width=200)
    assert done.exit_code == code, done.output
    return done


def test_review_lists_pairs_side_by_side_with_the_evidence(hub: Hub, tmp_path: Path) -> None:
    _queue(hub, ("erp/1", "web/a"), ("web/a", "web/b"))
    shown = _peyvand(tmp_path, "review").output
    assert shown.index("Review pair 2") < shown.index("Review pair 1")   # newest first
    assert "score +3.50 bits (probability 0.918)" in shown
    assert "A  erp/1  علی کریمی" in shown and "B  web/a  [/] Ali Karimy" in shown
    row = next(line for line in shown.splitlines() if "birth_date" in line)
    assert "exact" in row and "+2.00" in row and "1360-01-01" in row and "common value" in row
    assert "Pairs 1-2 of 2 open." in shown
    assert "Pairs 2-2 of 2 open." in _peyvand(tmp_path, "review", "--offset", "1").output
    listed = _peyvand(tmp_path, "review", "--json", "--limit", "1").stdout
    assert '"record": "web/a"' in listed and '"name": "سارا احمدی"' in listed


def test_review_accept_and_reject_from_the_command_line(hub: Hub, tmp_path: Path) -> None:
    first, second = _queue(hub, ("erp/1", "web/a"), ("web/a", "web/b"))
    shown = _peyvand(tmp_path, "review", "reject", str(second), "999", "--by", "maryam",
                     code=2).output
    assert f"Pair {second} rejected: never linked automatically again." in shown
    assert "there is no review pair 999" in shown
    assert _status(hub, second).decided_by == "maryam"
    assert f"Pair {second} was already rejected: no change." in _peyvand(
        tmp_path, "review", "reject", str(second)).output
    assert "No open review pairs" not in _peyvand(tmp_path, "review").output
    assert f"Pair {first} accepted: customer" in _peyvand(
        tmp_path, "review", "accept", str(first)).output
    assert "No open review pairs (0 open)." in _peyvand(tmp_path, "review").output
    assert _peyvand(tmp_path, "review", "accept", code=2).exit_code == 2   # no ID


def test_explain_two_records_and_a_customer(hub: Hub, tmp_path: Path) -> None:
    found = hub.explain("erp/1", "web/a")
    assert (found.a, found.b) == (("erp", "1"), ("web", "a"))
    assert found.fields and found.decision in ("match", "review", "no match")
    name = next(f for f in found.fields if "name" in f.field)
    assert name.a and name.b
    ali = hub.search("ali@x.ir")[0].id
    assert hub.explain("erp/1", ali).b == ("web", "a")   # the customer's closest record
    with pytest.raises(ReviewError, match="no source record erp/404"):
        hub.explain("erp/404", "web/a")
    shown = _peyvand(tmp_path, "explain", "erp/1", "web/a").output
    assert "prior      -" in shown and "karimy" in shown and "ali@x.ir" in shown
    assert f"total      {found.score:+.2f} bits, probability {found.probability:.3f}" in shown
    decision = next(line for line in shown.splitlines() if line.startswith("decision"))
    assert found.decision in decision
    assert f"match from probability {found.thresholds[0]:g} = " in decision
    assert '"decision"' in _peyvand(tmp_path, "explain", "erp/1", "web/a", "--json").stdout


# --- with the matcher: it queues the pair, the decision holds ----------------------------

_REZA = {"name.full": "رضا یزدانی", "addresses.address.postalCode": "1234567890",
         "birthDate": "1980-03-21"}


def _near_twins(hub: Hub) -> None:
    """The same name in two scripts and postcode, the web record without a birth date:
    in the default model's review band (score between its thresholds)."""
    ingest(hub.engine, [record("erp", "7", _REZA)], matching=BAND)
    ingest(hub.engine, [record("web", "7", {"name.full": "Reza Yazdani",
                                            "addresses.address.postalCode": "1234567890"})],
           matching=BAND)


def test_the_matcher_queues_a_pair_and_a_rejection_holds(hub: Hub, tmp_path: Path) -> None:
    _near_twins(hub)
    [pair] = hub.review_list()
    assert (pair.a.ref, pair.b.ref) == ("erp/7", "web/7") and not pair.same_master
    assert pair.explanation is not None
    assert pair.explanation["decision"] == "review"
    postal = next(f for f in pair.explanation["fields"] if f["field"] == "postal_code")
    assert (postal["a"], postal["b"]) == ("1234567890",) * 2 and postal["weight"] > 0
    shown = _peyvand(tmp_path, "review").output
    assert "A  erp/7  رضا یزدانی" in shown and "B  web/7  Reza Yazdani" in shown
    assert "1234567890" in shown
    _peyvand(tmp_path, "review", "reject", str(pair.id), "--by", "maryam")
    # The web record gains the same birth date: a match, but a reviewer said no.
    ingest(hub.engine, [record("web", "7", {**_REZA, "name.full": "Reza Yazdani"})],
           matching=BAND)
    assert hub.search("web/7")[0].id != hub.search("erp/7")[0].id
    assert hub.review_count() == 0
    found = hub.explain("erp/7", "web/7")
    assert found.probability >= found.thresholds[0]   # the score alone would merge them
    assert found.decision == "no match"
    assert f"rejected in review (pair {pair.id}, by maryam" in found.rules[-1]


def test_accepting_a_queued_pair_keeps_them_together(hub: Hub) -> None:
    _near_twins(hub)
    [pair] = hub.review_list()
    hub.review_decide(pair.id, True, "maryam")
    assert hub.search("web/7")[0].id == hub.search("erp/7")[0].id == min(
        pair.a.master_id, pair.b.master_id)
    ingest(hub.engine, [record("web", "7", {"name.full": "Reza Yazdani",
                                            "birthDate": "1990-01-01"})],
           matching=BAND)   # changed again
    assert hub.search("web/7")[0].id == hub.search("erp/7")[0].id
