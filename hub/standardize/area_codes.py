"""Iranian landline area codes by city, for local numbers written without one.

Accounting exports often hold ``55296397`` for a Tehran landline: eight digits, the
``021`` left out because everyone in the office dials locally. With the record's city
(or a mapping's ``area_code``) the number is complete again. The table holds the
province capitals and the largest cities (PERSIAN.md §3), in Persian and Latin.
"""

from __future__ import annotations

from hub.standardize.persian_text import text_key

_CITIES = {
    "21": ("تهران", "tehran"), "26": ("کرج", "karaj"), "31": ("اصفهان", "isfahan", "esfahan"),
    "51": ("مشهد", "mashhad"), "71": ("شیراز", "shiraz"), "41": ("تبریز", "tabriz"),
    "61": ("اهواز", "ahvaz", "ahwaz"), "25": ("قم", "qom"), "83": ("کرمانشاه", "kermanshah"),
    "44": ("ارومیه", "urmia", "orumiyeh"), "13": ("رشت", "rasht"),
    "54": ("زاهدان", "zahedan"), "34": ("کرمان", "kerman"), "81": ("همدان", "hamedan"),
    "35": ("یزد", "yazd"), "86": ("اراک", "arak"), "45": ("اردبیل", "ardabil"),
    "76": ("بندرعباس", "بندر عباس", "bandar abbas"), "24": ("زنجان", "zanjan"),
    "87": ("سنندج", "sanandaj"), "28": ("قزوین", "qazvin"),
    "66": ("خرم‌آباد", "خرم آباد", "khorramabad"), "17": ("گرگان", "gorgan"),
    "11": ("ساری", "sari"), "77": ("بوشهر", "bushehr"), "56": ("بیرجند", "birjand"),
    "58": ("بجنورد", "bojnurd"), "84": ("ایلام", "ilam"), "38": ("شهرکرد", "shahrekord"),
    "74": ("یاسوج", "yasuj"), "23": ("سمنان", "semnan"),
}
AREA_CODES = {text_key(name): code for code, names in _CITIES.items() for name in names}


def area_code_of(city: str) -> str | None:
    """The area code (without its 0) of ``city``, or None for a city not in the table."""
    return AREA_CODES.get(text_key(city))
