"""Pipelines through the Hub: interactions stored standardized and attached, the inbox read
like any other source, unchanged records skipped before the stages."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import delete, select

from hub.app import Hub
from hub.cli import cli
from hub.store import inbox
from hub.store.tables import checkpoints, interactions
from hub.testing import project

CUSTOMERS = ("code,name,mobile,email\n"
             "1,علی کریمی,09121234567,ali@x.ir\n"
             "2,سارا احمدی,0935 111 2233,\n")
SMS_LOG = ("id,from,received,text\n"
           "s1,0912 123 4567,1405/09/03 14:30,سلام، سفارش من کی می‌رسد؟\n"
           "s2,+98 935 111 2233,2026-11-24T09:00:00+03:30,لغو\n"
           "s3,0919 000 0000,2026-11-24 10:00,unknown sender\n"
           "s4,,2026-11-24 10:05,no sender at all\n")


def workspace(root: Path, pipelines: dict[str, tuple[str, str, str]],
              mappings: dict[str, str]) -> Hub:
    return project(root, pipelines, mappings, batch_size=2)


CUSTOMER_MAPPING = ("fields:\n  kind: {constant: person}\n  name.full: {from: name}\n"
                    "  phones.phone:mobile: {from: mobile}\n  emails.email: {from: email}\n")
SMS_MAPPING = ("target: interaction\nfields:\n  channel: {constant: sms}\n"
               "  direction: {constant: inbound}\n  occurredAt: {from: received}\n"
               "  summary: {from: text}\n  contact.phone:mobile: {from: from}\n")


def test_an_interaction_is_stored_standardized_and_attached(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "sms.csv").write_text(SMS_LOG, encoding="utf-8")
    hub = workspace(tmp_path, {
        "crm": ("spreadsheet", "{path: ../customers.csv, id_column: code}", "customers.yaml"),
        "gateway": ("spreadsheet", "{path: ../sms.csv, id_column: id}", "sms.yaml")},
        {"customers.yaml": CUSTOMER_MAPPING, "sms.yaml": SMS_MAPPING})
    crm, gateway = hub.run()
    assert crm.created == 2
    assert (gateway.interactions, gateway.attached, gateway.rejected) == (3, 2, 1)

    with hub.engine.connect() as conn:
        stored = {r.source_id: r for r in conn.execute(select(interactions))}
    # The phone was typed "0912 123 4567"; the interaction schema types it as a Phone,
    # so it is cleaned like a customer's: E.164, with the raw text kept beside it.
    assert stored["s1"].canonical["contact.phone:mobile"] == [["+989121234567",
                                                               "0912 123 4567"]]
    assert stored["s1"].occurred_at == "2026-11-24T14:30:00+03:30"   # Jalali, Tehran time
    ali = hub.search("علی کریمی")[0].id
    assert stored["s1"].master_id == ali and stored["s1"].matched_by == "mo:+989121234567"
    assert stored["s3"].master_id is None   # nobody has that mobile
    view = hub.customer(ali)
    assert view is not None
    assert [(i.source_id, i.channel) for i in view.interactions] == [("s1", "sms")]
    recorded = hub.events(types=["interaction.recorded"])
    assert {e.data["customer_id"] for e in recorded} == {ali, hub.search("سارا")[0].id, None}
    [rejected] = hub.quarantine()
    assert (rejected.source_id, rejected.field) == ("s4", "contact")
    assert "nothing identifies who it was with" in rejected.reason


def test_master_show_lists_a_customers_interactions_as_a_timeline(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (tmp_path / "sms.csv").write_text(SMS_LOG + "s5,09121234567,1405/09/04 08:00,ممنون\n",
                                      encoding="utf-8")
    hub = workspace(tmp_path, {
        "crm": ("spreadsheet", "{path: ../customers.csv, id_column: code}", "customers.yaml"),
        "gateway": ("spreadsheet", "{path: ../sms.csv, id_column: id}", "sms.yaml")},
        {"customers.yaml": CUSTOMER_MAPPING, "sms.yaml": SMS_MAPPING})
    hub.run()
    ali = hub.search("علی کریمی")[0].id
    shown = CliRunner().invoke(cli, ["--config", str(tmp_path / "config.yaml"),
                                     "master", "show", ali])
    assert shown.exit_code == 0, shown.output
    timeline = shown.output.split("Interactions (newest first)", 1)[1]
    rows = [line for line in timeline.splitlines() if "gateway/" in line]
    assert [r.split("gateway/")[1].split()[0] for r in rows] == ["s5", "s1"]   # newest first
    assert "2026-11-25 08:00" in rows[0] and "sms" in rows[0] and "inbound" in rows[0]
    assert "ممنون" in rows[0]


def test_the_inbox_is_read_like_any_other_source(tmp_path: Path) -> None:
    form = ("fields:\n  kind: {constant: person}\n  name.full: {from: full_name}\n"
            "  phones.phone:mobile: {from: mobile}\n")
    hub = workspace(tmp_path, {"contact_form": ("inbox", "{channel: contact}", "form.yaml")},
                    {"form.yaml": form})
    first = inbox.accept(hub.engine, "contact", {"full_name": "مریم حسینی",
                                                 "mobile": "۰۹۱۲۳۳۳۴۴۵۵"}, "sub-1")
    again = inbox.accept(hub.engine, "contact", {"full_name": "مریم حسینی"}, "sub-1")
    assert (again.seq, again.duplicate, first.duplicate) == (first.seq, True, False)
    inbox.accept(hub.engine, "other-form", {"full_name": "Not for this pipeline"})
    inbox.accept(hub.engine, "contact", {"full_name": "Maryam Hosseini",
                                         "mobile": "+989123334455"})
    [stats] = hub.run()
    assert (stats.read, stats.created, stats.linked) == (2, 1, 1)
    [stats] = hub.run()
    assert stats.read == 0   # resumes after the last request it stored
    inbox.accept(hub.engine, "contact", {"full_name": "رضا یزدانی", "mobile": "09351112233"})
    [stats] = hub.run()
    assert (stats.read, stats.created) == (1, 1)
    assert hub.count_customers() == 2


def test_a_rerun_without_checkpoint_skips_every_unchanged_row(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    hub = workspace(tmp_path, {"crm": ("spreadsheet", "{path: ../customers.csv, id_column: code}",
                                       "customers.yaml")},
                    {"customers.yaml": CUSTOMER_MAPPING})
    hub.run()
    events = len(hub.events())
    with hub.engine.begin() as conn:
        conn.execute(delete(checkpoints))
    [stats] = hub.run()
    assert (stats.read, stats.unchanged, stats.events) == (2, 2, 0)
    assert len(hub.events()) == events


def test_the_checkpoint_saved_is_the_last_committed_record_s(tmp_path: Path) -> None:
    rows = "code,name,mobile,email\n" + "".join(
        f"{i},نام {i},0912000{i:04d},\n" for i in range(1, 6))
    (tmp_path / "customers.csv").write_text(rows, encoding="utf-8")
    hub = workspace(tmp_path, {"crm": ("spreadsheet", "{path: ../customers.csv, id_column: code}",
                                       "customers.yaml")},
                    {"customers.yaml": CUSTOMER_MAPPING})
    hub.run()
    with hub.engine.connect() as conn:
        value = conn.execute(select(checkpoints.c.value)).scalar_one()
    assert value.endswith(":6")   # header is row 1, five records, batches of two
