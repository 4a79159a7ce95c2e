"""Which standardizer cleans which canonical field; raw text is kept beside each value.

A field is cleaned by its XSD type (``schemas/common_types.xsd``): every ``Phone`` goes
to E.164, a customer's mobile and an interaction's contact phone alike. An enumerated
type is lower-cased to its canonical spelling. A few paths need more than their type
says, and are listed as explicit overrides (honorifics split off ``name.full``).

A cleaner sees the whole mapped record beside its value (``Cell.record``): a postal code
is read by its address's country, a landline without an area code takes it from the
record's city.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.errors import InvalidValue, Problem
from hub.records import Value
from hub.schema_model import FieldSpec, Model
from hub.standardize._digits import clean_digits
from hub.standardize.area_codes import area_code_of
from hub.standardize.dates import standardize_date
from hub.standardize.datetimes import DEFAULT_TIMEZONE, standardize_datetime
from hub.standardize.emails import standardize_email
from hub.standardize.national_codes import (
    standardize_economic_code,
    standardize_legal_id,
    standardize_national_code,
)
from hub.standardize.persian_text import normalize_text, text_key, to_ascii_digits
from hub.standardize.person_names import split_honorifics
from hub.standardize.phones import standardize_phone
from hub.standardize.postal_codes import standardize_postal_code

ATTRIBUTE_TYPES = ("text", "number", "date", "boolean")


@dataclass(frozen=True, slots=True)
class Cell:
    """One value to clean, with what a cleaner may need around it.

    Args:
        target: the mapping's target (``phones.phone:landline``).
        raw: the value as mapped.
        options: the mapping's options for the target (``calendar``, ``area_code``...).
        record: every mapped value of the record, raw, by target.
    """

    target: str
    raw: str
    options: Mapping[str, Any]
    record: Mapping[str, list[str]]


# A cleaner turns a cell into (target, value) pairs: a full name may yield an honorific
# too, a phone's detected type may correct the mapping's guess, a code may be routed.
Cleaner = Callable[[Cell], list[tuple[str, str]]]


def _simple(fn: Callable[[str], str]) -> Cleaner:
    return lambda cell: [(cell.target, fn(cell.raw))]


def _full_name(cell: Cell) -> list[tuple[str, str]]:
    honorific, name = split_honorifics(cell.raw)
    if not honorific:
        return [(cell.target, name)]
    return [(cell.target.rpartition(".")[0] + ".honorific", honorific), (cell.target, name)]


def _phone(cell: Cell) -> list[tuple[str, str]]:
    area = cell.options.get("area_code") or next(
        (code for city in cell.record.get("addresses.address.city", ())
         if (code := area_code_of(city))), None)
    e164, kind = standardize_phone(cell.raw, _phone_region(cell),
                                   area_code=str(area) if area else None)
    path, _, hint = cell.target.partition(":")
    # The number itself knows mobile from landline better than a column header does;
    # a fax cannot be told from a landline, so the mapping's "fax" stands.
    if hint == "fax" or kind == "other":
        kind = hint or kind
    return [(f"{path}:{kind}", e164)]


def _phone_region(cell: Cell) -> str:
    """The country a number without a country code is in: the record's address's (a
    Belgian customer's 5121230 is Belgian), else the mapping's ``country``, else Iran."""
    for raw in cell.record.get("addresses.address.country", ()):
        try:
            return _country(raw)
        except InvalidValue:   # the country field itself is set aside on its own
            continue
    return str(cell.options.get("country", "IR"))


def _date(cell: Cell) -> list[tuple[str, str]]:
    opts = cell.options
    return [(cell.target, standardize_date(cell.raw, calendar=opts.get("calendar", "auto"),
                                           day_first=opts.get("day_first", True),
                                           year_pivot=opts.get("year_pivot")))]


def _datetime(cell: Cell) -> list[tuple[str, str]]:
    zone = cell.options.get("timezone", DEFAULT_TIMEZONE)
    return [(cell.target, standardize_datetime(cell.raw, timezone=zone))]


def _postal_code(cell: Cell) -> list[tuple[str, str]]:
    countries = [_country(c) for c in cell.record.get("addresses.address.country", ())]
    country = countries[0] if countries else cell.options.get("country", "IR")
    return [(cell.target, standardize_postal_code(cell.raw, country))]


def _national_code(cell: Cell) -> list[tuple[str, str]]:
    """A national code; with ``by_shape``, 11 digits are a company's legal id instead."""
    digits = clean_digits(cell.raw, "national code or legal id")
    if cell.options.get("by_shape") and len(digits) == 11:
        return [("organization.nationalId", standardize_legal_id(cell.raw))]
    return [(cell.target, standardize_national_code(cell.raw))]


def _identifier(cell: Cell) -> list[tuple[str, str]]:
    """Passport and tax numbers as their documents print them: upper case, no spaces."""
    value = "".join(to_ascii_digits(cell.raw).upper().split())
    if not value or not all(c.isalnum() or c in "./-" for c in value) or not value.isascii():
        raise InvalidValue(f"{cell.raw!r} is not an identifier: use letters, digits, '.', "
                           "'/' and '-'")
    return [(cell.target, value)]


def _attribute(cell: Cell) -> list[tuple[str, str]]:
    """A custom attribute, cleaned by the type config.yaml declares for it."""
    kind = cell.options.get("attribute_type", "text")
    raw = cell.raw
    if kind == "date":
        return _date(cell)
    if kind == "boolean":
        return [(cell.target, _boolean(raw))]
    if kind == "number":
        text = to_ascii_digits(raw).replace(",", "").replace("٬", "").strip()
        try:
            number = float(text)
        except ValueError:
            raise InvalidValue(f"{raw!r} is not a number") from None
        return [(cell.target, str(int(number)) if number.is_integer() else str(number))]
    return [(cell.target, normalize_text(raw))]


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
    "NationalCode": _national_code,
    "LegalId": _simple(standardize_legal_id),
    "EconomicCode": _simple(standardize_economic_code),
    "PostalCode": _postal_code,
    "Date": _date,
    "DateTime": _datetime,
    "CountryCode": _simple(_country),
    "Consent": _simple(_boolean),
    "Identifier": _identifier,
    "AttributeValue": _attribute,
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
                pairs = cleaner(Cell(target, raw, options.get(target, {}), mapped))
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
    if model.root == "customer" and "kind" not in out:
        kind = _kind(out)
        out["kind"] = [Value(kind, kind)]
    return {path: values for path, values in out.items() if values}, problems


_PERSON = ("name.full", "name.given", "name.family", "nationalCode", "birthDate")


def _kind(fields: Mapping[str, list[Value]]) -> str:
    """Person or organization, when the mapping does not say: an organization's name or
    legal id and nothing of a person's make an organization."""
    company = "organization.name" in fields or "organization.nationalId" in fields
    person = any(path in fields for path in _PERSON)
    return "organization" if company and not person else "person"
