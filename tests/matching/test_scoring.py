"""The probabilistic matcher over real Persian and Latin spellings: levels, weights, rules."""

from __future__ import annotations

from collections.abc import Callable

from hub.matching import MatchSettings, Profile
from hub.matching.compare import date_level, name_level
from hub.matching.scoring import VETO

MATCHER = MatchSettings().matcher()
Make = Callable[..., Profile]


def _matches(a: Profile, b: Profile) -> bool:
    return MATCHER.score(a, b).score >= MATCHER.match


def test_shared_identifiers_match_and_say_why(profile: Make) -> None:
    a = profile(name="علی کریمی", mobile="+989121234567")
    evidence = MATCHER.compare(a, profile(name="Ali Karimi", mobile="+989121234567"))
    assert evidence is not None and evidence.levels["mobile"] == "exact"
    assert evidence.levels["family_name"] == "same skeleton"
    assert _matches(profile(email="a@x.ir"), profile(email="a@x.ir"))
    same_code = MATCHER.score(profile(nc="0076229645"), profile(nc="0076229645"))
    assert same_code.rule == "same national code" and same_code.score >= MATCHER.match


def test_two_national_codes_are_a_veto(profile: Make) -> None:
    parent = profile(name="حسن رضایی", nc="0076229645", mobile="+989121234567")
    child = profile(name="حسن رضایی", nc="1583250689", mobile="+989121234567")
    scored = MATCHER.score(parent, child)
    assert scored.score == VETO and scored.rule == "different national codes"


def test_a_shared_contact_counts_only_when_the_given_names_agree(profile: Make) -> None:
    # A household: one landline and the family mobile, two people.
    mother = profile(name="مریم رضایی", mobile="+989121234567", postal="1234567890")
    son = profile(name="امیر رضایی", mobile="+989121234567", postal="1234567890")
    assert not _matches(mother, son)
    explained = MATCHER.explain(mother, son, ("crm", "1"), ("crm", "2"))
    mobile = next(f for f in explained.fields if f.field == "mobile")
    assert mobile.level == "exact" and mobile.weight == 0
    assert "given names differ" in mobile.note
    # The same mother writing from the family mobile by SMS, given name only.
    assert _matches(mother, profile(name="مریم", mobile="+989121234567"))


def test_namesakes_stay_apart_and_variants_match(profile: Make) -> None:
    a = profile(name="علیرضا حسین‌زاده", birth="1986-07-03", postal="1234567890")
    b = profile(name="علی رضا حسين زاده", birth="1986-07-03", postal="1234567890")
    assert _matches(a, b)
    namesake = profile(name="علیرضا حسین‌زاده", birth="1990-01-01", postal="1111111111")
    assert not _matches(a, namesake)


def test_name_levels_across_spellings_and_scripts() -> None:
    assert name_level("محمد", "محمد") == 1
    assert name_level("فاطمه", "فاطمهه") == 2                 # a typo
    assert name_level("محمد رضا", "رضا") == 3                  # a compound name shortened
    assert name_level("mohammad", "محمد") == 4                 # across scripts
    assert name_level("muhammad", "محمد") == 4
    assert name_level("سارا", "سینا") == 5
    assert name_level("", "سارا") == 0


def test_dates_swapped_shifted_or_in_the_other_calendar() -> None:
    assert date_level("1986-07-03", "1986-07-03") == 1
    assert date_level("1986-07-03", "1986-03-07") == 2       # day and month swapped
    assert date_level("1986-07-03", "1986-07-04") == 2       # one day off
    assert date_level("1988-10-23", "1367-08-01") == 2       # Jalali digits as Gregorian
    assert date_level("1986-07-03", "1986-11-20") == 3       # same year only
    assert date_level("1986-07-03", "1971-02-11") == 4


def test_swapped_given_and_family_names_are_read_swapped(profile: Make) -> None:
    a = profile(name="کریمی علی", birth="1986-07-03")
    b = profile(name="علی کریمی", birth="1986-07-03")
    assert MATCHER.score(a, b).swapped


def test_profiles_survive_the_store_round_trip(profile: Make) -> None:
    p = profile(name="علی کریمی", nc="0076229645", email="a@x.ir", mobile="+989121234567",
                birth="1986-07-03", postal="1234567890")
    assert type(p).from_json(p.to_json()) == p
    assert type(p).from_json([0, *p.to_json()[1:]]) is None   # another version: recompute
    assert type(p).from_json(None) is None


def test_comparisons_and_blocking_are_chosen_in_config(profile: Make) -> None:
    a = profile(name="علی کریمی", birth="1986-07-03")
    b = profile(name="علی کریمی", birth="1986-07-03")
    without_birth = MatchSettings(comparisons=("given_name", "family_name")).matcher()
    assert without_birth.score(a, b).levels[2] == 0          # birth date: not compared
    assert without_birth.score(a, b).score < MATCHER.score(a, b).score
    settings = MatchSettings(blocking=("email", "name_birth_year"))
    assert settings.key_prefixes() == ("em:", "sy:")
    c = profile(name="علی کریمی", birth="1986-07-03", mobile="+989121234567",
                email="ali@x.ir")
    assert [k[:3] for k in c.lookup_keys(settings.key_prefixes())] == ["em:", "sy:"]
    assert MatchSettings(comparisons=("shoe_size",), blocking=("fax",)).problems() == [
        "matching.comparisons: no comparison 'shoe_size'; there are given_name, "
        "family_name, birth_date, national_code, identifier, email, mobile, landline, "
        "postal_code, street, city, province",
        "matching.blocking: no key kind 'fax'; there are national_code, email, mobile, "
        "document, birth_date, postal_code, name_birth_year, name_postal_code, "
        "name_landline"]
