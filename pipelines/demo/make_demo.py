"""Generate the demo inputs: two systems' customer exports and the truth about them.

Run ``python pipelines/demo/make_demo.py``; it writes next to itself, deterministically
(``random.Random(1402)``, fixed XLSX timestamps), so a re-run gives byte-identical files:

* ``accounting_customers.csv``: an old accounting program's export (Holoo-like):
  Windows-1256, ``;``-separated, CRLF, Arabic-letter headers, one full-name field with
  honorifics, Arabic ي everywhere (cp1256 has no Persian ی) and Arabic ك in some rows,
  national codes that lost leading zeros, mobiles in every form, Jalali dates as text.
* ``sales_leads.xlsx``: a sales team's lead sheet (``Leads``, plus a hidden ``Lists`` sheet
  feeding two dropdowns): Persian names with ZWNJ variants, some Latin names, mobiles as
  numbers (the 0 lost), Persian digits or ``+98 ...``, birthdays as date cells or Jalali
  text in Persian digits.
* ``truth.csv``: for every row, the person it belongs to, and the one field whose value
  is invalid where there is one.

The truth follows matcher v1: two records are one person when (a) they share a valid
national code; (b) they share an email (case-insensitive) or a mobile (E.164), unless both
carry national codes that differ; (c) their names agree after folding (honorifics, ي/ك,
ZWNJ and spaces, digits), exactly or but for one letter, and they share the birth date or
the postal code. Links are transitive. The cases:

* persons in both files, linked by mobile and/or email (sales names often Latin);
* re-entered customers in accounting (same national code, name and phone typed otherwise),
  duplicate leads in sales (email in another case, mobile in another form);
* persons linked by rule (c) alone (ZWNJ/space variants, a one-letter typo);
* a bridge: accounting has only the mobile, one lead only the email, a later lead both;
* traps: a family sharing landline and address; two different ``محمد احمدی``; a son using
  his father's mobile (national codes differ, so rule (b) does not link them);
* seven rows with one invalid value each, whose persons appear nowhere else: the hub
  accepts each row with that value set aside (in quarantine), so each is a customer.

At the end the rules are checked on the files as written, independently of the hub's code.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jdatetime
import openpyxl
import phonenumbers
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.xml.functions import tostring

HERE = Path(__file__).resolve().parent
FIXED_TIME = dt.datetime(2024, 3, 20, 9, 0, 0)  # 1 Farvardin 1403
ACC_HEADER = ["كد مشتري", "نام مشتري", "كد ملي", "موبايل", "تلفن", "آدرس", "شهر", "كد پستي",
              "تاريخ تولد", "ايميل"]
SALES_HEADER = ["Lead ID", "First Name", "Last Name", "Company", "Mobile", "Email", "City",
                "Postal Code", "Birthday", "Stage", "SMS opt-in"]
FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

# "|" marks where compound names are joined by ZWNJ, a space or nothing.
MALE = [("محمد", "Mohammad"), ("علی", "Ali"), ("حسین", "Hossein"), ("رضا", "Reza"),
        ("مهدی", "Mahdi"), ("امیر", "Amir"), ("حسن", "Hassan"), ("مصطفی", "Mostafa"),
        ("سعید", "Saeed"), ("مجید", "Majid"), ("حمید", "Hamid"), ("جواد", "Javad"),
        ("فرهاد", "Farhad"), ("کامران", "Kamran"), ("بهزاد", "Behzad"), ("کیوان", "Keyvan"),
        ("یوسف", "Yousef"), ("یاسر", "Yaser"), ("مرتضی", "Morteza"), ("پویا", "Pouya"),
        ("محمد|رضا", "Mohammadreza"), ("علی|رضا", "Alireza"), ("امیر|حسین", "Amirhossein"),
        ("ابو|الفضل", "Abolfazl"), ("آرش", "Arash"), ("بابک", "Babak"), ("سیاوش", "Siavash"),
        ("کوروش", "Kourosh"), ("نیما", "Nima"), ("پیمان", "Peyman"), ("میلاد", "Milad"),
        ("سینا", "Sina"), ("اکبر", "Akbar"), ("کریم", "Karim"), ("یحیی", "Yahya"),
        ("شهرام", "Shahram"), ("داوود", "Davoud"), ("هادی", "Hadi"), ("وحید", "Vahid")]
FEMALE = [("فاطمه", "Fatemeh"), ("زهرا", "Zahra"), ("مریم", "Maryam"), ("سارا", "Sara"),
          ("نرگس", "Narges"), ("لیلا", "Leila"), ("الهام", "Elham"), ("مهسا", "Mahsa"),
          ("نازنین", "Nazanin"), ("کیمیا", "Kimia"), ("یاسمن", "Yasaman"), ("سمیرا", "Samira"),
          ("شیرین", "Shirin"), ("پریسا", "Parisa"), ("نگار", "Negar"), ("مینا", "Mina"),
          ("فرزانه", "Farzaneh"), ("الناز", "Elnaz"), ("سپیده", "Sepideh"), ("زینب", "Zeynab"),
          ("معصومه", "Masoumeh"), ("ریحانه", "Reyhaneh"), ("هانیه", "Hanieh"),
          ("یگانه", "Yeganeh"), ("آزاده", "Azadeh"), ("رویا", "Roya"), ("ستاره", "Setareh"),
          ("بهاره", "Bahareh"), ("فرناز", "Farnaz"), ("نیلوفر", "Niloufar"),
          ("مژگان", "Mojgan"), ("طاهره", "Tahereh"), ("سمانه", "Samaneh"), ("کبری", "Kobra"),
          ("فاطمه|زهرا", "Fatemehzahra")]
FAMILY = [("کریمی", "Karimi"), ("یزدانی", "Yazdani"), ("کاظمی", "Kazemi"), ("احمدی", "Ahmadi"),
          ("محمدی", "Mohammadi"), ("حسینی", "Hosseini"), ("رضایی", "Rezaei"),
          ("موسوی", "Mousavi"), ("جعفری", "Jafari"), ("قاسمی", "Ghasemi"), ("رحیمی", "Rahimi"),
          ("صادقی", "Sadeghi"), ("نوری", "Nouri"), ("اکبری", "Akbari"), ("کیانی", "Kiani"),
          ("یوسفی", "Yousefi"), ("شریفی", "Sharifi"), ("طاهری", "Taheri"), ("ملکی", "Maleki"),
          ("باقری", "Bagheri"), ("نجفی", "Najafi"), ("عباسی", "Abbasi"), ("توکلی", "Tavakoli"),
          ("زمانی", "Zamani"), ("فراهانی", "Farahani"), ("سلیمانی", "Soleimani"),
          ("کرمانی", "Kermani"), ("یعقوبی", "Yaghoubi"), ("کاشانی", "Kashani"),
          ("حیدری", "Heydari"), ("کریم|زاده", "Karimzadeh"), ("حسین|زاده", "Hosseinzadeh"),
          ("علی|زاده", "Alizadeh"), ("قلی|زاده", "Gholizadeh"), ("تقی|زاده", "Taghizadeh"),
          ("یزدان|پور", "Yazdanpour"), ("محمد|پور", "Mohammadpour"), ("حسن|پور", "Hassanpour"),
          ("علی|پور", "Alipour"), ("رحیم|نژاد", "Rahimnejad"), ("کریمی|نژاد", "Kariminejad"),
          ("مهدی|نژاد", "Mahdinejad"), ("یزدی|نژاد", "Yazdinejad")]
# (name, Latin, postal-code prefixes, area code, weight)
CITIES = [("تهران", "Tehran", ["13", "14", "15", "16", "19"], "21", 30),
          ("کرج", "Karaj", ["31"], "26", 5), ("اصفهان", "Isfahan", ["81"], "31", 6),
          ("مشهد", "Mashhad", ["91"], "51", 6), ("شیراز", "Shiraz", ["71"], "71", 5),
          ("تبریز", "Tabriz", ["51"], "41", 5), ("قم", "Qom", ["37"], "25", 2),
          ("اهواز", "Ahvaz", ["61"], "61", 2), ("رشت", "Rasht", ["41"], "13", 3),
          ("کرمان", "Kerman", ["76"], "34", 2), ("یزد", "Yazd", ["89"], "35", 2),
          ("همدان", "Hamedan", ["65"], "81", 2), ("کرمانشاه", "Kermanshah", ["67"], "83", 2),
          ("ارومیه", "Urmia", ["57"], "44", 1), ("قزوین", "Qazvin", ["34"], "28", 1),
          ("ساری", "Sari", ["48"], "11", 1), ("اراک", "Arak", ["38"], "86", 1)]
STREETS = ["خیابان ولیعصر", "خیابان انقلاب", "خیابان آزادی", "بلوار کشاورز", "خیابان شریعتی",
           "خیابان مطهری", "خیابان بهشتی", "بلوار امام رضا", "خیابان چهارباغ", "خیابان زند",
           "خیابان فردوسی", "بلوار معلم", "خیابان طالقانی", "خیابان سعدی", "خیابان حافظ",
           "خیابان پاسداران", "بلوار کریمخان"]
ALLEYS = ["کوچه نسترن", "کوچه یاس", "کوچه لاله", "بن‌بست مهر", "کوچه گلستان", "کوچه {n}"]
COMPANIES = ["پارس‌آوا", "فروشگاه کیان", "بازرگانی نوین", "شرکت آریا سیستم (سهامی خاص)",
             "گروه صنعتی مهر", "تک‌دانه", "Kaveh Trading Co.", "کلینیک یاس", "چاپ سپید"]
MOBILE_PREFIXES = ["912", "935", "901", "919", "936", "921", "910", "913", "915", "917",
                   "918", "930", "933", "937", "938", "939", "902", "903", "905", "920",
                   "922", "914"]
DOMAINS = ["gmail.com"] * 5 + ["yahoo.com"] * 2 + ["chmail.ir", "outlook.com", "ymail.com"]
HONORIFICS = {False: ["جناب آقای", "آقای", "دکتر", "مهندس"],
              True: ["خانم", "سرکار خانم", "دکتر", "مهندس"]}


def national_code_check_digit(first9: str) -> str:
    """The tenth digit of an Iranian national code (PERSIAN.md §2.1)."""
    s = sum(int(d) * (10 - i) for i, d in enumerate(first9)) % 11
    return str(s if s < 2 else 11 - s)


@dataclass
class Person:
    given: tuple[str, str]
    family: tuple[str, str]
    female: bool
    nc: str
    mobile: str  # national number without the 0: 9121234567
    mobile2: str  # a second number the person gave elsewhere
    email: str
    birth: jdatetime.date
    city: tuple[str, str, list[str], str, int]
    postal: str
    landline: str  # area code + 8 digits, without the 0
    address: str


@dataclass(eq=False)
class Rec:
    system: str
    person: Person
    data: dict[str, Any]
    invalid: str = ""
    note: str = ""  # "{0}", "{1}" name the source ids of refs
    refs: tuple[Rec, ...] = ()
    sid: str = ""


@dataclass
class Gen:
    rng: random.Random
    names: set[str] = field(default_factory=set)
    values: set[str] = field(default_factory=set)

    def unique(self, make: Any) -> str:
        while (value := make()) in self.values:
            pass
        self.values.add(value)
        return value

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def national_code(self, zeros: bool = False) -> str:
        def make() -> str:
            while True:
                head = "00" + self.rng.choice("123456789") if zeros else \
                    self.rng.choice("0123456789") + self.digits(2)
                body = head + self.digits(6)
                if body[3:9] != "000000" and len(set(body)) > 1:
                    return body + national_code_check_digit(body)
        return self.unique(make)

    def postal(self, city: tuple[str, str, list[str], str, int]) -> str:
        def make() -> str:  # the shape rule of PERSIAN.md §2.4, so no code is even flagged
            while True:
                code = (self.rng.choice(city[2]) + "".join(self.rng.choice("13456789")
                                                           for _ in range(2))
                        + self.rng.choice("134679")
                        + "".join(self.rng.choice("013456789") for _ in range(5)))
                if len(set(code[:4])) > 1:
                    return code
        return self.unique(make)

    def birth(self) -> jdatetime.date:
        def make() -> str:
            y, m = self.rng.randint(1335, 1382), self.rng.randint(1, 12)
            return f"{y}/{m}/{self.rng.randint(1, 31 if m <= 6 else 30 if m <= 11 else 29)}"
        y, m, d = map(int, self.unique(make).split("/"))
        return jdatetime.date(y, m, d)

    def person(self, given: tuple[str, str] | None = None, family: tuple[str, str] | None = None,
               female: bool | None = None, *, zeros: bool = False, twin_ok: bool = False,
               household: Person | None = None) -> Person:
        female = self.rng.random() < 0.45 if female is None else female
        while True:
            g = given or self.rng.choice(FEMALE if female else MALE)
            f = family or self.rng.choice(FAMILY)
            if twin_ok or compact(g[0] + f[0]) not in self.names:
                break
        self.names.add(compact(g[0] + f[0]))
        email = self.unique(lambda: self.email_for(g[1], f[1]))
        city = household.city if household else self.rng.choices(
            CITIES, weights=[c[4] for c in CITIES])[0]
        area = city[3]
        return Person(
            given=g, family=f, female=female, nc=self.national_code(zeros),
            mobile=self.mobile(), mobile2=self.mobile(), email=email, birth=self.birth(),
            city=city, postal=household.postal if household else self.postal(city),
            landline=household.landline if household else self.unique(
                lambda: area + self.rng.choice("2345678") + self.digits(7)),
            address=household.address if household else self.address())

    def mobile(self) -> str:
        return self.unique(lambda: self.rng.choice(MOBILE_PREFIXES) + self.digits(7))

    def email_for(self, given: str, family: str) -> str:
        g, f = given.lower(), family.lower()
        local = self.rng.choice([f"{g}.{f}", f"{g}{f}", f"{g[0]}.{f}", f"{f}.{g}", f"{g}_{f}"])
        if self.rng.random() < 0.5:
            local += str(self.rng.randint(50, 99))
        return f"{local}@{self.rng.choice(DOMAINS)}"

    def address(self) -> str:
        alley = self.rng.choice(ALLEYS).format(n=self.rng.randint(2, 40))
        text = f"{self.rng.choice(STREETS)}، {alley}، پلاک {self.rng.randint(1, 120)}"
        return text + (f"، واحد {self.rng.randint(1, 12)}" if self.rng.random() < 0.4 else "")

    # -- records -----------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def spell(self, name: str, style: str | None = None) -> str:
        style = style or self.rng.choice(["zwnj", "zwnj", "space", "none"])
        return name.replace("|", {"zwnj": "\u200c", "space": " ", "none": ""}[style])

    def acc(self, p: Person, *, nc: Any = None, mobile: Any = None, email: Any = None,
            landline: Any = None, birth: Any = None, postal: Any = None, honorific: Any = None,
            style: str | None = None, family: str | None = None) -> Rec:
        """An accounting row; each option: None random, False absent, True present, or a value."""
        rng = self.rng
        name = f"{self.spell(p.given[0], style)} {self.spell(family or p.family[0], style)}"
        if self.chance(0.25) if honorific is None else honorific:
            name = f"{rng.choice(HONORIFICS[p.female])} {name}"
        if nc is None:
            nc = self.chance(0.75)
        if nc is True:
            nc = p.nc.lstrip("0") if p.nc.startswith("0") and self.chance(0.8) else p.nc
        mob = pick(mobile, self.chance(0.85), p.mobile)
        if isinstance(mob, str) and re.fullmatch("9[0-9]{9}", mob):
            mob = rng.choice([f"0{mob}", f"0{mob}", mob, f"0{mob[:3]} {mob[3:6]} {mob[6:]}",
                              f"98{mob}", f"0098{mob}", f"+98{mob}"])
        tel = pick(landline, self.chance(0.5), p.landline)
        if isinstance(tel, str) and tel == p.landline:
            sep = rng.choice(["-", "-", "", " "])
            tel = f"0{tel[:2]}{sep}{tel[2:]}"
        born = pick(birth, self.chance(0.6), p.birth)
        if isinstance(born, jdatetime.date):
            b = born
            born = rng.choice([f"{b.year}/{b.month:02}/{b.day:02}", f"{b.year}/{b.month}/{b.day}"])
        code = pick(postal, self.chance(0.7), p.postal)
        if code == p.postal and self.chance(0.5):
            code = f"{code[:5]}-{code[5:]}"
        mail = pick(email, self.chance(0.3), p.email)
        has_address = self.chance(0.8)
        kaf = self.chance(0.3)  # some rows were typed with the Arabic keyboard layout
        data = {"نام مشتري": name, "كد ملي": nc or None, "موبايل": mob or None,
                "تلفن": tel or None, "آدرس": p.address if has_address else None,
                "شهر": p.city[0] if has_address or self.chance(0.5) else None,
                "كد پستي": code or None, "تاريخ تولد": born or None, "ايميل": mail or None}
        for key in ("نام مشتري", "آدرس", "شهر"):
            if data[key]:
                data[key] = data[key].replace("ی", "ي")
                data[key] = data[key].replace("ک", "ك") if kaf else data[key]
        return Rec("accounting", p, data)

    def sales(self, p: Person, *, mobile: Any = None, email: Any = None, birth: Any = None,
              postal: Any = None, latin: bool | None = None, style: str | None = None,
              family: str | None = None) -> Rec:
        """A sales lead; options as for ``acc``; birth may be "date" or "jalali"."""
        rng = self.rng
        latin = self.chance(0.15) if latin is None else latin
        first = p.given[1] if latin else self.spell(p.given[0], style)
        last = p.family[1] if latin else self.spell(family or p.family[0], style)
        mob: Any = pick(mobile, self.chance(0.85), p.mobile)
        if isinstance(mob, str) and re.fullmatch("9[0-9]{9}", mob):
            mob = rng.choice([int(mob), int(mob), f"0{mob}".translate(FA_DIGITS),
                              f"+98 {mob[:3]} {mob[3:6]} {mob[6:]}", f"0{mob}"])
        mail = pick(email, self.chance(0.7), p.email)
        born: Any = birth if birth in ("date", "jalali", False) else (
            rng.choice(["date", "jalali"]) if self.chance(0.5) else False)
        if born == "date":
            born = p.birth.togregorian()
        elif born == "jalali":
            b = p.birth
            born = f"{b.year}/{b.month:02}/{b.day:02}".translate(FA_DIGITS)
        code: Any = pick(postal, self.chance(0.4), p.postal)
        if code == p.postal:
            code = int(code) if self.chance(0.5) else f"{code[:5]}-{code[5:]}"
        city = p.city[1] if latin and self.chance(0.5) else p.city[0]
        data = {"First Name": first, "Last Name": last,
                "Company": rng.choice(COMPANIES) if self.chance(0.25) else None,
                "Mobile": mob or None, "Email": mail or None,
                "City": city if self.chance(0.8) else None, "Postal Code": code or None,
                "Birthday": born or None,
                "Stage": rng.choices(["Lead", "Prospect", "Customer"], [5, 3, 2])[0],
                "SMS opt-in": rng.choices(["Yes", "No", None], [45, 30, 25])[0]}
        return Rec("sales", p, data)


def pick(option: Any, by_chance: bool, value: Any) -> Any:
    """An option's value: None -> ``value`` by chance, True -> ``value``, else as given."""
    if option is None:
        return value if by_chance else None
    return value if option is True else option


def email_case(email: str, rng: random.Random) -> str:
    local, _, domain = email.partition("@")
    if rng.random() < 0.5:
        return email.upper()
    return ".".join(s.capitalize() for s in local.split(".")) + "@" + domain.capitalize()


def link(later: Rec, note: str, *earlier: Rec) -> Rec:
    later.note, later.refs = note, earlier
    return later


# -- the cases ----------------------------------------------------------------------------


def build(rng: random.Random) -> tuple[list[Rec], list[Rec], list[tuple[Rec, Rec]]]:
    """All records, and the pairs whose first must come before the second in its file."""
    g = Gen(rng)
    acc: list[Rec] = []
    sales: list[Rec] = []
    before: list[tuple[Rec, Rec]] = []

    # Persons only rule (c) links: names that differ in ZWNJ/space/one letter, same date
    # or postal code, no shared national code, mobile or email.
    p = g.person(("مهدی", "Mahdi"), ("حسین|زاده", "Hosseinzadeh"), False)
    a = g.acc(p, nc=True, mobile=False, email=False, birth=True, style="zwnj", honorific=False)
    acc.append(a)
    sales.append(link(g.sales(p, mobile=p.mobile2, email=True, birth="date", style="space",
                              latin=False, postal=False),
                      "zwnj/space variant of {0}, same birth date (rule c only)", a))
    p = g.person(("علی|رضا", "Alireza"), ("فرهمند", "Farahmand"), False)
    s1 = g.sales(p, mobile=True, email=False, birth="jalali", style="none", latin=False)
    s2 = link(g.sales(p, mobile=False, email=True, birth="date", style="zwnj", latin=False,
                      postal=False), "zwnj variant of {0}, same birth date (rule c only)", s1)
    sales += [s1, s2]
    before.append((s1, s2))
    p = g.person(("نرگس", "Narges"), ("قربانی", "Ghorbani"), True)
    a = g.acc(p, nc=True, mobile=True, email=False, birth=True, postal=False)
    acc.append(a)
    sales.append(link(g.sales(p, mobile=p.mobile2, email=True, birth="jalali", latin=False,
                              family="قوربانی", postal=False),
                      "one-letter typo of {0}, same birth date (rule c only)", a))
    p = g.person(("عبد|الله", "Abdollah"), ("شاکری", "Shakeri"), False)
    a1 = g.acc(p, nc=True, mobile=True, email=False, birth=False, postal=True, style="none",
               honorific=False, landline=False)
    a2 = link(g.acc(p, nc=False, mobile=False, email=False, birth=False, postal=True,
                    style="space", honorific=True, landline=True),
              "space variant of {0} with honorific, same postal code (rule c only)", a1)
    acc += [a1, a2]
    before.append((a1, a2))

    # The bridge: X has the mobile, Y the email, Z (a later lead) both.
    p = g.person(("سارا", "Sara"), ("محمدی", "Mohammadi"), True)
    x = g.acc(p, nc=False, mobile=True, email=False, birth=False, postal=False)
    y = g.sales(p, mobile=False, email=True, birth=False, postal=False, latin=True)
    z = g.sales(p, mobile=True, email=email_case(p.email, rng), birth=False, latin=False)
    link(x, "bridge part 1: mobile only, joined to {0} by {1}", y, z)
    link(y, "bridge part 2: email only, joined to {0} by {1}", x, z)
    link(z, "bridge: mobile of {0} + email of {1}", x, y)
    acc.append(x)
    sales += [y, z]
    before.append((y, z))

    # Traps: different persons.
    p1 = g.person(("رضا", "Reza"), ("یزدانی", "Yazdani"), False)
    p2 = g.person(("فاطمه", "Fatemeh"), ("یزدانی", "Yazdani"), True, household=p1)
    a1 = g.acc(p1, nc=True, mobile=True, landline=True, postal=True, email=False)
    a2 = g.acc(p2, nc=True, mobile=True, landline=True, postal=True, email=False)
    link(a1, "family shares landline and postal code with {0}, different person", a2)
    link(a2, "family shares landline and postal code with {0}, different person", a1)
    acc += [a1, a2]
    p1 = g.person(("محمد", "Mohammad"), ("احمدی", "Ahmadi"), False)
    p2 = g.person(("محمد", "Mohammad"), ("احمدی", "Ahmadi"), False, twin_ok=True)
    a = g.acc(p1, nc=True, birth=True, postal=True, honorific=False)
    s = g.sales(p2, birth="date", postal=True, latin=False)
    acc.append(link(a, "same name as {0}, different person", s))
    sales.append(link(s, "same name as {0}, different person", a))
    father = g.person(("حسن", "Hassan"), ("کاظمی", "Kazemi"), False)
    son = g.person(("امیر", "Amir"), ("کاظمی", "Kazemi"), False)
    a1 = g.acc(father, nc=father.nc, mobile=True, email=False)
    a2 = link(g.acc(son, nc=son.nc, mobile=father.mobile, email=False),
              "uses the mobile of {0} but national codes differ: different person", a1)
    acc += [a1, a2]
    before.append((a1, a2))

    # Persons in both files.
    for i in range(34):
        p = g.person()
        how = rng.choices(["mobile", "email", "both"], [55, 25, 20])[0]
        latin = rng.random() < 0.3
        if how == "mobile":
            a = g.acc(p, mobile=True, email=False)
            s = g.sales(p, mobile=True, latin=latin)
        elif how == "email":
            a = g.acc(p, mobile=None, email=True)
            s = g.sales(p, mobile=p.mobile2 if rng.random() < 0.5 else False,
                        email=email_case(p.email, rng) if i % 3 == 0 else True, latin=latin)
        else:
            a = g.acc(p, mobile=True, email=True)
            s = g.sales(p, mobile=True, email=True, latin=latin)
        what = {"mobile": "mobile", "email": "email", "both": "mobile and email"}[how]
        acc.append(a)
        sales.append(link(s, f"same person as {{0}}: shared {what}"
                          + (", Latin name" if latin else ""), a))

    # Customers entered twice in accounting: same national code, typed otherwise.
    for i in range(6):
        p = g.person(family=rng.choice([f for f in FAMILY if "|" in f[0]]) if i < 3 else None,
                     zeros=i < 2)
        a1 = g.acc(p, nc=p.nc, honorific=i % 2 == 0, style="zwnj")
        a2 = g.acc(p, nc=p.nc.lstrip("0") if i < 2 else p.nc, honorific=i % 2 == 1,
                   style="space" if i < 3 else None,
                   mobile=p.mobile if a1.data["موبايل"] else None)
        if a1.data["موبايل"] and a2.data["موبايل"] == a1.data["موبايل"]:
            a2.data["موبايل"] = f"0098{p.mobile}" if a1.data["موبايل"][:2] != "00" \
                else f"0{p.mobile[:3]} {p.mobile[3:6]} {p.mobile[6:]}"
        extra = ", national code without its leading zeros" if i < 2 else ""
        acc += [a1, link(a2, "re-entered duplicate of {0}: same national code" + extra, a1)]
        before.append((a1, a2))

    # Leads entered twice: the email in another case, or the mobile in another form.
    for i in range(4):
        p = g.person()
        if i < 2:
            s1 = g.sales(p, email=True, mobile=True)
            s2 = g.sales(p, email=email_case(p.email, rng), mobile=False)
            note = "duplicate of {0}: same email, other case"
        else:
            s1 = g.sales(p, mobile=int(p.mobile), email=False)
            s2 = g.sales(p, mobile=f"0{p.mobile}".translate(FA_DIGITS) if i == 2
                         else f"+98 {p.mobile[:3]} {p.mobile[3:6]} {p.mobile[6:]}", email=False)
            note = "duplicate of {0}: same mobile, other form"
        sales += [s1, link(s2, note, s1)]
        before.append((s1, s2))

    # Rows invalid in exactly one field; their persons appear nowhere else.
    p = g.person()
    bad = p.nc[:9] + str((int(p.nc[9]) + 1) % 10)
    acc.append(invalid(g.acc(p, nc=bad), "nationalCode", "check digit fails"))
    acc.append(invalid(g.acc(g.person(), birth="1367/07/31"), "birthDate",
                       "1367/07/31 does not exist (Mehr has 30 days)"))
    p = g.person()
    acc.append(invalid(g.acc(p, postal=p.postal[:7]), "addresses.address.postalCode",
                       "postal code has 7 digits"))
    p = g.person()
    acc.append(invalid(g.acc(p, mobile=f"0{p.mobile[:9]}"), "phones.phone",
                       "mobile has 10 digits"))
    sales.append(invalid(g.sales(g.person(), mobile="0912abc45"), "phones.phone",
                         "letters in the mobile"))
    p = g.person(("رضا", "Reza"))
    sales.append(invalid(g.sales(p, email="reza@@example.com"), "emails.email",
                         "two @ in the email"))
    p = g.person()
    sales.append(invalid(g.sales(p, email=p.email.replace("@", ".")), "emails.email",
                         "no @ in the email"))

    acc += [g.acc(g.person()) for _ in range(52)]
    sales += [g.sales(g.person()) for _ in range(40)]
    return acc, sales, before


def invalid(rec: Rec, field_path: str, why: str) -> Rec:
    rec.invalid, rec.note = field_path, f"invalid: {why}"
    return rec


def arrange(records: list[Rec], before: list[tuple[Rec, Rec]], rng: random.Random,
            ids: Iterable[str]) -> list[Rec]:
    """Shuffle the file's rows, keep the ordered pairs in order, then number them."""
    rng.shuffle(records)
    index = {id(r): i for i, r in enumerate(records)}
    for first, second in before:
        if id(first) in index and index[id(first)] > index[id(second)]:
            i, j = index[id(first)], index[id(second)]
            records[i], records[j] = second, first
            index[id(first)], index[id(second)] = j, i
    for rec, sid in zip(records, ids, strict=False):
        rec.sid = sid
    return records


# -- writing ------------------------------------------------------------------------------


def write_accounting(records: list[Rec], path: Path) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(ACC_HEADER)
    for r in records:
        writer.writerow([r.sid, *("" if v is None else v for v in r.data.values())])
    path.write_bytes(out.getvalue().encode("cp1256"))  # strict: a ی here would be a bug


def write_sales(records: list[Rec], path: Path) -> None:
    book = openpyxl.Workbook()
    leads = book.active
    leads.title = "Leads"
    leads.append(SALES_HEADER)
    for r in records:
        leads.append([r.sid, *r.data.values()])
    for row in leads.iter_rows(min_row=2, min_col=9, max_col=9):
        if isinstance(row[0].value, dt.date):
            row[0].number_format = "yyyy-mm-dd"
    leads.freeze_panes = "A2"
    lists = book.create_sheet("Lists")
    lists.append(["Stage", "SMS opt-in"])
    for stage, opt in [("Lead", "Yes"), ("Prospect", "No"), ("Customer", None)]:
        lists.append([stage, opt])
    lists.sheet_state = "hidden"
    last = len(records) + 1
    for col, ref in (("J", "$A$2:$A$4"), ("K", "$B$2:$B$3")):
        rule = DataValidation(type="list", formula1=f"Lists!{ref}", allow_blank=True)
        rule.add(f"{col}2:{col}{last}")
        leads.add_data_validation(rule)
    book.properties.creator = "Peyvand demo generator"
    book.properties.created = FIXED_TIME
    buffer = io.BytesIO()
    book.save(buffer)
    # openpyxl stamps "modified" and every zip entry with the current time: fix both.
    book.properties.modified = FIXED_TIME
    core = tostring(book.properties.to_tree())
    stable = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(stable, "w") as dst:
        for info in src.infolist():
            data = core if info.filename == "docProps/core.xml" else src.read(info)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(entry, data)
    path.write_bytes(stable.getvalue())


def write_truth(acc: list[Rec], sales: list[Rec], path: Path) -> None:
    persons: dict[int, str] = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["source_system", "source_id", "person", "invalid_field", "note"])
    for r in acc + sales:
        pid = persons.setdefault(id(r.person), f"P{len(persons) + 1:03}")
        writer.writerow([r.system, r.sid, pid, r.invalid,
                         r.note.format(*(x.sid for x in r.refs))])
    path.write_text(out.getvalue(), encoding="utf-8")


# -- the independent check ----------------------------------------------------------------

FOLD = str.maketrans({"ي": "ی", "ك": "ک", "\u200c": None, " ": None,
                      **{chr(0x06F0 + i): str(i) for i in range(10)}})
TITLES = ["جناب آقای", "سرکار خانم", "آقای", "خانم", "دکتر", "مهندس"]


def compact(name: str) -> str:
    text = name.replace("|", "").replace("ي", "ی").replace("ك", "ک").strip()
    stripped = True
    while stripped:
        stripped = False
        for title in TITLES:
            if text.startswith(title + " "):
                text, stripped = text[len(title) + 1:], True
    return text.translate(FOLD).lower()


def near(a: str, b: str) -> bool:
    """Equal, or one insertion, deletion or substitution apart."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k in range(len(a)) if a[k] != b[k]), len(a))
    return a[i + (len(a) == len(b)):] == b[i + 1:]


def check_nc(raw: str) -> str:
    digits = raw.translate(FOLD)
    if not re.fullmatch(r"\d{8,10}", digits):
        raise ValueError
    code = digits.zfill(10)
    if national_code_check_digit(code[:9]) != code[9]:
        raise ValueError
    return code


def check_mobile(raw: Any) -> str:
    digits = re.sub(r"[\s\-+()]", "", str(raw).translate(FOLD))
    digits = re.sub(r"^(0098|98|0)", "", digits)
    if not re.fullmatch(r"9[0-3]\d{8}", digits):
        raise ValueError
    if not phonenumbers.is_valid_number(phonenumbers.parse(str(raw), "IR")):
        raise AssertionError(f"phonenumbers disagrees on {raw!r}")
    return "+98" + digits


def check_landline(raw: str) -> str:
    digits = re.sub(r"[\s\-]", "", raw)
    if not re.fullmatch(r"0[1-8]\d{9}", digits) or not phonenumbers.is_valid_number(
            phonenumbers.parse(raw, "IR")):
        raise ValueError
    return digits


def check_email(raw: str) -> str:
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}", raw):
        raise ValueError
    return raw.lower()


def check_birth(raw: Any) -> str:
    if isinstance(raw, dt.datetime | dt.date):
        return raw.strftime("%Y-%m-%d")
    y, m, d = map(int, str(raw).translate(FOLD).split("/"))
    return jdatetime.date(y, m, d).togregorian().isoformat()  # raises for 1367/07/31


def check_postal(raw: Any) -> str:
    digits = str(raw).replace("-", "")
    if not re.fullmatch(r"\d{10}", digits):
        raise ValueError
    return digits


def read_back() -> list[dict[str, Any]]:
    """The files as written, as records with normalized keys (invalid field noted)."""
    rows: list[dict[str, Any]] = []
    with (HERE / "accounting_customers.csv").open(encoding="cp1256", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            rows.append(normalize("accounting", row["كد مشتري"], row["نام مشتري"], {
                "nationalCode": (check_nc, row["كد ملي"]),
                "phones.phone": (check_mobile, row["موبايل"]),
                "landline": (check_landline, row["تلفن"]),
                "emails.email": (check_email, row["ايميل"]),
                "birthDate": (check_birth, row["تاريخ تولد"]),
                "addresses.address.postalCode": (check_postal, row["كد پستي"])}))
    book = openpyxl.load_workbook(HERE / "sales_leads.xlsx")
    assert book.sheetnames == ["Leads", "Lists"] and book["Lists"].sheet_state == "hidden"
    sheet = book["Leads"]
    header = [c.value for c in sheet[1]]
    assert header == SALES_HEADER, header
    for values in sheet.iter_rows(min_row=2, values_only=True):
        row = dict(zip(header, values, strict=True))
        rows.append(normalize("sales", row["Lead ID"], f"{row['First Name']} {row['Last Name']}", {
            "phones.phone": (check_mobile, row["Mobile"]),
            "emails.email": (check_email, row["Email"]),
            "birthDate": (check_birth, row["Birthday"]),
            "addresses.address.postalCode": (check_postal, row["Postal Code"])}))
    return rows


def normalize(system: str, sid: str, name: str, checks: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"key": (system, sid), "name": compact(name), "bad": []}
    for path, (check, raw) in checks.items():
        if raw in (None, ""):
            out[path] = None
            continue
        try:
            out[path] = check(raw)
        except (ValueError, TypeError):
            out[path] = None   # set aside: the record goes on without it
            out["bad"].append(path)
    return out


def linked(a: dict[str, Any], b: dict[str, Any]) -> bool:
    nc_a, nc_b = a.get("nationalCode"), b.get("nationalCode")
    if nc_a and nc_a == nc_b:
        return True
    veto = bool(nc_a and nc_b and nc_a != nc_b)
    shared = any(a[k] and a[k] == b[k] for k in ("emails.email", "phones.phone"))
    if shared and not veto:
        return True
    return near(a["name"], b["name"]) and any(
        a[k] and a[k] == b[k] for k in ("birthDate", "addresses.address.postalCode"))


def check() -> None:
    rows = read_back()
    with (HERE / "truth.csv").open(encoding="utf-8", newline="") as f:
        truth = {(t["source_system"], t["source_id"]): t for t in csv.DictReader(f)}
    assert len(truth) == len(rows), "truth.csv and the files disagree on the rows"
    for r in rows:
        expected = truth[r["key"]]["invalid_field"]
        assert r["bad"] == ([expected] if expected else []), (r["key"], r["bad"], expected)
    valid = rows   # a bad value is set aside, the row still counts
    parent = list(range(len(valid)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(valid):
        for j in range(i):
            if linked(a, valid[j]):
                parent[root(i)] = root(j)
    clusters: dict[int, set[str]] = {}
    for i, r in enumerate(valid):
        clusters.setdefault(root(i), set()).add(truth[r["key"]]["person"])
    persons = {truth[r["key"]]["person"] for r in valid}
    wrong = [sorted(c) for c in clusters.values() if len(c) > 1]
    assert not wrong, f"rules join different persons: {wrong}"
    assert len(clusters) == len(persons), "rules split a person into several clusters"
    for members in _groups(valid, root).values():
        codes = {m["nationalCode"] for m in members if m.get("nationalCode")}
        assert len(codes) <= 1, f"one cluster, two national codes: {codes}"
    multi = sum(1 for m in _groups(valid, root).values() if len(m) > 1)
    acc = sum(1 for r in rows if r["key"][0] == "accounting")
    bad = sum(1 for r in rows if r["bad"])
    print(f"rows: {len(rows)} (accounting {acc}, sales {len(rows) - acc}); "
          f"with a value set aside: {bad}; persons: {len(persons)}; "
          f"clusters with more than one record: {multi}")


def _groups(valid: list[dict[str, Any]], root: Any) -> dict[int, list[dict[str, Any]]]:
    groups: dict[int, list[dict[str, Any]]] = {}
    for i, r in enumerate(valid):
        groups.setdefault(root(i), []).append(r)
    return groups


def main() -> None:
    rng = random.Random(1402)
    acc, sales, before = build(rng)
    arrange(acc, before, rng, (str(1001 + i) for i in range(len(acc))))
    arrange(sales, before, rng, (f"L-{i + 1:04}" for i in range(len(sales))))
    write_accounting(acc, HERE / "accounting_customers.csv")
    write_sales(sales, HERE / "sales_leads.xlsx")
    write_truth(acc, sales, HERE / "truth.csv")
    check()


if __name__ == "__main__":
    main()
