"""Matching is a pure step: its tests run in memory, and this makes sure of it."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import pytest
import sqlalchemy

from hub.matching import Profile, profile_of
from hub.records import CanonicalRecord, Value


@pytest.fixture(autouse=True)
def _no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> NoReturn:
        raise AssertionError("matching tests must not open a database")

    monkeypatch.setattr(sqlalchemy, "create_engine", refuse)


PATHS = {"name": "name.full", "nc": "nationalCode", "email": "emails.email",
         "mobile": "phones.phone:mobile", "birth": "birthDate",
         "postal": "addresses.address.postalCode", "city": "addresses.address.city"}


@pytest.fixture(name="profile")
def _profile() -> Callable[..., Profile]:
    """``profile(name=..., mobile=...)``: the match profile of a record with those fields."""
    def make(**fields: str) -> Profile:
        rec = CanonicalRecord("s", "1", "h",
                              {PATHS[k]: [Value(v, v)] for k, v in fields.items()})
        return profile_of(rec)
    return make
