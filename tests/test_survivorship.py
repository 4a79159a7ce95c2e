"""Survivorship: rules per field from config, lock-step groups, lineage by rule, and
consents by the most restrictive statement."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.config import load_config
from hub.errors import ConfigError
from hub.records import CanonicalRecord, Value
from hub.survivorship import Linked, SurvivorshipSettings, build_golden

ADDRESS = ("addresses.address.street", "addresses.address.city",
           "addresses.address.province", "addresses.address.postalCode")
SMS = "consents.consent:sms"


def _linked(system: str, rid: str, when: int, **fields: str) -> Linked:
    """``name__full`` is ``name.full``; ``phones__phone_mobile`` is ``phones.phone:mobile``."""
    values = {":".join(path.replace("__", ".").rsplit("_", 1)): [Value(v, v)]
              for path, v in fields.items()}
    return Linked(CanonicalRecord(system, rid, "h", values), (0, when, when),
                  datetime(2026, 10, 31, 9, 30) + timedelta(days=when))


def _golden(*linked: Linked, rules: Any = ("accounting", "sms")
            ) -> dict[str, list[tuple[str, str]]]:
    fields = build_golden(linked, rules)["fields"]
    return {path: [(v["value"], v["source"]) for v in values]
            for path, values in fields.items()}


def _settings(**survivorship: Any) -> SurvivorshipSettings:
    return SurvivorshipSettings(**{"source_priority": ("erp", "crm", "web")} | survivorship)


# --- rules per field ---------------------------------------------------------------------

def test_source_priority_is_the_default_and_names_itself() -> None:
    crm = _linked("crm", "1", 3, name__full="Ali Karimi", birthDate="1990-01-01")
    erp = _linked("erp", "7", 1, name__full="علی کریمی")
    erp_newer = _linked("erp", "8", 2, name__full="علی کریمی‌زاده")
    golden = build_golden([crm, erp, erp_newer], _settings())["fields"]
    assert golden["name.full"] == [{"value": "علی کریمی‌زاده", "source": "erp/8",
                                    "rule": "source_priority"}]   # trusted, then newest
    assert golden["birthDate"][0]["source"] == "crm/1"   # the only one that has it


def test_most_recent_takes_the_newest_record_that_has_the_field() -> None:
    old = _linked("erp", "1", 1, lifecycleStage="lead")
    new = _linked("web", "2", 3, lifecycleStage="customer")
    newest = _linked("crm", "3", 4, name__full="Sara")   # says nothing of the stage
    golden = build_golden([old, new, newest], _settings(rules={"lifecycleStage": "most_recent"}))
    assert golden["fields"]["lifecycleStage"] == [
        {"value": "customer", "source": "web/2", "rule": "most_recent"}]


def test_most_complete_takes_the_longest_value_and_ties_go_to_trust() -> None:
    short = _linked("erp", "1", 2, organization__name="Pars Co")
    long = _linked("web", "2", 1, organization__name="Pars Trading Company")
    settings = _settings(rules={"organization.*": "most_complete"})
    assert _golden(short, long, rules=settings)["organization.name"] == [
        ("Pars Trading Company", "web/2")]
    same_length = _linked("crm", "3", 3, organization__name="Pars Ltd")
    assert _golden(short, same_length, rules=settings)["organization.name"] == [
        ("Pars Ltd", "crm/3")]   # one longer than "Pars Co"
    tie = _linked("web", "4", 5, organization__name="Pars Cx")
    assert _golden(short, tie, rules=settings)["organization.name"] == [("Pars Co", "erp/1")]


def test_most_frequent_takes_the_value_most_records_agree_on() -> None:
    settings = _settings(rules={"birthDate": "most_frequent"})
    erp = _linked("erp", "1", 1, birthDate="1990-01-02")
    web = [_linked("web", str(i), i + 1, birthDate="1990-02-01") for i in range(2, 4)]
    golden = build_golden([erp, *web], settings)["fields"]["birthDate"]
    # Two records against one; named by the first of them in trust order, then newest.
    assert golden == [{"value": "1990-02-01", "source": "web/3", "rule": "most_frequent"}]


def test_most_frequent_ties_go_to_trust_then_recency() -> None:
    settings = _settings(rules={"birthDate": "most_frequent"})
    crm = _linked("crm", "1", 1, birthDate="1990-01-02")
    web = _linked("web", "2", 2, birthDate="1990-02-01")
    assert _golden(crm, web, rules=settings)["birthDate"] == [("1990-01-02", "crm/1")]
    crm_newer = _linked("crm", "3", 3, birthDate="1990-02-01")
    assert _golden(crm, crm_newer, rules=settings)["birthDate"] == [("1990-02-01", "crm/3")]


def test_the_closest_rule_wins_and_a_path_covers_its_qualifiers() -> None:
    settings = _settings(default="most_recent",
                         rules={"name.*": "source_priority", "name.given": "most_complete",
                                "identifiers.identifier": "source_priority"})
    erp = _linked("erp", "1", 1, name__given="Ali", name__family="Karimi",
                  identifiers__identifier_passport="X1", kind="person")
    web = _linked("web", "2", 2, name__given="Alireza", name__family="Karimi-Zadeh",
                  identifiers__identifier_passport="Y2", kind="organization")
    fields = build_golden([erp, web], settings)["fields"]
    rules = {path: (v[0]["source"], v[0]["rule"]) for path, v in fields.items()}
    assert rules["name.given"] == ("web/2", "most_complete")     # exact beats name.*
    assert rules["name.family"] == ("erp/1", "source_priority")  # name.* beats default
    assert rules["kind"] == ("web/2", "most_recent")             # the default
    assert rules["identifiers.identifier:passport"] == ("erp/1", "source_priority")


def test_emails_and_phones_are_unioned_with_their_lineage() -> None:
    crm = _linked("crm", "1", 2, emails__email="a@x.ir", phones__phone_mobile="+989121110001")
    erp = _linked("erp", "2", 1, emails__email="b@x.ir", phones__phone_mobile="+989121110001")
    fields = build_golden([crm, erp], _settings(default="most_recent"))["fields"]
    assert fields["emails.email"] == [{"value": "b@x.ir", "source": "erp/2", "rule": "union"},
                                      {"value": "a@x.ir", "source": "crm/1", "rule": "union"}]
    assert fields["phones.phone:mobile"] == [
        {"value": "+989121110001", "source": "erp/2", "rule": "union"}]


def test_a_plain_trust_order_still_works() -> None:
    """``build_golden(linked, priority)`` as the store calls it today."""
    crm = _linked("crm", "1", 2, name__full="Ali")
    erp = _linked("erp", "2", 1, name__full="علی")
    assert _golden(crm, erp, rules=["erp", "crm"])["name.full"] == [("علی", "erp/2")]
    assert build_golden([crm, erp], _settings().golden_rules()) == build_golden([crm, erp],
                                                                          ["erp", "crm"])


# --- lock-step groups --------------------------------------------------------------------

def _addresses() -> list[Linked]:
    """Three records filling different parts of an address, at different times."""
    return [
        _linked("erp", "1", 1, addresses__address__street="Valiasr 12",
                addresses__address__city="Tehran"),
        _linked("crm", "2", 3, addresses__address__city="Shiraz",
                addresses__address__province="Fars", addresses__address__postalCode="7134567890"),
        _linked("web", "3", 2, addresses__address__street="Zand 4",
                addresses__address__city="Shiraz", addresses__address__postalCode="7134567890"),
    ]


@pytest.mark.parametrize("rule", ["source_priority", "most_recent", "most_complete",
                                  "most_frequent"])
def test_a_lock_step_address_never_mixes_two_records(rule: str) -> None:
    settings = _settings(groups={"address": {"fields": ["addresses.address.*"], "rule": rule}})
    records = _addresses()
    for subset in itertools.chain.from_iterable(
            itertools.permutations(records, n) for n in range(1, 4)):
        fields = build_golden(subset, settings)["fields"]
        sources = {fields[p][0]["source"] for p in ADDRESS if p in fields}
        assert len(sources) == 1, (rule, [r.record.source_id for r in subset], fields)
        assert {fields[p][0]["rule"] for p in ADDRESS if p in fields} == {rule}


def test_each_group_rule_picks_its_record() -> None:
    def chosen(rule: str) -> dict[str, str]:
        groups = {"address": {"fields": ["addresses.address.*"], "rule": rule}}
        fields = build_golden(_addresses(), _settings(groups=groups))["fields"]
        return {p.rsplit(".", 1)[1]: fields[p][0]["source"] for p in ADDRESS if p in fields}

    # Trust: the erp's street and city, and no postal code from anyone else.
    assert chosen("source_priority") == {"street": "erp/1", "city": "erp/1"}
    assert chosen("most_recent") == {"city": "crm/2", "province": "crm/2",
                                     "postalCode": "crm/2"}
    # Three fields each for crm and web: the longer text (Zand 4 beats Fars) wins.
    assert set(chosen("most_complete").values()) == {"web/3"}
    # Every record's address differs as a whole: a tie, so trust decides.
    assert set(chosen("most_frequent").values()) == {"erp/1"}


def test_a_group_as_a_list_takes_the_default_rule() -> None:
    settings = _settings(default="most_recent", groups={"address": ["addresses.address.*"]})
    fields = build_golden(_addresses(), settings)["fields"]
    assert {fields[p][0]["source"] for p in ADDRESS if p in fields} == {"crm/2"}
    assert "addresses.address.street" not in fields   # crm has none; never borrowed


def test_without_a_group_the_parts_come_from_their_own_records() -> None:
    """What groups prevent: by trust alone the street is the erp's, the postal code the
    crm's."""
    fields = build_golden(_addresses(), _settings())["fields"]
    assert fields["addresses.address.street"][0]["source"] == "erp/1"
    assert fields["addresses.address.postalCode"][0]["source"] == "crm/2"


# --- consents ----------------------------------------------------------------------------

def test_any_no_beats_yes_across_sources_whatever_rank_or_time() -> None:
    """Changed in issue 9: the most restrictive statement wins across sources (before, the
    newest did, so a later "yes" from the lead sheet would have undone an SMS "لغو")."""
    stop = _linked("sms", "kavenegar:9", 2, consents__consent_sms="false")
    trusted_yes_later = _linked("accounting", "1", 5, name__full="علی کریمی",
                                consents__consent_sms="true")
    golden = build_golden([stop, trusted_yes_later], ["accounting", "sms"])["fields"]
    assert golden[SMS] == [{"value": "false", "source": "sms/kavenegar:9",
                            "rule": "most_restrictive", "at": "2026-11-02T09:30:00+00:00"}]
    assert golden["name.full"][0]["source"] == "accounting/1"   # rank, as before


def test_a_sources_own_statement_is_its_newest() -> None:
    """An SMS "شروع" after a "لغو" from the same gateway takes it back: each source speaks
    by its newest record that says anything about the consent."""
    stop = _linked("sms", "kavenegar:1", 1, consents__consent_sms="false")
    hello = _linked("sms", "kavenegar:2", 2, phones__phone_mobile="+989121110001")
    start = _linked("sms", "kavenegar:3", 3, consents__consent_sms="true")
    web_yes = _linked("website", "f-1", 0, consents__consent_sms="true")
    assert _golden(stop, hello)[SMS] == [("false", "sms/kavenegar:1")]
    assert _golden(hello, start, stop)[SMS] == [("true", "sms/kavenegar:3")]
    # All agree on yes: the newest yes is named.
    assert _golden(web_yes, stop, start)[SMS] == [("true", "sms/kavenegar:3")]


def test_an_older_statement_from_the_trusted_source_does_not_win_back() -> None:
    newer = _linked("sms", "kavenegar:5", 5, consents__consent_sms="false")
    older = _linked("accounting", "1", 4, consents__consent_sms="true")
    assert _golden(older, newer)[SMS] == [("false", "sms/kavenegar:5")]


def test_removing_the_restrictive_record_restores_the_others_consent() -> None:
    """The golden record is a function of the open records: unmerging (or closing) the
    record that said no gives the customer back the other record's own statement."""
    yes = _linked("accounting", "1", 1, name__full="Ali", consents__consent_sms="true")
    no = _linked("website", "f-9", 2, name__full="Ali K", consents__consent_sms="false")
    merged = build_golden([yes, no], _settings())
    assert merged["fields"][SMS][0]["value"] == "false"
    alone = build_golden([yes], _settings())
    assert alone["fields"][SMS] == [{"value": "true", "source": "accounting/1",
                                     "rule": "most_restrictive",
                                     "at": "2026-11-01T09:30:00+00:00"}]
    assert build_golden([no], _settings())["fields"][SMS][0]["source"] == "website/f-9"


def test_a_consent_without_a_known_time_has_no_at() -> None:
    rec = CanonicalRecord("sms", "1", "h", {SMS: [Value("0", "STOP")]})
    value = build_golden([Linked(rec, (1, 0, 1))], [])["fields"][SMS][0]
    assert value == {"value": "0", "source": "sms/1", "rule": "most_restrictive"}


# --- config ------------------------------------------------------------------------------

def _problems(tmp_path: Path, section: str) -> str:
    path = tmp_path / "config.yaml"
    path.write_text(f"survivorship:\n{section}", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    return "\n".join(info.value.problems)


def test_the_documented_config_loads(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("""survivorship:
  source_priority: [erp, crm, web]
  default: source_priority
  rules:
    birthDate: most_frequent
    name.*: source_priority
    organization.*: most_complete
    phones.phone:mobile: most_recent   # not a rule for phones: they are unioned
  groups:
    address: [addresses.address.*]
""", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    assert info.value.problems == [
        "survivorship.rules.phones.phone:mobile: e-mails and phones keep every distinct "
        "value; no rule chooses among them"]
    path.write_text(path.read_text(encoding="utf-8").replace(
        "    phones.phone:mobile: most_recent", "    identifiers.identifier:passport: "
        "most_recent"), encoding="utf-8")
    settings = load_config(path, environ={}).survivorship
    assert settings.golden_rules().route("addresses.address.city").name == "address"  # type: ignore[union-attr]
    assert settings.golden_rules().route("identifiers.identifier:passport") == "most_recent"
    assert settings.golden_rules().route("kind") == "source_priority"


def test_unknown_rules_and_fields_are_listed_at_once(tmp_path: Path) -> None:
    text = _problems(tmp_path, """  default: newest
  rules:
    birthdate: most_frequent
    name.*: most_frequnt
    adress.*: most_recent
    consents.consent:sms: most_recent
    phones.phone:pager: most_recent
  groups:
    address: {fields: [addresses.address.*], rule: latest, order: 1}
    place: [addresses.address.city]
""")
    assert "survivorship.default: expected one of 'source_priority', 'most_recent', " \
           "'most_complete', 'most_frequent', got 'newest'." in text
    assert "survivorship.rules.birthdate: no such field in the customer model " \
           "(schemas/customer.xsd). Did you mean 'birthDate'?" in text
    assert "survivorship.rules.name.*: unknown rule 'most_frequnt'; the rules are " \
           "source_priority, most_recent, most_complete, most_frequent. Did you mean " \
           "'most_frequent'?" in text
    assert "survivorship.rules.adress.*: no field of the customer model " \
           "(schemas/customer.xsd) starts with 'adress.'." in text
    assert "survivorship.rules.consents.consent:sms: consents always take the most " \
           "restrictive statement across records; no rule applies" in text
    assert "survivorship.rules.phones.phone:pager: 'pager' is not a qualifier of " \
           "phones.phone (type: one of mobile, landline, fax, other)" in text
    assert "survivorship.groups.address.rule: unknown rule 'latest'" in text
    assert "survivorship.groups.address.order: unknown key; a group has fields: and rule:." \
        in text
    assert "survivorship.groups.place: addresses.address.city is already in the group " \
           "'address'; a field belongs to one group" in text
    assert len(text.splitlines()) == 9


@pytest.mark.parametrize(("section", "expected"), [
    ("  rules: [birthDate]\n", "survivorship.rules: expected keys and values, got ['birthDate']."),
    ("  groups: address\n", "survivorship.groups: expected keys and values, got 'address'."),
    ("  rules: {birthDate: 3}\n", "survivorship.rules.birthDate: unknown rule 3;"),
    ("  rules: {3: most_recent}\n", "survivorship.rules.3: expected a field path such as "
                                    "name.full or a prefix such as name.*, got 3"),
    ("  groups: {address: 5}\n", "survivorship.groups.address: expected a list of field "
                                 "paths such as [addresses.address.*], or {fields: [...], "
                                 "rule: ...}, got 5"),
    ("  groups: {address: []}\n", "survivorship.groups.address: expected a list of field"),
    ("  groups: {address: [1, 2]}\n", "survivorship.groups.address: expected a list of"),
    ("  groups: {address: {rule: most_recent}}\n",
     "survivorship.groups.address.fields: required: the field paths taken together"),
    ("  groups: {address: {fields: addresses.address.*}}\n",
     "survivorship.groups.address.fields: expected a list of field paths"),
    ("  groups: {1: [kind]}\n", "survivorship.groups: a group's name is text, got 1"),
    ("  groups: {a: ['*']}\n", "survivorship.groups.a: *: expected a field path"),
    ("  groups: {a: [emails.email]}\n", "e-mails and phones keep every distinct value"),
    ("  default: 3\n", "survivorship.default: expected one of"),
    ("  rules: {kind: [most_recent]}\n", "survivorship.rules.kind: unknown rule ['most_recent']"),
])
def test_wrong_types_are_problems_not_tracebacks(tmp_path: Path, section: str,
                                                 expected: str) -> None:
    assert expected in _problems(tmp_path, section)


def test_a_rule_for_a_grouped_field_is_a_problem(tmp_path: Path) -> None:
    text = _problems(tmp_path, "  rules: {addresses.address.city: most_recent}\n"
                               "  groups: {address: [addresses.address.*]}\n")
    assert text == ("survivorship.rules.addresses.address.city: addresses.address.city is "
                    "in the lock-step group 'address', which takes its fields from one "
                    "record; name the rule on the group ({fields: [...], rule: ...})")


def test_settings_built_in_code_are_checked_too() -> None:
    with pytest.raises(ConfigError) as info:
        SurvivorshipSettings(rules={"name.full": "loudest"}).golden_rules()
    assert info.value.problems[0].startswith("survivorship.rules.name.full: unknown rule")
