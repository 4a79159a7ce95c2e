"""Seeded synthetic customers with the truth about them, for tests and benchmarks.

``write_synthetic_csv`` writes an accounting-style export (the headers of
``mappings/accounting_customers.yaml``) in which some people appear several times,
typed the way people type: Arabic ي/ك, half-space or space or nothing, honorifics,
phones in every form, national codes that lost their leading zeros. It returns which
person every row belongs to, so matching quality can be measured (F1).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HEADER = ["کد مشتری", "نام مشتری", "کد ملی", "موبایل", "تلفن", "آدرس", "شهر", "کد پستی",
          "تاریخ تولد", "ایمیل"]
_GIVEN = ("محمد علی حسین رضا مهدی امیر سعید حمید مجید احمد یوسف حسن جواد کاظم بهروز کوروش "
          "داوود وحید یحیی مصطفی فرهاد بهزاد کیوان سینا آرش پویا میلاد نیما فاطمه زهرا مریم "
          "سارا نرگس مینا لیلا شیرین پریسا نازنین الهام سمیرا مهسا کیمیا یاسمن طاهره معصومه "
          "فرزانه نگار آزاده ریحانه هانیه الناز محبوبه ژاله رویا").split()
_COMPOUND_GIVEN = ["علی‌رضا", "محمد‌رضا", "فاطمه‌زهرا", "امیر‌حسین", "محمد‌مهدی", "عبدالله"]
_FAMILY = ("کریمی یزدانی کاظمی احمدی رضایی حسینی موسوی قاسمی اصفهانی ابراهیمی صادقی نجفی "
           "رحیمی جعفری کرمانی توکلی قربانی صالحی محمدی نوری شریفی طاهری باقری عباسی امینی "
           "یوسفی مرادی سلطانی فراهانی شیرازی تهرانی بهرامی کیانی پاکزاد ملکی افشار نیک‌نام "
           "خسروی میرزایی").split()
_COMPOUND_FAMILY = ["حسین‌زاده", "کریمی‌نژاد", "محمد‌پور", "علی‌زاده", "رضا‌پور", "قلی‌زاده"]
_CITIES = [("تهران", "021"), ("اصفهان", "031"), ("شیراز", "071"), ("مشهد", "051"),
           ("تبریز", "041"), ("رشت", "013"), ("کرج", "026"), ("یزد", "035")]
_STREETS = ["خیابان ولیعصر", "خیابان انقلاب", "بلوار کشاورز", "خیابان شریعتی", "خیابان آزادی"]
_HONORIFICS = ["جناب آقای", "آقای", "خانم", "دکتر", "مهندس"]
_MOBILE_PREFIXES = ["912", "935", "901", "919", "936", "921", "910", "913", "930", "939"]
_DOMAINS = ["gmail.com", "yahoo.com", "chmail.ir", "outlook.com"]


def national_code(first9: str) -> str:
    """The valid national code starting with ``first9`` (PERSIAN.md §2.1)."""
    s = sum(int(d) * (10 - i) for i, d in enumerate(first9)) % 11
    return first9 + str(s if s < 2 else 11 - s)


def _arabic(text: str) -> str:
    return text.replace("ی", "ي").replace("ک", "ك")


def _messy_name(name: str, rng: random.Random) -> str:
    """The same name as someone else would type it."""
    choice = rng.random()
    if choice < 0.3:
        name = _arabic(name)
    elif choice < 0.5:
        name = name.replace("\u200c", " " if rng.random() < 0.5 else "")
    elif choice < 0.65:
        name = f"{rng.choice(_HONORIFICS)} {name}"
    return name


def _messy_mobile(digits: str, rng: random.Random) -> str:
    """``digits`` = 9XXXXXXXXX; one of the forms sources write."""
    forms = [f"0{digits}", digits, f"+98{digits}", f"0098{digits}", f"98{digits}",
             f"0{digits[:3]} {digits[3:6]} {digits[6:]}"]
    return rng.choice(forms)


def write_synthetic_csv(path: Path, people: int, *, seed: int = 1402,
                        duplicate_rate: float = 0.3) -> dict[str, int]:
    """Write ``people`` customers (plus their duplicates) to ``path``; return id -> person.

    Every person has a unique mobile, and most a unique national code and e-mail, so
    duplicates are findable; a tenth of the duplicates share only a name variant and the
    birth date (the fuzzy rule). Rows are shuffled so duplicates are far apart.
    """
    rng = random.Random(seed)
    used_mobiles: set[str] = set()
    used_codes: set[str] = set()
    rows: list[tuple[list[str], int]] = []
    for person in range(people):
        given = rng.choice(_COMPOUND_GIVEN if rng.random() < 0.15 else _GIVEN)
        family = rng.choice(_COMPOUND_FAMILY if rng.random() < 0.15 else _FAMILY)
        name = f"{given} {family}"
        while (mobile := rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}") \
                in used_mobiles:
            pass
        used_mobiles.add(mobile)
        while (code := national_code(f"{rng.randrange(10**9):09d}")) in used_codes:
            pass
        used_codes.add(code)
        city, area = rng.choice(_CITIES)
        birth = f"{rng.randrange(1320, 1385)}/{rng.randrange(1, 13):02d}/{rng.randrange(1, 29):02d}"
        email = f"customer{person}.{rng.randrange(100)}@{rng.choice(_DOMAINS)}"
        postal = f"{rng.choice('13456789')}{rng.randrange(10**9):09d}"
        base = [name, code, mobile, f"{area}-{rng.randrange(2 * 10**7, 9 * 10**7)}",
                f"{rng.choice(_STREETS)}، پلاک {rng.randrange(1, 300)}", city,
                f"{postal[:5]}-{postal[5:]}", birth, email]
        rows.append((_record(base, rng, first=True), person))
        copies = 0
        while rng.random() < (duplicate_rate if copies == 0 else 0.25) and copies < 3:
            copies += 1
            rows.append((_record(base, rng, first=False), person))
    rng.shuffle(rows)
    truth: dict[str, int] = {}
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for n, (row, person) in enumerate(rows, start=1):
            source_id = f"S{n:07d}"
            writer.writerow([source_id, *row])
            truth[source_id] = person
    return truth


def _record(base: list[str], rng: random.Random, *, first: bool) -> list[str]:
    name, code, mobile, landline, street, city, postal, birth, email = base
    if first:
        return [name, code, _messy_mobile(mobile, rng), landline, street, city, postal,
                birth, email]
    # A duplicate keeps some identifiers and loses others, as re-entered data does.
    kind = rng.random()
    keep_code = kind < 0.4
    keep_mobile = 0.3 < kind < 0.75
    keep_email = 0.65 < kind < 0.9
    fuzzy_only = kind >= 0.9   # name variant + birth date, nothing else shared
    return [
        _messy_name(name, rng),
        (code.lstrip("0") if rng.random() < 0.3 else code) if keep_code else "",
        _messy_mobile(mobile, rng) if keep_mobile else "",
        landline if rng.random() < 0.5 and not fuzzy_only else "",
        street if not fuzzy_only else "",
        city,
        postal if rng.random() < 0.5 and not fuzzy_only else "",
        birth if rng.random() < 0.7 or fuzzy_only else "",
        email.upper() if keep_email and rng.random() < 0.3 else (email if keep_email else ""),
    ]
