"""E-mail through pipelines: the shipped mappings over a Maildir, messages stored as
interactions attached to the customer with that address, contacts as customers."""

from __future__ import annotations

import mailbox
from pathlib import Path

from sqlalchemy import select

from hub.app import Hub
from hub.store.tables import interactions
from hub.testing import project

MAPPINGS = Path(__file__).resolve().parents[2] / "mappings"
CUSTOMERS = "code,name,email\n1,علی کریمی,ali@x.ir\n2,Sara Ahmadi,sara@x.ir\n"
CUSTOMER_MAPPING = ("fields:\n  kind: {constant: person}\n  name.full: {from: name}\n"
                    "  emails.email: {from: email}\n")
MAIL_OPTIONS = "{path: ../Maildir, folders: [INBOX, Sent], own_addresses: ['@shop.ir']}"
PERSIAN_NAME = "=?UTF-8?B?2LnZhNuMINqp2LHbjNmF24w=?="   # علی کریمی


def raw(sender: str, to: str, subject: str, body: str, message_id: str,
        date: str = "Mon, 24 Nov 2025 10:15:00 +0330") -> bytes:
    return (f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: {date}\n"
            f"Message-ID: <{message_id}>\nContent-Type: text/plain; charset=utf-8\n\n"
            f"{body}\n").encode()


def mailbox_with_three_messages(root: Path) -> mailbox.Maildir:
    box = mailbox.Maildir(root / "Maildir", create=True)
    box.add(raw(f"{PERSIAN_NAME} <ALI@X.IR>", "sales@shop.ir",
                "=?UTF-8?B?2b7bjNqv24zYsduMINiz2YHYp9ix2LQ=?=",   # پیگیری سفارش
                "سلام، سفارش ۱۲ کی می‌رسد؟ همکارم: ۰۹۳۵ ۱۱۱ ۲۲۳۳", "a1@x.ir"))
    box.add(raw("Nobody <nobody@y.ir>", "sales@shop.ir", "hello", "hi", "n1@y.ir"))
    box.add_folder("Sent").add(raw("Shop <sales@shop.ir>", '"Ahmadi, Sara" <sara@x.ir>',
                                   "Re: invoice", "Attached. Call us: 021 8877 6655",
                                   "s1@shop.ir", "Mon, 24 Nov 2025 11:00:00 +0330"))
    return box


def hub_with(root: Path, *pipelines: str) -> Hub:
    (root / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    known = {
        "crm": ("spreadsheet", "{path: ../customers.csv, id_column: code}", "customers.yaml"),
        "contacts": ("email", MAIL_OPTIONS, "email_contacts.yaml"),
        "mail": ("email", MAIL_OPTIONS, "email_interactions.yaml"),
    }
    mappings = {"customers.yaml": CUSTOMER_MAPPING}
    for name in ("email_contacts.yaml", "email_interactions.yaml"):
        mappings[name] = (MAPPINGS / name).read_text(encoding="utf-8")
    return project(root, {name: known[name] for name in pipelines}, mappings, batch_size=2)


def test_messages_are_stored_and_attached_to_the_customer_with_that_address(
        tmp_path: Path) -> None:
    box = mailbox_with_three_messages(tmp_path)
    hub = hub_with(tmp_path, "crm", "mail")

    crm, mail = hub.run()

    assert crm.created == 2
    assert (mail.read, mail.interactions, mail.attached, mail.rejected) == (3, 3, 2, 0)
    with hub.engine.connect() as conn:
        stored = {r.source_id: r for r in conn.execute(select(interactions))}
    ali, sara = hub.search("علی کریمی")[0].id, hub.search("Sara Ahmadi")[0].id
    inbound, outbound = stored["a1@x.ir"], stored["s1@shop.ir"]
    assert (inbound.master_id, inbound.channel) == (ali, "email")
    assert inbound.canonical["direction"] == [["inbound", "inbound"]]
    assert inbound.occurred_at == "2025-11-24T10:15:00+03:30"
    assert inbound.canonical["contact.email"] == [["ali@x.ir", "ALI@X.IR"]]
    assert inbound.canonical["subject"][0][0] == "پیگیری سفارش"
    # The colleague's number is kept as a mentioned phone, never as the contact's.
    assert inbound.canonical["mentionedPhones.phone:mobile"] == [["+989351112233"] * 2]
    assert not any(path.startswith("contact.phone") for path in inbound.canonical)
    assert inbound.canonical["messageId"] == [["a1@x.ir"] * 2]
    assert inbound.canonical["thread"] == [["a1@x.ir"] * 2]
    assert (outbound.master_id, outbound.canonical["direction"][0][0]) == (sara, "outbound")
    assert stored["n1@y.ir"].master_id is None   # nobody has that address
    view = hub.customer(ali)
    assert view is not None
    assert [(i.source_id, i.channel) for i in view.interactions] == [("a1@x.ir", "email")]

    # A second sync reads nothing; one more message is exactly one more interaction.
    events = len(hub.events())
    assert [s.read for s in hub.run()] == [0, 0]
    assert len(hub.events()) == events
    box.add(raw("Ali <ali@x.ir>", "sales@shop.ir", "thanks", "ممنون", "a2@x.ir"))
    _, mail = hub.run()
    assert (mail.read, mail.interactions, mail.attached) == (1, 1, 1)


def test_contacts_and_interactions_from_the_same_mailbox(tmp_path: Path) -> None:
    mailbox_with_three_messages(tmp_path)
    hub = hub_with(tmp_path, "contacts", "mail")

    contacts, mail = hub.run()

    # Every person a message was with is a customer (never ourselves, sales@shop.ir) ...
    assert (contacts.read, contacts.created, contacts.rejected) == (3, 3, 0)
    assert hub.count_customers() == 3
    assert [len(hub.search(name)) for name in ("علی کریمی", "Ahmadi, Sara", "Nobody")] == \
        [1, 1, 1]
    # ... so every interaction is attached.
    assert (mail.interactions, mail.attached) == (3, 3)
