"""Seeded Persian/Latin people spread over five sources, with the truth about them.

``persian_people(n, seed)`` yields ``n`` flat records (the columns of
``benchmarks/persian_mapping.yaml``), each naming the person it belongs to, so matching
quality can be measured at any size. It streams: a million records take a few dozen MB.

What makes it hard, as real data is (/work/shared/PERSIAN.md):

* one person in one to four sources (crm, erp, sms, web, excel), each writing names,
  phones, digits and dates its own way: Arabic ي/ك, half-space or space or none in
  compound names, honorifics, Latin transliterations (Mohammad / Mohammed / Muhammad),
  Persian digits, ``+98`` / ``0098`` / ``09`` phones, Jalali or Gregorian birth dates;
* later records with typos, a changed mobile or e-mail, first and last name swapped, a
  birth date with day and month swapped, one day off, or Jalali digits under the
  Gregorian year;
* households: one family name, street, postal code and landline, sometimes one mobile
  or e-mail, for people with their own given names and national codes;
* namesakes: names drawn by a skewed frequency (محمد محمدی is common), and some people
  given the name, city and birth year or postal code of someone generated just before.

Records are shuffled within windows of ``_WINDOW`` records, so a person's records are
apart but the stream stays bounded. The same ``seed`` gives the same records.
"""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass

import jdatetime

from hub.testing.synthetic import national_code

FIELDS = ("source", "source_id", "person", "given_name", "family_name", "full_name",
          "national_code", "mobile", "landline", "email", "birth_date", "postal_code",
          "city", "street")
SOURCES = ("crm", "erp", "sms", "web", "excel")
_WINDOW = 20_000
_RECORDS_PER_PERSON = (1, 2, 3, 4)
_RECORDS_CUM = (45, 75, 90, 100)   # 45/30/15/10 %, mean 1.9: 10k records are about 5.3k people

# Persian name, then its Latin spellings (the first is the usual one). Listed by
# frequency, most common first: the weights fall off as 1/rank (a Zipf law).
_MALE = [
    ("محمد", "Mohammad Mohammed Muhammad Mohamad"), ("علی", "Ali Aly"),
    ("حسین", "Hossein Hosein Hussein"), ("رضا", "Reza Rezza"),
    ("محمدرضا", "Mohammadreza Mohammad-Reza Mohamadreza"), ("مهدی", "Mehdi Mahdi"),
    ("امیر", "Amir Ameer"), ("حسن", "Hassan Hasan"), ("علیرضا", "Alireza Ali-Reza Alirza"),
    ("احمد", "Ahmad Ahmed"), ("سعید", "Saeed Saeid Said"), ("مجید", "Majid Majeed"),
    ("حمید", "Hamid Hameed"), ("جواد", "Javad Jawad"), ("مصطفی", "Mostafa Mustafa"),
    ("امیرحسین", "Amirhossein Amir-Hossein Amirhosein"), ("یوسف", "Yousef Yusuf Yosef"),
    ("ابراهیم", "Ebrahim Ibrahim"), ("محسن", "Mohsen Mohsin"), ("وحید", "Vahid Wahid"),
    ("کاظم", "Kazem Kazim"), ("داوود", "Davood Davoud Dawood"), ("فرهاد", "Farhad"),
    ("بهزاد", "Behzad"), ("کیوان", "Keyvan Kayvan"), ("سینا", "Sina"), ("آرش", "Arash"),
    ("پویا", "Pouya Pooya"), ("میلاد", "Milad"), ("نیما", "Nima"),
    ("عبدالله", "Abdollah Abdullah"), ("محمدمهدی", "Mohammadmahdi Mohammad-Mehdi"),
    ("کوروش", "Kourosh Kurosh Cyrus"), ("بهروز", "Behrouz Behrooz"), ("یحیی", "Yahya"),
]
_FEMALE = [
    ("فاطمه", "Fatemeh Fatima Fateme"), ("زهرا", "Zahra Zahraa"), ("مریم", "Maryam Mariam"),
    ("معصومه", "Masoumeh Masoome"), ("سارا", "Sara Sarah"), ("نرگس", "Narges"),
    ("زینب", "Zeinab Zaynab"), ("فاطمه‌زهرا", "Fatemehzahra Fatemeh-Zahra"),
    ("مینا", "Mina"), ("لیلا", "Leila Leyla Layla"), ("الهام", "Elham"),
    ("سمیرا", "Samira"), ("مهسا", "Mahsa"), ("شیرین", "Shirin"), ("پریسا", "Parisa"),
    ("نازنین", "Nazanin"), ("کیمیا", "Kimia Kimiya"), ("یاسمن", "Yasaman Yasamin"),
    ("طاهره", "Tahereh Tahere"), ("فرزانه", "Farzaneh Farzane"), ("نگار", "Negar"),
    ("آزاده", "Azadeh Azade"), ("ریحانه", "Reyhaneh Reihaneh"), ("هانیه", "Hanieh Haniyeh"),
    ("الناز", "Elnaz"), ("محبوبه", "Mahboubeh Mahboobeh"), ("ژاله", "Zhaleh Jaleh"),
    ("رویا", "Roya Roja"), ("سمانه", "Samaneh Samane"), ("اعظم", "Azam Aazam"),
]
_FAMILY = [
    ("محمدی", "Mohammadi Mohamadi Muhammadi"), ("حسینی", "Hosseini Hoseini Husseini"),
    ("احمدی", "Ahmadi Ahmady"), ("رضایی", "Rezaei Rezaee Rezai"), ("موسوی", "Mousavi Musavi"),
    ("کریمی", "Karimi Karimy"), ("جعفری", "Jafari Jaafari"), ("رحیمی", "Rahimi Raheemi"),
    ("قاسمی", "Ghasemi Qasemi Ghasimi"), ("صادقی", "Sadeghi Sadeqi"),
    ("حسین‌زاده", "Hosseinzadeh Hoseinzadeh Hossein-Zadeh"), ("کاظمی", "Kazemi Kazimi"),
    ("ابراهیمی", "Ebrahimi Ibrahimi"), ("نجفی", "Najafi"), ("محمدپور", "Mohammadpour Mohamadpour"),
    ("یوسفی", "Yousefi Yusefi"), ("مرادی", "Moradi Muradi"), ("عباسی", "Abbasi Abasi"),
    ("امینی", "Amini Ameeni"), ("صالحی", "Salehi Saleheh"), ("نوری", "Nouri Noori"),
    ("شریفی", "Sharifi"), ("طاهری", "Taheri"), ("باقری", "Bagheri Baqeri"),
    ("علی‌زاده", "Alizadeh Ali-Zadeh"), ("اصفهانی", "Esfahani Isfahani"),
    ("سلطانی", "Soltani Sultani"), ("کرمانی", "Kermani Kirmani"), ("توکلی", "Tavakoli Tavakkoli"),
    ("قربانی", "Ghorbani Qorbani"), ("میرزایی", "Mirzaei Mirzaee"), ("خسروی", "Khosravi"),
    ("بهرامی", "Bahrami"), ("فراهانی", "Farahani"), ("کریمی‌نژاد", "Kariminejad Karimi-Nejad"),
    ("یزدانی", "Yazdani"), ("شیرازی", "Shirazi"), ("تهرانی", "Tehrani"), ("ملکی", "Maleki"),
    ("افشار", "Afshar"), ("نیک‌نام", "Niknam Nik-Nam"), ("قلی‌زاده", "Gholizadeh Qolizadeh"),
    ("پاکزاد", "Pakzad"), ("کیانی", "Kiani Kiyani"), ("رستمی", "Rostami"),
    ("حیدری", "Heidari Heydari Haidari"), ("جلالی", "Jalali"), ("زارعی", "Zarei Zareei"),
    ("هاشمی", "Hashemi"), ("اکبری", "Akbari"), ("فتحی", "Fathi"), ("نظری", "Nazari"),
    ("سلیمانی", "Soleimani Soleymani"), ("مختاری", "Mokhtari"), ("اسدی", "Asadi"),
    ("داوودی", "Davoudi Davoodi"), ("غلامی", "Gholami Qolami"), ("بابایی", "Babaei Babaee"),
    ("ترابی", "Torabi"), ("منصوری", "Mansouri Mansoori"),
]
# The namesakes every Iranian customer base has many of.
_COMMON_NAMES = [("محمد", "محمدی"), ("علی", "احمدی"), ("فاطمه", "حسینی"), ("زهرا", "محمدی"),
                 ("حسین", "رضایی"), ("مریم", "احمدی"), ("رضا", "کریمی"), ("علی", "محمدی")]
_CITIES = [("تهران", "21", "Tehran"), ("اصفهان", "31", "Isfahan"), ("شیراز", "71", "Shiraz"),
           ("مشهد", "51", "Mashhad"), ("تبریز", "41", "Tabriz"), ("رشت", "13", "Rasht"),
           ("کرج", "26", "Karaj"), ("یزد", "35", "Yazd"), ("قم", "25", "Qom"),
           ("اهواز", "61", "Ahvaz"), ("کرمان", "34", "Kerman"), ("ارومیه", "44", "Urmia")]
_CITY_INDEX = range(len(_CITIES))
_CITY_CUM = list(itertools.accumulate((40, 10, 8, 10, 7, 4, 6, 3, 4, 3, 3, 2)))
_STREETS = ["ولیعصر", "انقلاب", "کشاورز", "شریعتی", "آزادی", "جمهوری", "فردوسی", "مطهری",
            "طالقانی", "بهشتی", "امام خمینی", "حافظ", "سعدی", "پاسداران", "نیاوران", "ستارخان"]
_MOBILE_PREFIXES = ("912", "935", "901", "919", "936", "921", "910", "913", "930", "939",
                    "917", "915", "937", "911")
_LATER_PREFIXES = ("990", "991", "992", "993", "994")
_DOMAINS = ("gmail.com", "yahoo.com", "chmail.ir", "outlook.com", "mail.ir")
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_ARABIC_LETTERS = str.maketrans("یک", "يك")
_TYPO_LETTERS = "ابپتثجچحخدذرزسشصضطظعغفقکگلمنوهی"
_EPOCH = datetime.date(1940, 1, 1).toordinal()
_DAYS = datetime.date(2005, 12, 31).toordinal() - _EPOCH


def _zipf(items: list[tuple[str, str]]) -> tuple[list[str], list[float]]:
    """The names and their cumulative weights, falling off as 1/rank."""
    return [name for name, _ in items], list(itertools.accumulate(
        1 / (rank + 1) for rank in range(len(items))))


_MALE_Z, _FEMALE_Z, _FAMILY_Z = _zipf(_MALE), _zipf(_FEMALE), _zipf(_FAMILY)
_LATIN = {p: latin.split() for p, latin in _MALE + _FEMALE + _FAMILY}
_FEMALE_NAMES = {p for p, _ in _FEMALE}


@dataclass(slots=True)
class _Person:
    """The truth about one person; records are drawn from it."""

    number: int
    given: str
    family: str
    seyed: bool
    code: str
    mobile: str          # 9XXXXXXXXX
    email: str
    birth: datetime.date
    city: int
    street: str
    postal: str
    landline: str        # area code + 8 digits, no leading 0
    later_mobile: str = ""
    later_email: str = ""


class _Maker:
    """Draws people, households and namesakes, then their records."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.people = 0
        self.ids = dict.fromkeys(SOURCES, 0)
        self.recent: list[_Person] = []   # namesakes copy from people made just before

    # --- people -------------------------------------------------------------------

    def household(self) -> list[_Person]:
        """One person, or two to four sharing a home (and sometimes a mobile or e-mail)."""
        rng = self.rng
        first = self.person()
        if rng.random() >= 0.25:
            return [first]
        members = [first]
        for _ in range(rng.choice((1, 1, 2, 3))):
            other = self.person(family=first.family, home=first)
            if rng.random() < 0.15:
                other.mobile = first.mobile          # a parent's mobile on a child's form
            if rng.random() < 0.1:
                other.email = first.email
            members.append(other)
        return members

    def person(self, family: str | None = None, home: _Person | None = None) -> _Person:
        rng = self.rng
        n = self.people
        self.people += 1
        female = rng.random() < 0.5
        names, weights = _FEMALE_Z if female else _MALE_Z
        given = rng.choices(names, cum_weights=weights)[0]
        family = family or rng.choices(_FAMILY_Z[0], cum_weights=_FAMILY_Z[1])[0]
        city = rng.choices(_CITY_INDEX, cum_weights=_CITY_CUM)[0]
        birth = datetime.date.fromordinal(_EPOCH + rng.randrange(_DAYS))
        if home is None and rng.random() < 0.04:
            given, family = rng.choice(_COMMON_NAMES)
            female = given in _FEMALE_NAMES
        person = _Person(
            n, given, family, not female and rng.random() < 0.08,
            # Unique by construction (national codes, mobiles, landlines of up to ten
            # million people): multiplying by a number prime to m permutes 0..m-1.
            national_code(f"{(n * 387_420_489 + 12_345_678) % 10**9:09d}"),
            rng.choice(_MOBILE_PREFIXES) + f"{(n * 1_234_567 + 7_654_321) % 10**7:07d}",
            self._email(given, family, n), birth, city,
            f"خیابان {rng.choice(_STREETS)}، کوچه {rng.randrange(1, 40)}، "
            f"پلاک {rng.randrange(1, 300)}",
            self._postal(),
            _CITIES[city][1] + f"{2 * 10**7 + (n * 7_777_771 + 3) % (7 * 10**7)}")
        if home is None:
            self._namesake(person)
        else:
            person.city, person.street = home.city, home.street
            person.postal, person.landline = home.postal, home.landline
        return person

    def _namesake(self, person: _Person) -> None:
        """Now and then, someone else's name and city, with their birth year or postcode."""
        rng = self.rng
        if self.recent and rng.random() < 0.05:
            model = rng.choice(self.recent)
            person.given, person.family, person.city = model.given, model.family, model.city
            person.seyed = model.seyed
            if rng.random() < 0.5:
                person.birth = person.birth.replace(year=model.birth.year, day=min(
                    person.birth.day, 28))
            else:
                person.postal = model.postal
        self.recent.append(person)
        if len(self.recent) > 500:
            del self.recent[:250]

    def _email(self, given: str, family: str, n: int) -> str:
        rng = self.rng
        user = f"{_LATIN[given][0].lower()}.{_LATIN[family][0].lower()}"
        return f"{user}{n % 9973}{rng.choice('._-')}{n // 9973}@{rng.choice(_DOMAINS)}"

    def _postal(self) -> str:
        rng = self.rng
        head = "".join(rng.choice("13456789") for _ in range(4)) + rng.choice("134679")
        return head + "".join(rng.choice("013456789") for _ in range(5))

    # --- records --------------------------------------------------------------------

    def records(self, person: _Person) -> list[dict[str, str]]:
        rng = self.rng
        count = rng.choices(_RECORDS_PER_PERSON, cum_weights=_RECORDS_CUM)[0]
        sources = rng.sample(SOURCES, min(count, len(SOURCES)))
        # A new SIM or a new mailbox: as unique as the first ones, never someone else's.
        if rng.random() < 0.2:
            person.later_mobile = rng.choice(_LATER_PREFIXES) + \
                f"{(person.number * 7_654_321 + 1) % 10**7:07d}"
        if rng.random() < 0.2:
            person.later_email = self._email(person.given, person.family,
                                             person.number + 10**7)
        return [self.record(person, source, later=i > 0) for i, source in enumerate(sources)]

    def record(self, p: _Person, source: str, *, later: bool) -> dict[str, str]:
        rng = self.rng
        self.ids[source] += 1
        latin = source in ("web", "crm") and rng.random() < 0.3
        given, family = self._names(p, latin)
        if later and rng.random() < 0.12:
            if rng.random() < 0.5:
                given = _typo(given, rng)
            else:
                family = _typo(family, rng)
        if later and rng.random() < 0.05:
            given, family = family, given
        mobile, email = p.mobile, p.email
        if later and (p.later_mobile or p.later_email) and rng.random() < 0.6:
            mobile, email = p.later_mobile or mobile, p.later_email or email
        out = dict.fromkeys(FIELDS, "")
        out.update(source=source, source_id=f"{source.upper()}-{self.ids[source]:07d}",
                   person=str(p.number),
                   city="" if source == "sms" else _CITIES[p.city][2 if latin else 0])
        _SHAPES[source](self, out, p, given, family, mobile, email, later=later)
        return out

    def _names(self, p: _Person, latin: bool) -> tuple[str, str]:
        rng = self.rng
        if latin:
            given = rng.choice(_LATIN[p.given]) if rng.random() < 0.4 else _LATIN[p.given][0]
            family = rng.choice(_LATIN[p.family]) if rng.random() < 0.4 else _LATIN[p.family][0]
            return (f"Seyed {given}" if p.seyed and rng.random() < 0.5 else given), family
        given, family = _spacing(p.given, rng), _spacing(p.family, rng)
        if p.seyed and rng.random() < 0.6:
            given = f"سید {given}"
        if rng.random() < 0.3:
            given, family = given.translate(_ARABIC_LETTERS), family.translate(_ARABIC_LETTERS)
        return given, family

    def birth(self, p: _Person, *, jalali: bool, later: bool) -> str:
        rng = self.rng
        day = p.birth
        slip = rng.random() if later else 1.0
        if slip < 0.04:
            day += datetime.timedelta(days=rng.choice((-1, 1)))
        if jalali:
            j = jdatetime.date.fromgregorian(date=day)
            y, m, d = j.year, j.month, j.day
            if 0.04 <= slip < 0.07 and d <= 12:
                m, d = d, m
            return f"{y}/{m:02d}/{d:02d}"
        y, m, d = day.year, day.month, day.day
        if 0.04 <= slip < 0.07 and d <= 12:
            m, d = d, m
        elif 0.07 <= slip < 0.09:
            j = jdatetime.date.fromgregorian(date=day)
            m, d = j.month, min(j.day, 28)    # the Jalali date under the Gregorian year
        return f"{y}-{m:02d}-{d:02d}"

    # Each source's shape: which fields it has and how it writes them.

    def _crm(self, out: dict[str, str], p: _Person, given: str, family: str, mobile: str,
             email: str, *, later: bool) -> None:
        rng = self.rng
        out.update(given_name=given, family_name=family, mobile=_phone(mobile, rng),
                   email=email if rng.random() < 0.8 else email.upper(),
                   birth_date=self.birth(p, jalali=False, later=later),
                   national_code=p.code if rng.random() < 0.6 else "",
                   postal_code=p.postal if rng.random() < 0.5 else "",
                   street=p.street if rng.random() < 0.5 else "")

    def _erp(self, out: dict[str, str], p: _Person, given: str, family: str, mobile: str,
             email: str, *, later: bool) -> None:
        rng = self.rng
        honorific = _honorific(given, rng)
        code = p.code.lstrip("0") if rng.random() < 0.3 else p.code
        out.update(full_name=f"{honorific}{given} {family}", national_code=code,
                   mobile=_phone(mobile, rng) if rng.random() < 0.7 else "",
                   landline="0" + p.landline, street=p.street,
                   postal_code=f"{p.postal[:5]}-{p.postal[5:]}",
                   birth_date=self.birth(p, jalali=True, later=later))

    def _sms(self, out: dict[str, str], p: _Person, given: str, family: str, mobile: str,
             email: str, *, later: bool) -> None:
        rng = self.rng
        if rng.random() < 0.4:
            out["given_name"] = given
        else:
            out["full_name"] = f"{given} {family}"
        out["mobile"] = _phone(mobile, rng)

    def _web(self, out: dict[str, str], p: _Person, given: str, family: str, mobile: str,
             email: str, *, later: bool) -> None:
        rng = self.rng
        out.update(given_name=given, family_name=family, email=email,
                   mobile=_phone(mobile, rng) if rng.random() < 0.6 else "",
                   birth_date=self.birth(p, jalali=False, later=later)
                   if rng.random() < 0.5 else "")

    def _excel(self, out: dict[str, str], p: _Person, given: str, family: str, mobile: str,
               email: str, *, later: bool) -> None:
        rng = self.rng
        digits = rng.random() < 0.5
        def num(text: str) -> str:
            return text.translate(_PERSIAN_DIGITS) if digits else text
        out.update(full_name=f"{given} {family}".translate(_ARABIC_LETTERS),
                   national_code=num(p.code) if rng.random() < 0.7 else "",
                   mobile=num(_phone(mobile, rng)), landline=num("0" + p.landline)
                   if rng.random() < 0.5 else "",
                   birth_date=num(self.birth(p, jalali=True, later=later)),
                   postal_code=num(p.postal) if rng.random() < 0.6 else "",
                   email=email if rng.random() < 0.4 else "")


_SHAPES = {"crm": _Maker._crm, "erp": _Maker._erp, "sms": _Maker._sms, "web": _Maker._web,
           "excel": _Maker._excel}


def _spacing(name: str, rng: random.Random) -> str:
    """A compound name with its half-space, a space or nothing (محمدرضا / محمد‌رضا)."""
    for part in ("محمد", "علی", "امیر", "فاطمه", "عبد"):
        if name.startswith(part) and len(name) > len(part) + 1:
            joint = rng.choice(("", "\u200c", " "))
            return part + joint + name[len(part):].lstrip("\u200c")
    if "\u200c" in name:
        return name.replace("\u200c", rng.choice(("\u200c", "\u200c", " ", "")))
    return name


def _honorific(given: str, rng: random.Random) -> str:
    if rng.random() >= 0.4:
        return ""
    if given.split()[-1].translate(str.maketrans("يك", "یک")) in _FEMALE_NAMES:
        return rng.choice(("خانم ", "خانم دکتر ", "سرکار خانم ", "مهندس "))
    return rng.choice(("آقای ", "جناب آقای ", "دکتر ", "مهندس ", "حاج "))


def _phone(digits: str, rng: random.Random) -> str:
    """``digits`` = 9XXXXXXXXX, in one of the forms sources write."""
    form = rng.randrange(6)
    return (f"0{digits}", f"+98{digits}", f"0098{digits}", f"98{digits}",
            f"0{digits[:3]} {digits[3:6]} {digits[6:]}", digits)[form]


def _typo(name: str, rng: random.Random) -> str:
    """One slip of the keyboard: a letter dropped, doubled, swapped or replaced."""
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    kind = rng.randrange(4)
    if kind == 0:
        return name[:i] + name[i + 1:]
    if kind == 1:
        return name[:i] + name[i] + name[i:]
    if kind == 2:
        return name[:i - 1] + name[i] + name[i - 1] + name[i + 1:]
    letters = _TYPO_LETTERS if name[i] >= "\u0600" else "aeioubdhkmnrst"
    return name[:i] + rng.choice(letters) + name[i + 1:]


def persian_people(n_records: int, seed: int = 1402) -> Iterator[dict[str, str]]:
    """``n_records`` records (``FIELDS``, all strings); ``person`` is the truth."""
    maker = _Maker(seed)
    window: list[dict[str, str]] = []
    made = 0
    while made < n_records:
        for person in maker.household():
            for rec in maker.records(person)[:n_records - made]:
                window.append(rec)
                made += 1
        if len(window) >= _WINDOW or made >= n_records:
            maker.rng.shuffle(window)
            yield from window
            window = []
