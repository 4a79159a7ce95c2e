"""Tests for hub.standardize.persian_text."""

from __future__ import annotations

import pytest

from hub.standardize.persian_text import normalize_text, text_key, to_ascii_digits

ZWNJ = "\u200c"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("۰۹۱۲۱۲۳۴۵۶۷", "09121234567"),
        ("٠٩١٢١٢٣٤٥٦٧", "09121234567"),
        ("۰۹۱۲٣٤٥۶۷۸۹", "09123456789"),  # Persian and Arabic-Indic mixed
        ("٤٥٦ ۴۵۶", "456 456"),  # the two shapes of 4, 5, 6
        ("کد ۱۲۳ abc", "کد 123 abc"),
    ],
)
def test_to_ascii_digits(raw: str, expected: str) -> None:
    assert to_ascii_digits(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("علي كريمي", "علی کریمی"),  # Arabic yeh and kaf (cp1256 exports)
        ("مصطفى", "مصطفی"),  # alef maksura
        ("مُحَمَّد", "محمد"),  # harakat
        ("محـــمد", "محمد"),  # tatweel
        ("علی\u200fرضا \u200d", "علیرضا"),  # RLM and ZWJ
        ("\u202bعلی\u202c \u2067کریمی\u2069", "علی کریمی"),  # bidi embeddings/isolates
        ("\ufeffعلی\u200bرضا", "علیرضا"),  # BOM, ZWSP
        ("علی\u00a0کریمی", "علی کریمی"),  # NBSP
        ("  علی   \n\t کریمی  ", "علی کریمی"),
        ("تلفن: ۰۲۱-۸۸۷۷۶۶۵۵", "تلفن: 021-88776655"),
        ("\ufeb3\ufee0\ufe8e\ufee1", "سلام"),  # presentation forms
        ("\ufefb", "لا"),  # lam-alef ligature
        ("\ufef1\ufeae", "یر"),  # presentation yeh folds to Persian yeh
        # kept in display, folded only by the key
        ("فاطمة", "فاطمة"),
        ("خانۀ", "خانۀ"),
        ("کوچهٔ", "کوچهٔ"),
        ("أحمد إبراهیم آرش", "أحمد إبراهیم آرش"),
        ("مسؤول رئیسی", "مسؤول رئیسی"),
        ("ا\u0653رش", "آرش"),  # decomposed alef-madda composes, not lost
        ("Ali KARIMI", "Ali KARIMI"),  # display keeps Latin case
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("علی\u200cرضا", "علی\u200cرضا"),  # correct half-space kept
        ("علی\u200c\u200c\u200cرضا", "علی\u200cرضا"),  # repeated collapsed
        ("علی \u200cرضا", "علی رضا"),  # next to a space: removed
        ("علی\u200c رضا", "علی رضا"),
        ("\u200cعلی\u200c", "علی"),  # at the ends: removed
        ("می\u200cشود \u200c\u200c می شود", "می\u200cشود می شود"),
    ],
)
def test_normalize_text_zwnj(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("فاطمة", "فاطمه"),
        ("خانۀ", "خانه"),
        ("کوچهٔ", "کوچه"),
        ("أحمد إبراهیم آرش", "احمد ابراهیم ارش"),
        ("ٱلله", "الله"),
        ("مسؤول", "مسوول"),
        ("رئیسی", "رییسی"),
        ("حسین\u200cزاده", "حسینزاده"),
        ("علي كريمي", "علی کریمی"),
        ("  ALI   Karimi ", "ali karimi"),
        ("Straße", "strasse"),  # casefold, not lower
        ("مُحَمَّد\u200f ۱۲", "محمد 12"),
        ("\ufe81\ufeae\ufeb5", "ارش"),  # presentation آ folds like آ
    ],
)
def test_text_key(raw: str, expected: str) -> None:
    assert text_key(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "جناب آقاي دکتر علي كريمي",
        "\u200cفاطمة\u200c\u200c زهرا ",
        "کوچۀ شهید أحمدی، پلاک ۱۲",
        "ﷲ \ufeb3\ufee0\ufe8e\ufee1 مُحَمَّد",
        "Ali\u00a0REZA  Hosseini‌zadeh",
    ],
)
def test_text_key_equals_key_of_display(raw: str) -> None:
    assert text_key(raw) == text_key(normalize_text(raw))
    assert normalize_text(normalize_text(raw)) == normalize_text(raw)


def test_display_keeps_zwnj_key_folds_three_spellings() -> None:
    spellings = ["علی\u200cرضا", "علیرضا", "علي‌رضا"]
    assert normalize_text("علی\u200cرضا") == "علی\u200cرضا"
    assert ZWNJ in normalize_text("علي\u200cرضا")
    assert {text_key(s) for s in spellings} == {"علیرضا"}
    # with a space the key keeps the space: person_names.compact_key folds that one
    assert text_key("علی رضا") == "علی رضا"
