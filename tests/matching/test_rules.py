"""Matching rules v1 and the merge policy over real Persian and Latin spellings."""

from __future__ import annotations

from collections.abc import Callable

from hub.matching import NationalCodeVeto, Profile, RuleMatcher

RULES = RuleMatcher()
VETO = NationalCodeVeto()
Make = Callable[..., Profile]


def test_exact_identifiers_link_and_say_why(profile: Make) -> None:
    a = profile(name="علی کریمی", mobile="+989121234567")
    assert RULES.compare(a, profile(name="Ali Karimi", mobile="+989121234567")).rule == \
        "same mobile"
    assert RULES.compare(profile(email="a@x.ir"), profile(email="a@x.ir")).rule == \
        "same e-mail"
    assert RULES.compare(profile(nc="0076229645"), profile(nc="0076229645")).rule == \
        "same national code"


def test_conflicting_national_codes_are_vetoed_by_the_policy(profile: Make) -> None:
    # A parent and a child sharing the family mobile: the rules see the shared mobile,
    # the policy keeps two people with their own national codes apart.
    parent = profile(name="حسن رضایی", nc="0076229645", mobile="+989121234567")
    child = profile(name="مریم رضایی", nc="1583250689", mobile="+989121234567")
    assert RULES.compare(parent, child) is not None
    assert not VETO.allows_join(child, [parent])
    assert VETO.allows_join(profile(mobile="+989121234567"), [parent])
    assert not VETO.allows_merge({"0076229645"}, [child])
    assert VETO.allows_merge({"0076229645"}, [profile(mobile="+989121234567")])


def test_names_with_second_field_record_their_levels(profile: Make) -> None:
    a = profile(name="علیرضا حسین‌زاده", birth="1986-07-03")
    b = profile(name="علی رضا حسین زاده", birth="1986-07-03")
    evidence = RULES.compare(a, b)
    assert evidence is not None
    assert evidence.rule == "names agree, same birth date"
    assert evidence.levels == {"name": "exact", "birth date": "exact"}
    # Same name, different birth date and postcode: a namesake, not the same person.
    c = profile(name="علیرضا حسین‌زاده", birth="1990-01-01", postal="1111111111")
    assert RULES.compare(a, c) is None


def test_name_typos_and_scripts(profile: Make) -> None:
    assert RULES.names_agree(profile(name="محمد احمدی"), profile(name="محمد احمدي"))
    assert RULES.names_agree(profile(name="فاطمه کاظمی"), profile(name="فاطمه کاظمى"))
    assert RULES.names_agree(profile(name="علی کریمی"), profile(name="Ali Karimi")) == \
        "skeleton"
    assert RULES.names_agree(profile(name="علی کریمی"), profile(name="رضا کریمی")) is None
    assert RULES.names_agree(profile(name="Sara Ahmadi"), profile(name="Sina Ahmadi")) is None


def test_profiles_survive_the_store_round_trip(profile: Make) -> None:
    p = profile(name="علی کریمی", nc="0076229645", email="a@x.ir", mobile="+989121234567",
                birth="1986-07-03", postal="1234567890")
    assert type(p).from_json(p.to_json()) == p
    assert type(p).from_json([0, *p.to_json()[1:]]) is None   # another version: recompute
    assert type(p).from_json(None) is None
