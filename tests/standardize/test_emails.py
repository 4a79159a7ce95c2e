"""Tests for hub.standardize.emails."""

from __future__ import annotations

import re

import pytest

from hub.errors import InvalidValue
from hub.standardize.emails import standardize_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ali.karimi@example.ir", "ali.karimi@example.ir"),
        ("  Ali.Karimi@Example.IR ", "ali.karimi@example.ir"),
        ("mailto:ali@example.ir", "ali@example.ir"),
        ("MAILTO:Ali@Example.ir?subject=hello", "ali@example.ir"),
        ("<ali@example.ir>", "ali@example.ir"),
        ("Ali Karimi <Ali@Example.ir>", "ali@example.ir"),
        ('"Karimi, Ali" <ali+crm@mail.co.ir>', "ali+crm@mail.co.ir"),
        ("علی کریمی <ali@example.ir>", "ali@example.ir"),
        ("ali۱۳۶۵@gmail.com", "ali1365@gmail.com"),
        ("ali٦٥@yahoo.com", "ali65@yahoo.com"),
        ("\u200fali@example.ir\u200e", "ali@example.ir"),
        ("ali@ایران.ir", "ali@xn--mgba3a4f16a.ir"),
        ("info@مثال.ایران", "info@xn--mgbh0fb.xn--mgba3a4f16a"),
        ("o'neil_1@sub-domain.example.com", "o'neil_1@sub-domain.example.com"),
    ],
)
def test_standardize_email(raw: str, expected: str) -> None:
    assert standardize_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("ali@@example.com", "2 '@' signs"),
        ("ali.example.com", "no '@'"),
        ("ali@example", "no top-level domain"),
        ("@example.com", "nothing before '@'"),
        ("ali@", "nothing after '@'"),
        ("ali karimi@example.com", "spaces or characters"),
        ("علی@example.ir", "spaces or characters"),  # Persian keyboard slip
        ("ali..karimi@example.ir", "spaces or characters"),
        ("ali@exa_mple.com", "not a valid domain name"),
        ("ali@-example.com", "not a valid domain name"),
        ("ali@example..com", "not a valid domain name"),
        ("ali@example.c", "not a valid domain name"),
        ("ali@example.123", "not a valid domain name"),
        ("ali@ایران..ir", "internationalized domain name"),
        ("mailto:", "empty"),
        ("", "empty"),
    ],
)
def test_invalid(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValue, match=re.escape(repr(raw))) as info:
        standardize_email(raw)
    assert reason in str(info.value)
