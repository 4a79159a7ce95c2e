"""Name search across spellings and scripts: the terms stored per master, the query's terms.

A master's ``search_text`` is ``| term | term |``: each name it is known by as folded
text (``text_key``), compacted (no spaces or ZWNJ), and as ``~skeleton`` terms (whole
name and each word), so ``Hosseinzadeh`` finds حسین‌زاده, حسین زاده and حسینزاده alike.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from hub.records import CanonicalRecord
from hub.standardize.persian_text import text_key
from hub.standardize.person_names import compact_key, skeleton

NAME_PATHS = ("name.full", "name.given", "name.family", "organization.name")


def search_text(records: Iterable[CanonicalRecord]) -> str:
    """The stored search terms of a customer known through ``records``."""
    terms: list[str] = []
    for rec in records:
        names = [n for path in NAME_PATHS for n in rec.values(path)]
        names.append(" ".join(rec.values("name.given") + rec.values("name.family")))
        for name in filter(None, names):
            terms += _name_terms(name)
    unique = dict.fromkeys(t for t in terms if t.strip("~"))
    return "| " + " | ".join(unique) + " |" if unique else ""


def query_patterns(text: str) -> list[str]:
    """LIKE patterns (``\\`` escapes) that find ``text`` among stored search terms.

    Folded and compacted forms match anywhere; a consonant skeleton only as a whole term
    (KRM finds کریمی, not کرمانی), and only from two consonants on.
    """
    patterns = [f"%{_escape(t)}%" for t in dict.fromkeys((text_key(text), compact_key(text)))
                if t]
    skel = skeleton(text).replace(" ", "")
    if len(skel) >= 2:
        patterns.append(f"%| ~{_escape(skel)} |%")
    return patterns


@functools.lru_cache(maxsize=65536)
def _name_terms(name: str) -> tuple[str, ...]:
    # A master's golden record is rebuilt often; its names rarely change.
    skel = skeleton(name)
    return (text_key(name), compact_key(name), "~" + skel.replace(" ", ""),
            *("~" + word for word in skel.split()))


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
