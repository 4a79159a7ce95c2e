"""Persian text: a display form and a match key (PERSIAN.md §1, §9 step 2).

Both run once per text field per record, on up to a million records, so every
table and regex is built at import and a call is one ``str.translate`` plus a
couple of compiled substitutions (``text_key`` ~ several hundred thousand short
strings per second on one core).
"""

from __future__ import annotations

import re
import unicodedata

ZWNJ = "\u200c"

_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"  # U+06F0-06F9
_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"  # U+0660-0669

_DIGIT_TABLE: dict[int, str | None] = {
    ord(d): str(i % 10) for i, d in enumerate(_PERSIAN_DIGITS + _ARABIC_DIGITS)
}


def _display_table() -> dict[int, str | None]:
    table = dict(_DIGIT_TABLE)
    table.update({ord("ي"): "ی", ord("ى"): "ی", ord("ك"): "ک", 0x00A0: " "})
    # Vowel marks go; U+0653-0655 (madda, hamza above/below) stay because they
    # spell letters (هٔ is the ezafe'd heh, like ۀ which display keeps).
    deleted = [*range(0x064B, 0x0653), *range(0x0656, 0x0660), 0x0670, 0x0640]
    deleted += [0x200B, 0x200D, 0x200E, 0x200F, 0xFEFF, *range(0x202A, 0x202F)]
    deleted += range(0x2066, 0x206A)
    # Control characters (C0 but tab, line feed and return; DEL; C1), noncharacters and
    # lone surrogates: junk from copy and paste or a wrong decoding, and XML cannot hold
    # most of them, so a name carrying one would be refused by validation.
    deleted += [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
    deleted += [0xFFFE, 0xFFFF, *range(0xD800, 0xE000)]
    table.update(dict.fromkeys(deleted))
    return table


def _key_folds() -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(c): "ه" for c in "ةۀہ"}
    table.update({ord(c): "ا" for c in "أإٱآ"})
    table.update({ord("ؤ"): "و", ord("ئ"): "ی", ord("ے"): "ی"})
    table.update(dict.fromkeys([0x0653, 0x0654, 0x0655, ord(ZWNJ)]))
    return table


def _add_presentation_forms(table: dict[int, str | None]) -> None:
    """Fold Arabic presentation forms (U+FB50-FDFF, U+FE70-FEFC) through NFKC.

    NFKC is applied to these code points only (wholesale NFKC would also change
    e.g. superscripts and fullwidth forms); its output is passed through the
    table itself, since ``str.translate`` does not re-translate what it emits.
    """
    for cp in [*range(0xFB50, 0xFE00), *range(0xFE70, 0xFEFD)]:
        char = chr(cp)
        folded = unicodedata.normalize("NFKC", char)
        if folded == char:
            continue
        folded = folded.translate(table).strip()  # isolated harakat forms -> ""
        table[cp] = folded or None


_DISPLAY_TABLE = _display_table()
_add_presentation_forms(_DISPLAY_TABLE)
# The key table is display-then-fold in one pass (same result as text_key of
# normalize_text, which the tests check); presentation forms fold to their key.
_KEY_TABLE = {**_DISPLAY_TABLE, **_key_folds()}
_add_presentation_forms(_KEY_TABLE)

# A whitespace run swallows ZWNJs touching it ("ZWNJ next to a space is noise").
_SPACE_RUN = re.compile(r"[\s\u200c]*\s[\s\u200c]*")
_ZWNJ_RUN = re.compile(r"\u200c{2,}")
_SPACES = re.compile(r"\s+")
_STRIP = " \u200c"


def to_ascii_digits(s: str) -> str:
    """Turn Persian (U+06F0-06F9) and Arabic-Indic (U+0660-0669) digits into 0-9.

    Args:
        s: any text; other characters are left alone.

    Returns:
        The text with ASCII digits.
    """
    return s.translate(_DIGIT_TABLE)


def normalize_text(s: str) -> str:
    """Normalize Persian/Latin text for display and storage.

    Folds Arabic ي ى ك to Persian ی ک, digits to ASCII, presentation forms to
    letters; removes vowel marks, tatweel, bidi/zero-width marks (except ZWNJ),
    BOM; NBSP becomes a space. ZWNJ is kept (it is correct Persian spelling)
    but a run of ZWNJ becomes one, and a ZWNJ touching a space or the ends of
    the text is removed. Whitespace runs become one space; the result is
    stripped. آ ة ۀ أ are kept: only the match key folds them.

    Args:
        s: raw text.

    Returns:
        The display form.
    """
    # NFC composes decomposed آ/أ/ؤ/ئ (letter + U+0653/4/5) so they survive.
    s = unicodedata.normalize("NFC", s).translate(_DISPLAY_TABLE)
    s = _ZWNJ_RUN.sub(ZWNJ, _SPACE_RUN.sub(" ", s))
    return s.strip(_STRIP)


def text_key(s: str) -> str:
    """A match key: the display form with spelling variants folded.

    On top of ``normalize_text``: ة ۀ ہ and هٔ -> ه, أ إ ٱ آ -> ا, ؤ -> و,
    ئ ے -> ی, hamza/madda marks removed, ZWNJ removed (حسین‌زاده == حسینزاده),
    Latin case-folded. Spaces are kept, collapsed to single spaces: whether a
    space inside a name matters is for ``person_names`` to decide.

    Args:
        s: raw or display text.

    Returns:
        The key; ``text_key(s) == text_key(normalize_text(s))``.
    """
    s = unicodedata.normalize("NFC", s).translate(_KEY_TABLE)
    return _SPACES.sub(" ", s).strip().casefold()


def header_key(s: str) -> str:
    """A column header as a lookup key: ``text_key`` without spaces.

    Exports write the same header as ``كد ملي``, ``کد ملی`` or ``کدملی``; an integrator
    types it one way in a mapping or a pipeline, and every form finds it.
    """
    return text_key(s).replace(" ", "")
