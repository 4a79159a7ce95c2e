"""Person names: honorifics, comparison keys and a cross-script skeleton.

PERSIAN.md §1.4 (honorifics, glued particles), §6 (consonant skeleton),
§9 step 3. Decisions:

* Only LEADING honorifics are removed (``علی آقا`` keeps آقا), never the whole
  name, and not a token followed by a glued suffix (``حاجی زاده`` is the
  surname Hajizadeh, not "Haji Zadeh").
* سید / سیده / میر are part of the registered name and stay in every key;
  the matcher treats them as optional.
* ``name_key`` keeps the tokens in order (no sorting; the matcher uses
  token_sort_ratio) and glues only what is unambiguous: عبد/ابو + ال...
  (عبد الله -> عبدالله) and the suffixes زاده پور نژاد فر onto the previous
  token (a leading پور goes onto the next: پور محمدی -> پورمحمدی). Two given
  names (محمد رضا) stay two tokens; ``compact_key`` removes every space, so
  محمدرضا == محمد رضا == محمد‌رضا there.
"""

from __future__ import annotations

import re

from hub.standardize.persian_text import normalize_text, text_key

HONORIFICS: tuple[str, ...] = (
    "آقای", "آقا", "خانم", "جناب", "جناب آقای", "سرکار", "سرکار خانم", "دکتر", "مهندس",
    "حاج", "حاجی", "حاجیه", "حاجیه خانم", "استاد", "شادروان", "مرحوم", "م.",
    "Mr", "Mrs", "Ms", "Miss", "Dr", "Eng", "Haj", "Haji", "Prof",
)
"""Honorific tokens as written; matched by ``text_key``, any case, with or without
a trailing dot. "م." (for مهندس) only matches with its dot."""


def _honorific_keys() -> frozenset[str]:
    keys = set()
    for h in HONORIFICS:
        key = text_key(h)
        keys.add(key if key == "م." else key.rstrip("."))
        keys.add(key.replace(" ", ""))  # جناب‌آقای written with ZWNJ or glued
    return frozenset(keys)


_HONORIFIC_KEYS = _honorific_keys()
_SUFFIXES = frozenset(["زاده", "پور", "نژاد", "فر", "zadeh", "zade", "pour", "poor",
                       "nejad", "nezhad", "far"])
_LEADING_SUFFIXES = frozenset(["پور", "pour", "poor"])
_ABD_AL = re.compile(r"(?<!\S)(عبد|ابو) ?ال ?(?=\S)")
_ABD_AL_LATIN = re.compile(r"(?<!\S)(abd[aeiou]l|ab[ou]l) (?=\S)")
_APOSTROPHES = re.compile(r"['`´ʼ‘’]")
_PUNCTUATION = re.compile(r"[^\w ]|_")

# Skeleton (§6): digraphs first, then one table for both scripts; whatever is
# not mapped to a capital letter (vowels, ا و ی ع ...) is dropped afterwards.
_DIGRAPHS = (("kh", "X"), ("gh", "Q"), ("sh", "C"), ("ch", "C"), ("zh", "J"))
_SKELETON_TABLE = str.maketrans(
    "ثسصذزضظتطحهةغقچشژجخکبپدرفگلمنbcdfghjklmnpqrstxz",
    "SSSZZZZTTHHHQQCCJJXKBPDRFGLMNBKDFGHJKLMNPQRSTXZ",
)
_NOT_CONSONANT = re.compile(r"[^A-Z ]+")
_REPEATS = re.compile(r"(.)\1+")


def _is_honorific(key: str) -> bool:
    return key in _HONORIFIC_KEYS or (key.endswith(".") and key.rstrip(".") in _HONORIFIC_KEYS)


def _honorific_count(keys: list[str]) -> int:
    """How many leading tokens (given as keys) are honorifics; never all of them."""
    n = 0
    while n < len(keys) and _is_honorific(keys[n]):
        if n + 1 < len(keys) and keys[n + 1] in _SUFFIXES:
            break  # حاجی زاده: a surname, not an honorific
        n += 1
    return 0 if n == len(keys) else n


def _split_glued(tokens: list[str]) -> list[str]:
    """Split a token like "Dr.Ali" / "م.علی" into honorific and name."""
    if tokens and "." in tokens[0]:
        head, _, rest = tokens[0].partition(".")
        if rest and _is_honorific(text_key(head + ".")):
            return [head + ".", rest, *tokens[1:]]
    return tokens


def split_honorifics(full: str) -> tuple[str | None, str]:
    """Split leading honorifics off a full name.

    Args:
        full: a full name, e.g. ``"جناب آقای دکتر علی کریمی"``.

    Returns:
        ``(honorifics, name)``, both ``normalize_text``-ed, e.g.
        ``("جناب آقای دکتر", "علی کریمی")``; ``(None, name)`` when there are
        none or when the whole value is honorifics.
    """
    tokens = _split_glued(normalize_text(full).split(" "))
    n = _honorific_count([text_key(t) for t in tokens])
    if n == 0:
        return None, normalize_text(full)
    return " ".join(tokens[:n]), " ".join(tokens[n:])


def _name_tokens(name: str) -> list[str]:
    tokens = _split_glued(text_key(name).split(" "))
    tokens = tokens[_honorific_count(tokens):]
    text = _PUNCTUATION.sub(" ", _APOSTROPHES.sub("", " ".join(tokens)))
    text = _ABD_AL_LATIN.sub(r"\1", _ABD_AL.sub(r"\1ال", text))
    out: list[str] = []
    glue_next = False
    for token in text.split():
        if glue_next:
            out[-1] += token
            glue_next = False
        elif token in _SUFFIXES and out:
            out[-1] += token
        else:
            out.append(token)
            glue_next = len(out) == 1 and token in _LEADING_SUFFIXES
    return out


def name_key(name: str) -> str:
    """A comparison key for a person's full name.

    ``text_key`` (ZWNJ removed, letters folded, Latin casefolded), leading
    honorifics dropped, apostrophes removed and other punctuation turned into
    spaces, compound particles glued (see the module docstring); tokens keep
    their order, separated by single spaces.

    Args:
        name: a full name in either script.

    Returns:
        The key, e.g. ``"عبدالله حسینزاده"`` for ``"آقای عبد الله حسین زاده"``.
    """
    return " ".join(_name_tokens(name))


def compact_key(name: str) -> str:
    """``name_key`` without spaces: محمدرضا == محمد رضا == محمد‌رضا.

    Args:
        name: a full name in either script.

    Returns:
        The space-free key.
    """
    return "".join(_name_tokens(name))


def skeleton(name: str) -> str:
    """A consonant-skeleton key that matches across Persian and Latin script.

    PERSIAN.md §6: Persian ا آ ع ء ئ ؤ و ی and Latin a e i o u y v w are
    dropped, look-alike consonants share a letter (ث س ص / s -> S, غ ق / gh q
    -> Q, چ ش / ch sh -> C, ...), repeats collapse. Computed per ``name_key``
    token, so honorifics are dropped and glued particles joined first. Keys
    are short and collide (موسوی -> MS): use them for blocking, not as proof.

    Args:
        name: a full name in either script.

    Returns:
        Token skeletons joined by spaces, e.g. ``"MHMD HSN"`` for both
        ``"محمد حسینی"`` and ``"Mohammad Hosseini"``; tokens with no
        consonant are left out.
    """
    text = " ".join(_name_tokens(name))
    for digraph, letter in _DIGRAPHS:  # digraphs never span a space
        text = text.replace(digraph, letter)
    text = _REPEATS.sub(r"\1", _NOT_CONSONANT.sub("", text.translate(_SKELETON_TABLE)))
    return " ".join(text.split())
