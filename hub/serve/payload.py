"""A pushed request's body -> flat fields a mapping can name, or the problems, by field.

Form builders send urlencoded bodies (a plain HTML form, Gravity Forms), multipart
(Jotform, with the answers again as JSON in its ``rawRequest`` field), or JSON (Typeform,
Porsline, Google Forms through Apps Script). Every body becomes one flat mapping:

* nested objects become dotted keys (``contact.phone``), list items their index
  (``answers.0.text``); a list of plain values is one value, joined by ``", "`` (a
  mapping splits it with ``split: ", ", take: each``);
* a field repeated in a form body (``interest=a&interest=b``) is joined the same way;
* Jotform's ``rawRequest`` (JSON text) adds its answers as fields;
* Typeform's ``form_response.answers`` add each answer under ``answers.<field ref>``;
* an uploaded file is not stored: its field holds the file's name.

Limits keep one request from costing more than it should: 500 fields, 200 characters a
field name, 32,767 characters a value (Excel's cell limit, as the spreadsheet adapter).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson

MAX_FIELDS = 500
MAX_NAME = 200
MAX_VALUE = 32_767
Scalar = str | int | float | bool | None


class BodyProblem(Exception):
    """The body cannot be taken; ``fields`` names each field at fault."""

    def __init__(self, status: int, message: str,
                 fields: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.fields = [{"field": f, "problem": p} for f, p in fields]


def parse_json(body: bytes) -> dict[str, Scalar]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyProblem(400, f"the body is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BodyProblem(422, "the JSON body must be an object of fields, "
                               f"not {type(doc).__name__}")
    return checked(_unfold(flatten(doc)))


def parse_urlencoded(body: bytes) -> dict[str, Scalar]:
    return checked(_unfold(joined(form_pairs(body))))


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of an urlencoded body, in order, repeats kept."""
    try:
        return parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                         max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise BodyProblem(400, "the form body is not UTF-8") from None
    except ValueError:
        raise BodyProblem(413, f"the form has more than {MAX_FIELDS} fields") from None


def parse_pairs(pairs: Iterable[tuple[str, Scalar]]) -> dict[str, Scalar]:
    """Fields of a multipart form, already split by the framework (files as names)."""
    return checked(_unfold(joined(pairs)))


def joined(pairs: Iterable[tuple[str, Scalar]]) -> dict[str, Scalar]:
    """A form's pairs; a name given several times holds its values joined by ", "."""
    out: dict[str, Scalar] = {}
    for name, value in pairs:
        if name in out and out[name] not in ("", None):
            out[name] = f"{out[name]}, {value}" if value not in ("", None) else out[name]
        else:
            out[name] = value
        if len(out) > MAX_FIELDS:
            raise BodyProblem(413, f"the form has more than {MAX_FIELDS} fields")
    return out


def flatten(value: Any, prefix: str = "") -> dict[str, Scalar]:
    """Nested objects and lists as dotted keys; a list of plain values as one value."""
    if isinstance(value, Mapping):
        out: dict[str, Scalar] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
            if len(out) > MAX_FIELDS:
                raise BodyProblem(413, f"the body has more than {MAX_FIELDS} fields")
        return out
    if isinstance(value, list):
        if all(not isinstance(v, Mapping | list) for v in value):
            return {prefix: ", ".join(str(v) for v in value if v not in ("", None))}
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}.{i}" if prefix else str(i)))
        return out
    return {prefix or "value": value}


def _unfold(fields: dict[str, Scalar]) -> dict[str, Scalar]:
    """Answers that builders nest in one field (Jotform) or a list (Typeform), by name."""
    raw = fields.get("rawRequest")
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        try:
            inner = orjson.loads(raw)
        except orjson.JSONDecodeError:
            inner = None
        if isinstance(inner, dict):
            fields = {**fields, **{k: v for k, v in flatten(inner).items() if k not in fields}}
    return {**fields, **_typeform_answers(fields)}


def _typeform_answers(fields: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """``form_response.answers.N.<type>`` under ``answers.<field ref>`` (else its id)."""
    out: dict[str, Scalar] = {}
    prefix = "form_response.answers."
    for key, value in fields.items():
        if not key.startswith(prefix) or key.count(".") != 3:
            continue
        n, kind = key[len(prefix):].split(".")
        if kind in ("field", "type") or not n.isdigit():
            continue
        name = fields.get(f"{prefix}{n}.field.ref") or fields.get(f"{prefix}{n}.field.id")
        if name:
            out[f"answers.{name}"] = value
    return out


def checked(fields: dict[str, Scalar]) -> dict[str, Scalar]:
    """The fields, or BodyProblem naming each one over a limit."""
    if not fields:
        raise BodyProblem(422, "the body holds no fields")
    if len(fields) > MAX_FIELDS:
        raise BodyProblem(413, f"the body has more than {MAX_FIELDS} fields")
    bad = [(name[:MAX_NAME] + "…", f"the field name is longer than {MAX_NAME} characters")
           for name in fields if len(name) > MAX_NAME]
    bad += [(name, f"the value is longer than {MAX_VALUE:,} characters")
            for name, value in fields.items()
            if isinstance(value, str) and len(value) > MAX_VALUE and len(name) <= MAX_NAME]
    if bad:
        raise BodyProblem(422, "some fields cannot be taken", bad)
    return fields
