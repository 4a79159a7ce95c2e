"""Comparisons: for each field of two profiles, the level of agreement reached.

Each comparison has an ordered list of levels: ``missing`` first (either side has no
value: no evidence either way), then from the strongest agreement down to
``different``. The Fellegi–Sunter model (``hub.matching.model``) gives every level a
weight learned from the data; this module only decides which level two values reach.
It is the matcher's inner loop, so it calls rapidfuzz (C) for every string measure and
caches what depends on one value only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import jdatetime
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from hub.matching.profile import Profile
from hub.standardize.person_names import skeleton

MISSING = 0

NAME = ("missing", "exact", "typo", "close or shortened", "same skeleton", "different")
DATE = ("missing", "exact", "swapped, shifted, other calendar or one digit", "same year",
        "different")
CODE = ("missing", "exact", "one digit off", "different")
EMAIL = ("missing", "exact", "same user or one typo", "different")
EXACT = ("missing", "exact", "different")
TEXT = ("missing", "same", "similar", "different")


@dataclass(frozen=True, slots=True)
class Comparison:
    name: str
    levels: tuple[str, ...]
    # What a household shares (contacts, the address): evidence only when the given
    # names agree.
    shared: bool = False

    @property
    def different(self) -> int:
        return len(self.levels) - 1


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("given_name", NAME),
    Comparison("family_name", NAME),
    Comparison("birth_date", DATE),
    Comparison("national_code", CODE),
    Comparison("identifier", CODE),
    Comparison("email", EMAIL, shared=True),
    Comparison("mobile", CODE, shared=True),
    Comparison("landline", EXACT, shared=True),
    Comparison("postal_code", CODE, shared=True),
    Comparison("street", TEXT, shared=True),
    Comparison("city", TEXT),
    Comparison("province", EXACT),
)
INDEX = {c.name: i for i, c in enumerate(COMPARISONS)}
GIVEN, FAMILY = INDEX["given_name"], INDEX["family_name"]


@functools.lru_cache(maxsize=131072)
def _skeleton(part: str) -> str:
    # A final ه is often not written in Latin (فاطمه / Fateme, زهره / Zohre).
    return "".join(t.removesuffix("H") or t for t in skeleton(part).split(" "))


_OPTIONAL = frozenset(("سید", "سیده", "seyed", "seyyed", "sayed", "seyedeh"))


@functools.lru_cache(maxsize=262144)
def name_level(x: str, y: str) -> int:
    """How two name parts (given or family, name_key form) agree.

    Persian given names are short and many differ by one letter (حسن / حسین, مهدی / مهری,
    زهرا / زهره), so between two Persian spellings only an edit in a name of five letters
    or more counts as a typo, and their consonant skeletons (the same for حسن and حسین)
    are not compared. Latin spellings use Jaro-Winkler, and their skeleton catches
    transliterations (Hossein / Hussein); across scripts the skeleton is all there is
    (محمد / Mohammad, علی / Ali).
    """
    if not x or not y:
        return MISSING
    cx, cy = x.replace(" ", ""), y.replace(" ", "")
    if cx == cy:
        return 1
    latin_x, latin_y = _latin(x), _latin(y)
    if latin_x and latin_y:
        if min(len(cx), len(cy)) == 1 and cx[0] == cy[0]:
            return 3   # an initial: J. Smith
        jw = JaroWinkler.similarity(cx, cy)
        if jw >= 0.92:
            return 2
        if jw >= 0.8:
            return 3
    elif not latin_x and not latin_y and min(len(cx), len(cy)) >= 5 \
            and OSA.distance(cx, cy) <= 1:
        return 2
    # سید/سیده are optional; a compound given name is often written in part (محمد رضا, رضا).
    tx, ty = set(x.split(" ")) - _OPTIONAL, set(y.split(" ")) - _OPTIONAL
    if tx and ty and (tx <= ty or ty <= tx):
        return 3
    if latin_x or latin_y:
        sx, sy = _skeleton(_without_optional(x)), _skeleton(_without_optional(y))
        if sx and sx == sy and (len(sx) >= 2 or latin_x != latin_y):
            return 4
    return 5


def _without_optional(name: str) -> str:
    return " ".join(t for t in name.split(" ") if t not in _OPTIONAL) or name


def _latin(text: str) -> bool:
    return text[:1].isascii()


def names(a: Profile, b: Profile) -> tuple[int, int, bool]:
    """Given and family levels, reading b's names swapped when that agrees better (a
    family name written in the given-name column)."""
    straight = (name_level(a.given, b.given), name_level(a.family, b.family))
    if straight[0] in (0, 1) and straight[1] in (0, 1):
        return straight[0], straight[1], False
    if _compared(a.given, b.family) + _compared(a.family, b.given) < \
            _compared(a.given, b.given) + _compared(a.family, b.family):
        return straight[0], straight[1], False   # crossing would compare less
    one, two = name_level(a.given, b.family), name_level(a.family, b.given)
    # Which part to call "given" when the names are crossed must not depend on which
    # record comes first: the better-agreeing part is.
    swapped = (min(one, two, key=_rank), max(one, two, key=_rank))
    if _goodness(swapped) > _goodness(straight):
        return swapped[0], swapped[1], True
    return straight[0], straight[1], False


def _compared(x: str, y: str) -> int:
    return 1 if x and y else 0


def _rank(level: int) -> int:
    return 2 if level == MISSING else level   # missing sorts with the close levels


def _goodness(levels: tuple[int, int]) -> int:
    # Higher is better; missing counts as neutral (between close and different).
    return sum(6 - lvl if lvl else 2 for lvl in levels)


@functools.lru_cache(maxsize=65536)
def _date(iso: str) -> date | None:
    try:
        return date.fromisoformat(iso)
    except ValueError:
        return None


@functools.lru_cache(maxsize=65536)
def _other_calendar(d: date) -> tuple[int, int, int] | None:
    """The Jalali digits of a Gregorian date: 1988-10-23 -> 1367-08-01."""
    try:
        j = jdatetime.date.fromgregorian(date=d)
    except (ValueError, OverflowError):
        return None
    return (j.year, j.month, j.day)


def date_level(x: str | None, y: str | None) -> int:
    if not x or not y:
        return MISSING
    if x == y:
        return 1
    dx, dy = _date(x), _date(y)
    if dx and dy and _near(dx, dy):
        return 2
    if OSA.distance(x, y) <= 1:
        return 2
    return 3 if x[:4] == y[:4] else 4


def _near(dx: date, dy: date) -> bool:
    if abs(dx - dy) <= timedelta(days=1):
        return True
    if (dx.year, dx.month, dx.day) == (dy.year, dy.day, dy.month):
        return True
    # A Jalali date written as if Gregorian (1367-08-01 for 1988-10-23), either way.
    return (_other_calendar(dx) == (dy.year, dy.month, dy.day)
            or _other_calendar(dy) == (dx.year, dx.month, dx.day))


def code_level(xs: Iterable[str], ys: Iterable[str]) -> int:
    """Identifiers and phones: one equal pair is exact; one edit or swap is one digit off."""
    xs, ys = list(xs), list(ys)
    if not xs or not ys:
        return MISSING
    if set(xs) & set(ys):
        return 1
    if any(OSA.distance(x, y) <= 1 for x in xs for y in ys):
        return 2
    return 3


def email_level(xs: frozenset[str], ys: frozenset[str]) -> int:
    if not xs or not ys:
        return MISSING
    if xs & ys:
        return 1
    for x in xs:
        for y in ys:
            if x.partition("@")[0] == y.partition("@")[0] or OSA.distance(x, y) <= 1:
                return 2
    return 3


def exact_level(xs: frozenset[str], ys: frozenset[str]) -> int:
    if not xs or not ys:
        return MISSING
    return 1 if xs & ys else 2


def text_level(x: str, y: str) -> int:
    if not x or not y:
        return MISSING
    if x == y:
        return 1
    ratio = fuzz.token_set_ratio(x, y)
    if ratio >= 95:
        return 1
    # Tehran / تهران: across scripts, the consonants.
    return 2 if ratio >= 75 or (_latin(x) != _latin(y) and _skeleton(x) == _skeleton(y)) \
        else 3


def compare(a: Profile, b: Profile) -> tuple[tuple[int, ...], bool]:
    """Every comparison's level for ``a`` and ``b``, in ``COMPARISONS`` order, and whether
    the names were read swapped."""
    given, family, swapped = names(a, b)
    ids = ((a.national_code,) if a.national_code else ())
    idb = ((b.national_code,) if b.national_code else ())
    return (given, family, date_level(a.birth_date, b.birth_date), code_level(ids, idb),
            _identifier_level(a.identifiers, b.identifiers),
            email_level(a.emails, b.emails), code_level(a.mobiles, b.mobiles),
            exact_level(a.landlines, b.landlines),
            code_level(a.postal_codes, b.postal_codes), text_level(a.street, b.street),
            text_level(a.city, b.city),
            exact_level(frozenset((a.province,)) if a.province else frozenset(),
                        frozenset((b.province,)) if b.province else frozenset())), swapped


def _identifier_level(xs: frozenset[str], ys: frozenset[str]) -> int:
    """Personal documents compared within their scheme (a passport with a passport)."""
    schemes = {x.partition(":")[0] for x in xs} & {y.partition(":")[0] for y in ys}
    if not schemes:
        return MISSING
    best = 3
    for scheme in schemes:
        px = [x.partition(":")[2] for x in xs if x.startswith(scheme + ":")]
        py = [y.partition(":")[2] for y in ys if y.startswith(scheme + ":")]
        best = min(best, code_level(px, py))
    return best


def values(a: Profile, index: int) -> str:
    """The profile's values a comparison looked at, for explanations."""
    name = COMPARISONS[index].name
    field = {"given_name": a.given, "family_name": a.family, "birth_date": a.birth_date,
             "national_code": a.national_code, "identifier": ", ".join(sorted(a.identifiers)),
             "email": ", ".join(sorted(a.emails)), "mobile": ", ".join(sorted(a.mobiles)),
             "landline": ", ".join(sorted(a.landlines)),
             "postal_code": ", ".join(sorted(a.postal_codes)), "street": a.street,
             "city": a.city, "province": a.province}[name]
    return field or ""
