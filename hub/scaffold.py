"""``peyvand init DIR``: a project that runs at once, every key explained in a comment.

The sample file is messy on purpose, as real exports are: Arabic ي and ك, Persian
digits, phones written four ways, Latin and Persian rows for one person, and one
mobile too short to be a number, which the mapping holds strict so that row waits in
quarantine.
"""

from __future__ import annotations

from pathlib import Path

from hub.errors import ConfigError

CONFIG = """\
# Peyvand project configuration. Every key can be overridden from the environment as
# PEYVAND__SECTION__KEY (PEYVAND__STORE__URL=...); passwords belong there, never here.

store:
  # The customer master. A relative SQLite path is taken from this file's folder, so a
  # cron job started anywhere finds the same store. Distributed:
  # postgresql+psycopg://user@host:5432/peyvand (password in PEYVAND__STORE__URL).
  url: sqlite:///peyvand.sqlite

bus:
  # memory:// keeps events in the store's outbox (the durable log, read it with
  # `peyvand events`); amqp://user@host:5672// publishes them to RabbitMQ.
  url: memory://

# Pipelines to run, by file name in pipelines/ (without .yaml).
pipelines:
  - customers

matching:
  # A pair at least this likely to be one customer is merged; between the two
  # thresholds a person decides (`peyvand review`). `peyvand train` learns the
  # weights from your records into matching-model.json.
  match_probability: 0.99
  review_probability: 0.8

survivorship:
  # For single-valued fields, the first source system listed wins.
  source_priority: [crm]

run:
  batch_size: 500   # records per committed transaction

log:
  level: warning    # debug | info | warning | error
  format: auto      # auto (console on a terminal, JSON otherwise) | console | json
"""

PIPELINE = """\
# One source: which adapter reads what, and which mapping shapes its records.
description: Customers exported from the CRM, as CSV.
adapter: spreadsheet          # `peyvand adapters spreadsheet` lists its options
options:
  path: ../data/customers.csv # relative to this file; an absolute path works too
  id_column: id               # the column that names a record in its source system
source_system: crm            # the name lineage and events give this source
mapping: customers.yaml       # a file in mappings/
schedule: manual
"""

MAPPING = """\
# How a CSV row becomes a canonical customer (docs/mappings.md lists every field).
# A mapping only restructures: standardizing (Persian letters, digits, phones to E.164,
# e-mails, dates) happens afterwards, by each field's type in schemas/customer.xsd.
description: CRM customers, Persian and Latin names in one column.
target: customer              # or interaction (an e-mail, an SMS, a form post)
fields:
  # A constant: every row is a person (an organization would be `organization`).
  kind:                   {constant: person}
  # `from` renames a column (matched whatever its Arabic/Persian letters or case).
  name.full:              {from: name}
  # A value that cannot be standardized is set aside (listed in quarantine) and the
  # rest of the record goes on; `strict: true` holds the whole record back instead.
  phones.phone:mobile:    {from: mobile, strict: true}
  # Several columns can feed a repeated field: {from: [email, work_email]}.
  emails.email:           {from: email}
  # Parts of an address are dotted paths below addresses.address.
  addresses.address.city: {from: city}
"""

SAMPLE = """\
id,name,mobile,email,city
C-001,علي كريمي,۰۹۱۲۱۲۳۴۵۶۷,ali.karimi@example.com,تهران
C-002,Sara Ahmadi,+98 912 765 4321,sara.ahmadi@example.com,Tehran
C-003,مريم رضايي,0912 55 12,maryam.rezaei@example.com,اصفهان
C-004,Reza Mohammadi,0098 935 111 2233,REZA.M@Example.com,Shiraz
C-005,رضا محمدی,09351112233,,شیراز
C-006,Nazanin Hosseini,0912-333-4455,nazanin.h@example.com,Karaj
"""

FILES = {"config.yaml": CONFIG, "pipelines/customers.yaml": PIPELINE,
         "mappings/customers.yaml": MAPPING, "data/customers.csv": SAMPLE}


def scaffold(folder: Path) -> list[Path]:
    """Write a new project into ``folder``; the files written, in order.

    Raises:
        ConfigError: a file it would write exists already (nothing is written then).
    """
    targets = {folder / name: text for name, text in FILES.items()}
    existing = [name for name in FILES if (folder / name).exists()]
    if existing:
        raise ConfigError(str(folder), [f"{name} already exists: `peyvand init` writes a new "
                                        "project and never overwrites a file"
                                        for name in existing])
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as f:   # "x": fail rather than overwrite
            f.write(text)
    return list(targets)
