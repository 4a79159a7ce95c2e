"""Matching rules v1 over real Persian and Latin spellings."""

from __future__ import annotations

from hub.matching.compare import MatchRules, names_agree, same_customer
from hub.matching.profile import profile_of
from hub.records import CanonicalRecord, Value

RULES = MatchRules()


def _profile(**fields: str):  # type: ignore[no-untyped-def]
    paths = {"name": "name.full", "nc": "nationalCode", "email": "emails.email",
             "mobile": "phones.phone:mobile", "birth": "birthDate",
             "postal": "addresses.address.postalCode"}
    rec = CanonicalRecord("s", "1", "h", {paths[k]: [Value(v, v)] for k, v in fields.items()})
    return profile_of(rec)


def test_exact_identifiers_link() -> None:
    a = _profile(name="علی کریمی", mobile="+989121234567")
    assert same_customer(a, _profile(name="Ali Karimi", mobile="+989121234567"), RULES) == \
        "same mobile"
    assert same_customer(_profile(email="a@x.ir"), _profile(email="a@x.ir"), RULES) == \
        "same e-mail"
    assert same_customer(_profile(nc="0076229645"), _profile(nc="0076229645"), RULES) == \
        "same national code"


def test_conflicting_national_codes_never_link() -> None:
    # A parent and a child sharing the family mobile.
    a = _profile(name="حسن رضایی", nc="0076229645", mobile="+989121234567")
    b = _profile(name="مریم رضایی", nc="1583250689", mobile="+989121234567")
    assert same_customer(a, b, RULES) is None


def test_names_with_second_field() -> None:
    a = _profile(name="علیرضا حسین‌زاده", birth="1986-07-03")
    b = _profile(name="علی رضا حسین زاده", birth="1986-07-03")
    assert same_customer(a, b, RULES) == "names agree, same birth date"
    # Same name, different birth date and postcode: a namesake, not the same person.
    c = _profile(name="علیرضا حسین‌زاده", birth="1990-01-01", postal="1111111111")
    assert same_customer(a, c, RULES) is None


def test_name_typos_and_scripts() -> None:
    assert names_agree(_profile(name="محمد احمدی"), _profile(name="محمد احمدي"), RULES)
    assert names_agree(_profile(name="فاطمه کاظمی"), _profile(name="فاطمه کاظمى"), RULES)
    assert names_agree(_profile(name="علی کریمی"), _profile(name="Ali Karimi"), RULES)
    assert not names_agree(_profile(name="علی کریمی"), _profile(name="رضا کریمی"), RULES)
    assert not names_agree(_profile(name="Sara Ahmadi"), _profile(name="Sina Ahmadi"), RULES)
