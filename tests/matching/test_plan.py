"""The matching plan, decided in memory: new, joined, kept, merged, vetoed, with evidence."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from hub.matching import (
    Candidates,
    DecisionKind,
    Incoming,
    MatchSettings,
    Member,
    Plan,
    Profile,
    plan_batch,
)

Make = Callable[..., Profile]


def _plan(incoming: list[Incoming], candidates: Candidates | None = None) -> Plan:
    ids = (f"N{n:03d}" for n in itertools.count(1))
    return plan_batch(incoming, candidates or Candidates(), matcher=MatchSettings().matcher(),
                      new_id=lambda: next(ids))


def _stored(*masters: tuple[str, list[tuple[str, Profile]]]) -> Candidates:
    """Candidates as the store would hand them over: masters with their records' profiles."""
    c = Candidates()
    for master, records in masters:
        c.established.add(master)
        c.members[master] = [Member(("erp", sid), p) for sid, p in records]
        for _, p in records:
            for key in p.all_keys():
                c.index.setdefault(key, set()).add(master)
    return c


def test_duplicates_within_a_batch_become_one_master(profile: Make) -> None:
    plan = _plan([Incoming(("erp", "1"), profile(name="علي كريمي", mobile="+989121234567")),
                  Incoming(("erp", "2"), profile(name="علی کریمی", mobile="+989121234567")),
                  Incoming(("erp", "3"), profile(name="سارا احمدی", email="sara@x.ir"))])
    assert plan.created == ["N001", "N002"]
    assert [(d.master, d.kind) for d in plan.decisions] == [
        ("N001", DecisionKind.NEW), ("N001", DecisionKind.JOINED), ("N002", DecisionKind.NEW)]
    evidence = plan.decisions[1].evidence
    assert evidence is not None and evidence.levels["mobile"] == "exact"
    assert evidence.record == ("erp", "1")   # which record it matched
    assert plan.merges == []


def test_a_record_joins_a_stored_master(profile: Make) -> None:
    stored = _stored(("C1", [("1", profile(name="رضا یزدانی", mobile="+989351112233"))]))
    plan = _plan([Incoming(("web", "a"), profile(name="Reza Yazdani",
                                                 mobile="+989351112233"))], stored)
    assert plan.created == []
    assert plan.decisions[0].master == "C1" and plan.decisions[0].kind is DecisionKind.JOINED


def test_a_bridge_merges_into_the_oldest_master(profile: Make) -> None:
    stored = _stored(("C2", [("2", profile(name="Reza Yazdani", email="reza@x.ir"))]),
                     ("C1", [("1", profile(name="رضا یزدانی", mobile="+989351112233"))]))
    plan = _plan([Incoming(("web", "b"), profile(email="reza@x.ir",
                                                 mobile="+989351112233"))], stored)
    assert plan.decisions[0].master == "C1"   # ids are time-ordered: C1 is older
    assert [(m.survivor, m.absorbed, m.by) for m in plan.merges] == [("C1", "C2", ("web", "b"))]
    assert plan.merges[0].evidence.levels["email"] == "exact"
    assert plan.absorbed_by() == {"C1": ["C2"]}


def test_a_master_made_and_merged_in_one_batch_is_never_announced(profile: Make) -> None:
    stored = _stored(("C1", [("1", profile(name="مینا رحیمی", mobile="+989121110000"))]))
    plan = _plan([Incoming(("web", "a"), profile(name="مینا رحیمی", email="mina@x.ir")),
                  Incoming(("web", "b"), profile(email="mina@x.ir", mobile="+989121110000"))],
                 stored)
    assert plan.created == [] and plan.merges == []
    first, second = plan.decisions
    assert first.master == second.master == "C1"
    assert first.kind is DecisionKind.MERGED and second.kind is DecisionKind.JOINED
    assert first.evidence is not None and first.evidence.record == ("web", "b")


def test_chained_merges_name_the_final_survivor(profile: Make) -> None:
    stored = _stored(("C1", [("1", profile(mobile="+989120000001"))]),
                     ("C2", [("2", profile(email="b@x.ir"))]),
                     ("C3", [("3", profile(email="c@x.ir"))]))
    # x joins C3; y bridges C2 and C3 (C2 absorbs C3); z bridges C1 and C2 (C1 absorbs C2).
    plan = _plan([Incoming(("web", "x"), profile(email="c@x.ir", mobile="+989120000009")),
                  Incoming(("web", "y"), profile(email="b@x.ir", mobile="+989120000009")),
                  Incoming(("web", "z"), profile(email="b@x.ir", mobile="+989120000001"))],
                 stored)
    assert {d.master for d in plan.decisions} == {"C1"}
    assert sorted((m.survivor, m.absorbed) for m in plan.merges) == [("C1", "C2"), ("C1", "C3")]


def test_two_national_codes_never_end_on_one_master(profile: Make) -> None:
    # Father and son, each with his own code; the family e-mail on one, a mobile on both.
    stored = _stored(("C1", [("1", profile(name="حسن رضایی", nc="0076229645",
                                           email="home@x.ir"))]),
                     ("C2", [("2", profile(name="علی رضایی", nc="1583250689",
                                           mobile="+989121110000"))]))
    son_again = Incoming(("erp", "3"), profile(name="علی رضایی", nc="1583250689",
                                               email="home@x.ir"))
    plan = _plan([son_again], stored)
    assert plan.decisions[0].master == "C2" and plan.merges == []
    # No code on the bridging record: it joins the older, and the two people stay apart.
    bridge = Incoming(("web", "a"), profile(email="home@x.ir", mobile="+989121110000"))
    plan = _plan([bridge], _stored(*[(m, [(r.ref[1], r.profile) for r in rs])
                                     for m, rs in stored.members.items()]))
    assert plan.decisions[0].master == "C1" and plan.merges == []
    # The refused merge is a question for a person: the bridge and the other master.
    assert {r.a for r in plan.reviews} == {("web", "a")}
    assert {r.b for r in plan.reviews} <= {("erp", "2"), ("erp", "3")}   # the son's


def test_a_changed_record_without_a_match_keeps_its_master(profile: Make) -> None:
    # The record's e-mail changed; nothing else in the store matches it any more.
    plan = _plan([Incoming(("erp", "1"), profile(name="نگار صالحی", email="new@x.ir"),
                           current="C7")])
    assert plan.created == []
    assert (plan.decisions[0].master, plan.decisions[0].kind) == ("C7", DecisionKind.KEPT)


def test_a_changed_record_moves_when_the_evidence_points_elsewhere(profile: Make) -> None:
    stored = _stored(("C1", [("1", profile(name="مینا رحیمی", email="mina@x.ir"))]))
    plan = _plan([Incoming(("erp", "2"), profile(name="مینا رحیمی", email="mina@x.ir"),
                           current="C9")], stored)
    assert (plan.decisions[0].master, plan.decisions[0].kind) == ("C1", DecisionKind.JOINED)


def test_namesakes_and_families_stay_apart(profile: Make) -> None:
    plan = _plan([
        Incoming(("erp", "1"), profile(name="محمد احمدی", birth="1980-01-01")),
        Incoming(("erp", "2"), profile(name="محمد احمدی", birth="1991-05-05")),
        Incoming(("erp", "3"), profile(name="حسن رضایی", nc="0076229645",
                                       mobile="+989121230000")),
        Incoming(("erp", "4"), profile(name="مریم رضایی", nc="1583250689",
                                       mobile="+989121230000"))])
    assert len(plan.created) == 4


def test_a_conflict_is_settled_the_same_whatever_the_order(profile: Make) -> None:
    # r2 links r1 (e-mail, birth date) and r3 (mobile); r1 and r3 hold two national
    # codes. Greedy joining would follow the arrival order; the strongest links decide.
    records = {
        "r1": profile(name="رضا یزدانی", nc="0076229645", email="reza@x.ir",
                      birth="1980-03-21"),
        "r2": profile(name="رضا یزدانی", email="reza@x.ir", mobile="+989351112233",
                      birth="1980-03-21"),
        "r3": profile(name="رضا یزدانی", nc="1583250689", mobile="+989351112233")}
    outcomes = set()
    for order in itertools.permutations(records):
        plan = _plan([Incoming(("erp", sid), records[sid]) for sid in order])
        masters: dict[str, set[str]] = {}
        for d in plan.decisions:
            masters.setdefault(d.master, set()).add(d.ref[1])
        outcomes.add(frozenset(frozenset(m) for m in masters.values()))
        refused = {frozenset((r.a[1], r.b[1])) for r in plan.reviews}
        assert refused <= {frozenset(("r2", "r3")), frozenset(("r1", "r3"))}
    assert outcomes == {frozenset({frozenset({"r1", "r2"}), frozenset({"r3"})})}


def test_a_settled_conflict_moves_a_stored_record(profile: Make) -> None:
    # Stored: r3 with r2 (they share the mobile). r1 arrives with r2's e-mail and birth
    # date but another national code than r3: r2 belongs with r1. The larger cluster,
    # r1 and r2, keeps the id; r3 moves to a new customer.
    r1 = profile(name="رضا یزدانی", nc="0076229645", email="reza@x.ir", birth="1980-03-21")
    r2 = profile(name="رضا یزدانی", email="reza@x.ir", mobile="+989351112233",
                 birth="1980-03-21")
    r3 = profile(name="رضا یزدانی", nc="1583250689", mobile="+989351112233")
    plan = _plan([Incoming(("erp", "r1"), r1)], _stored(("C1", [("r3", r3), ("r2", r2)])))
    [move] = plan.moves
    assert (move.ref, move.source) == (("erp", "r3"), "C1") and move.target in plan.created
    assert plan.decisions[0].master == "C1"


def test_a_weak_link_does_not_merge_two_clusters_that_disagree(profile: Make) -> None:
    # Two people with two records each; a record with no name holds one's mobile and the
    # other's e-mail (a typing slip, a shared inbox): it matches both masters, but every
    # record of one contradicts every record of the other.
    maryam = [profile(name="مریم احمدی", birth="1970-02-02", mobile="+989121110000",
                      city="تبریز", postal="5155555555")] * 2
    sara = [profile(name="سارا رضایی", birth="1995-09-09", email="sara@x.ir",
                    city="شیراز")] * 2
    matcher = MatchSettings().matcher()
    assert matcher.score(maryam[0], sara[0]).score <= MatchSettings().contradiction
    stored = _stored(("C1", [("m1", maryam[0]), ("m2", maryam[1])]),
                     ("C2", [("s1", sara[0]), ("s2", sara[1])]))
    bridge = profile(mobile="+989121110000", email="sara@x.ir")
    plan = _plan([Incoming(("web", "x"), bridge)], stored)
    assert plan.merges == [] and plan.moves == []
    joined = plan.decisions[0].master
    other = {"C1": {"s1", "s2"}, "C2": {"m1", "m2"}}[joined]
    # A person looks at the link that was refused.
    assert plan.reviews and {r.a for r in plan.reviews} == {("web", "x")}
    assert {r.b[1] for r in plan.reviews} <= other
