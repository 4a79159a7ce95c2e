"""Which standardizer cleans which canonical field; raw text is kept beside each value.

A field is cleaned by its XSD type (``schemas/common_types.xsd``): every ``Phone`` goes
to E.164, a customer's mobile and an interaction's contact phone alike. An enumerated
type is lower-cased to its canonical spelling. A few paths need more than their type
says, and are listed as explicit overrides (honorifics split off ``name.full``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hub.errors import InvalidValue, Problem
from hub.records import Value
from hub.schema_model import FieldSpec, Model
from hub.standardize.dates import standardize_date
from hub.standardize.datetimes import DEFAULT_TIMEZONE, standardize_datetime
from hub.standardize.emails import standardize_email
from hub.standardize.national_codes import (
    standardize_economic_code,
    standardize_legal_id,
    standardize_national_code,
)
from hub.standardize.persian_text import normalize_text, text_key
from hub.standardize.person_names import split_honorifics
from hub.standardize.phones import standardize_phone
from hub.standardize.postal_codes import standardize_postal_code

# A cleaner turns (target, raw, options) into (target, value) pairs: a full name may
# yield an honorific too, and a phone's detected type may correct the mapping's guess.
Cleaner = Callable[[str, str, Mapping[str, Any]], list[tuple[str, str]]]


def _simple(fn: Callable[[str], str]) -> Cleaner:
    return lambda target, raw, _opts: [(target, fn(raw))]


def _full_name(target: str, raw: str, _opts: Mapping[str, Any]) -> list[tuple[str, str]]:
    honorific, name = split_honorifics(raw)
    if not honorific:
        return [(target, name)]
    return [(target.rpartition(".")[0] + ".honorific", honorific), (target, name)]


def _phone(target: str, raw: str, _opts: Mapping[str, Any]) -> list[tuple[str, str]]:
    e164, kind = standardize_phone(raw)
    path, _, hint = target.partition(":")
    # The number itself knows mobile from landline better than a column header does;
    # a fax cannot be told from a landline, so the mapping's "fax" stands.
    if hint == "fax" or kind == "other":
        kind = hint or kind
    return [(f"{path}:{kind}", e164)]


def _date(target: str, raw: str, opts: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(target, standardize_date(raw, calendar=opts.get("calendar", "auto"),
                                      day_first=opts.get("day_first", True)))]


def _datetime(target: str, raw: str, opts: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(target, standardize_datetime(raw, timezone=opts.get("timezone",
                                                                 DEFAULT_TIMEZONE)))]


_TRUE = {text_key(w) for w in ("yes", "y", "true", "1", "بله", "آری", "بلی", "دارد", "✓", "x")}
_FALSE = {text_key(w) for w in ("no", "n", "false", "0", "خیر", "نه", "ندارد")}


def _boolean(raw: str) -> str:
    key = text_key(raw)
    if key in _TRUE:
        return "true"
    if key in _FALSE:
        return "false"
    raise InvalidValue(f"{raw!r} is neither yes nor no")


_COUNTRIES = {text_key(w): "IR" for w in ("iran", "ایران", "ir", "irn", "جمهوری اسلامی ایران")}


def _country(raw: str) -> str:
    key = text_key(raw)
    if key in _COUNTRIES:
        return _COUNTRIES[key]
    if len(key) == 2 and key.isascii() and key.isalpha():
        return key.upper()
    raise InvalidValue(f"{raw!r} is not a country we know; use an ISO code such as IR")


BY_TYPE: dict[str, Cleaner] = {
    "Phone": _phone,
    "Email": _simple(standardize_email),
    "NationalCode": _simple(standardize_national_code),
    "LegalId": _simple(standardize_legal_id),
    "EconomicCode": _simple(standardize_economic_code),
    "PostalCode": _simple(standardize_postal_code),
    "Date": _date,
    "DateTime": _datetime,
    "CountryCode": _simple(_country),
    "Consent": _simple(_boolean),
}
BY_PATH: dict[tuple[str, str], Cleaner] = {   # (target, path): where the type is not enough
    ("customer", "name.full"): _full_name,
}
_ENUM = _simple(text_key)          # lifecycle stage, party kind, channel: canonical spelling
_TEXT = _simple(normalize_text)    # names, streets, subjects: display-normalized text


def cleaner_for(model: Model, spec: FieldSpec) -> Cleaner:
    """The cleaner of one field of ``model``: by path override, by type, else as text."""
    by_path = BY_PATH.get((model.root, spec.path))
    if by_path is not None:
        return by_path
    if spec.type_name in BY_TYPE:
        return BY_TYPE[spec.type_name]
    return _ENUM if spec.enumeration else _TEXT


def standardize(mapped: Mapping[str, list[str]], model: Model,
                options: Mapping[str, Mapping[str, Any]]
                ) -> tuple[dict[str, list[Value]], list[Problem]]:
    """Clean every mapped value: the clean values, and a problem for each value that
    could not be cleaned (set aside, with the reason naming it)."""
    out: dict[str, list[Value]] = {}
    problems: list[Problem] = []
    for target, raws in mapped.items():
        cleaner = cleaner_for(model, model.fields[target.partition(":")[0]])
        for raw in raws:
            try:
                pairs = cleaner(target, raw, options.get(target, {}))
            except InvalidValue as exc:
                problems.append(Problem(target, str(exc)))
                continue
            for path, value in pairs:
                values = out.setdefault(path, [])
                if value and all(v.value != value for v in values):
                    values.append(Value(value, raw))
    # An honorific given in its own column wins over one split off the full name.
    if "name.honorific" in mapped and len(out.get("name.honorific", ())) > 1:
        out["name.honorific"] = out["name.honorific"][:1]
    return {path: values for path, values in out.items() if values}, problems
