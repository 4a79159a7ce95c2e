"""The read API and metrics of ``peyvand serve``, driven over HTTP (httpx) on a real server.

The data comes through the real paths: ``peyvand run`` on a CRM spreadsheet (a snapshot,
so a row gone closes its link) and a call log of interactions, and form posts to
``/forms/contact``, three of which make two customers and then merge them.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from serve_support import ADMIN_TOKEN, FORMS_TOKEN, READ_TOKEN, Server, project
from sqlalchemy import func, select

from hub.app import Hub
from hub.store.tables import masters, outbox, quarantine, source_records

NATIONAL_CODE = "0487615239"
CRM_HEADER = "id,name,national_code,mobile,email,sms_ok\n"
CRM_ROWS = [
    "1001,سعید حسین‌زاده,0487615239,09121111111,saeed@example.com,بله\n",
    "1002,لیلا اکبری,,0912 222 2222,leila@example.com,no\n",
    "1003,Reza Karimi,,09123333333,reza at example,yes\n",   # a value set aside
    "1004,,,,,yes\n",                                         # nothing identifying
    "1005,Parisa Naderi,,,parisa@example.com,\n",             # gone from the next export
]
CRM_MAPPING = """target: customer
fields:
  name.full:            {from: name}
  nationalCode:         {from: national_code}
  phones.phone:mobile:  {from: mobile}
  emails.email:         {from: email}
  consents.consent:sms: {from: sms_ok}
"""
CALLS = """call_id,when,caller,summary
K-1,2024-01-02 09:00,saeed@example.com,تماس درباره سفارش
K-2,2024-03-05 16:30,saeed@example.com,پیگیری ارسال
"""
CALLS_MAPPING = """target: interaction
fields:
  channel:       {constant: phone}
  direction:     {constant: inbound}
  occurredAt:    {from: when}
  summary:       {from: summary}
  contact.email: {from: caller}
"""


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.partition(':')[2]}"}


READ, ADMIN, FORMS = _bearer(READ_TOKEN), _bearer(ADMIN_TOKEN), _bearer(FORMS_TOKEN)


def _write_sources(root: Path) -> None:
    (root / "pipelines" / "crm.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: ../crm.csv, id_column: id, snapshot: true}\n"
        "source_system: crm\nmapping: crm.yaml\n", encoding="utf-8")
    (root / "mappings" / "crm.yaml").write_text(CRM_MAPPING, encoding="utf-8")
    (root / "crm.csv").write_text(CRM_HEADER + "".join(CRM_ROWS), encoding="utf-8")
    (root / "pipelines" / "calls.yaml").write_text(
        "adapter: spreadsheet\noptions: {path: ../calls.csv, id_column: call_id}\n"
        "source_system: calls\nmapping: calls.yaml\n", encoding="utf-8")
    (root / "mappings" / "calls.yaml").write_text(CALLS_MAPPING, encoding="utf-8")
    (root / "calls.csv").write_text(CALLS, encoding="utf-8")


def _peyvand_run(config: Path, *pipelines: str) -> int:
    done = subprocess.run([sys.executable, "-m", "hub", "--config", str(config), "run",
                           *pipelines], capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 3), done.stdout + done.stderr   # 3: values in quarantine
    return done.returncode


def _until(what: str, probe: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := probe():
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not after {timeout} s")


@dataclass
class World:
    server: Server
    config: Path
    merged_away: str
    survivor: str

    def get(self, path: str, headers: dict[str, str] | None = None,
            **params: Any) -> httpx.Response:
        return httpx.get(f"{self.server.url}{path}", params=params, timeout=30,
                         headers=READ if headers is None else headers)

    def found(self, q: str) -> list[dict[str, Any]]:
        answer = self.get("/customers", q=q)
        assert answer.status_code == 200, answer.text
        customers: list[dict[str, Any]] = answer.json()["customers"]
        return customers

    def one(self, q: str) -> dict[str, Any]:
        customers = self.found(q)
        assert len(customers) == 1, (q, customers)
        return customers[0]


def _populate(root: Path, store_url: str) -> World:
    config = project(root, store_url, pipelines=["crm", "calls"])
    _write_sources(root)
    assert _peyvand_run(config, "crm", "calls") == 3
    server = Server(config).start()
    world = World(server, config, "", "")
    post = {"name": "Parisa Naderi", "email": "parisa@example.com"}
    assert server.post("/forms/contact", data=post).status_code == 202
    # Two customers, then a post with both keys: they merge.
    assert server.post("/forms/contact", data={"name": "Nima Ahmadi",
                                                "email": "nima@example.com"}).status_code == 202
    assert server.post("/forms/contact", data={"name": "نیما احمدی",
                                                "mobile": "09124444444"}).status_code == 202
    by_email = _until("Nima by e-mail", lambda: world.found("nima@example.com"))[0]["id"]
    by_mobile = _until("Nima by mobile", lambda: world.found("09124444444"))[0]["id"]
    assert by_email != by_mobile
    assert server.post("/forms/contact", data={
        "name": "Nima Ahmadi", "email": "nima@example.com",
        "mobile": "09124444444"}).status_code == 202
    moved = _until("the merge", lambda: [i for i in (by_email, by_mobile)
                                         if world.get(f"/customers/{i}").status_code == 308])
    world.merged_away = moved[0]
    world.survivor = by_mobile if moved[0] == by_email else by_email
    _until("Parisa's post", lambda: len(world.one("parisa@example.com")["sources"]) == 2)
    # The next export no longer has 1005: its link closes, Parisa stays on her form post.
    (root / "crm.csv").write_text(CRM_HEADER + "".join(CRM_ROWS[:4]), encoding="utf-8")
    _peyvand_run(config, "crm")
    return world


@pytest.fixture(name="world", scope="module")
def _world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("read_api")
    world = _populate(root, f"sqlite:///{root}/store.sqlite")
    yield world
    world.server.stop()


# --- search ------------------------------------------------------------------------------

def test_search_finds_by_each_kind_of_key(world: World) -> None:
    saeed = world.one("حسین‌زاده")                       # Persian, with its half-space
    assert saeed["display_name"] == "سعید حسین‌زاده"
    assert saeed["sources"] == [{"system": "crm", "id": "1001"}]
    assert world.one("Hosseinzadeh")["id"] == saeed["id"]      # Latin
    assert world.one("سعيد حسين زاده")["id"] == saeed["id"]    # Arabic ي, no half-space
    assert world.one("SAEED@example.com")["id"] == saeed["id"]
    assert world.one(NATIONAL_CODE)["id"] == saeed["id"]
    leila = world.one("۰۹۱۲ ۲۲۲ ۲۲۲۲")                     # Persian digits and spaces
    assert leila["display_name"] == "لیلا اکبری"
    assert world.one("+98 912 222 2222")["id"] == leila["id"]
    assert world.one("crm/1002")["id"] == leila["id"]          # a source record's system/id
    assert world.found("nobody@example.com") == []
    limited = world.get("/customers", q="example", limit=0)
    assert limited.status_code == 422
    assert limited.json()["fields"][0]["field"] == "limit"
    assert "limit" in limited.json()["error"]


def test_parameters_the_store_cannot_take_are_named(world: World) -> None:
    """PostgreSQL refuses NUL in text and seqs past BIGINT: a 422 naming the parameter,
    never a 500 from the store."""
    for path, params, field in [("/customers", {"q": "crm/\x00"}, "q"),
                                ("/customers/C%00", {}, "master_id"),
                                ("/events", {"from": 10**30}, "from"),
                                ("/events", {"type": "a\x00"}, "type.0"),
                                ("/quarantine", {"from": -1}, "from")]:
        answer = world.get(path, **params)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["fields"][0]["field"] == field
        assert answer.json()["error"].startswith("the request cannot be taken: " + field)


# --- one customer ------------------------------------------------------------------------

def test_a_customer_with_lineage_records_interactions_and_consent(world: World) -> None:
    saeed_id = world.one("saeed@example.com")["id"]
    answer = world.get(f"/customers/{saeed_id}")
    assert answer.status_code == 200, answer.text
    saeed = answer.json()
    crm_1001 = {"system": "crm", "id": "1001"}
    assert saeed["id"] == saeed_id and saeed["status"] == "active" and saeed["version"] >= 1
    assert saeed["fields"]["nationalCode"] == [{"value": NATIONAL_CODE, "source": crm_1001}]
    assert saeed["fields"]["phones.phone:mobile"] == [{"value": "+989121111111",
                                                       "source": crm_1001}]
    assert saeed["consent"] == [{"channel": "sms", "purpose": None, "opted_in": True,
                                 "source": crm_1001}]
    [record] = saeed["records"]
    assert record["source"] == crm_1001 and record["decision"] == "new"
    assert "crm.csv" in record["location"] and record["closed"] is False
    calls = saeed["interactions"]
    assert [c["source"]["id"] for c in calls] == ["K-2", "K-1"]   # newest first
    assert calls[0]["channel"] == "phone" and calls[0]["occurred_at"].startswith("2024-03-05")
    assert calls[0]["fields"]["summary"] == ["پیگیری ارسال"]

    leila = world.get(f"/customers/{world.one('crm/1002')['id']}").json()
    assert leila["consent"][0]["opted_in"] is False


def test_a_closed_source_record_is_marked(world: World) -> None:
    parisa = world.get(f"/customers/{world.one('parisa@example.com')['id']}").json()
    records = {r["source"]["system"]: r for r in parisa["records"]}
    assert records["crm"]["closed"] is True
    assert datetime.fromisoformat(records["crm"]["closed_at"]).utcoffset() is not None
    assert records["contact"]["closed"] is False
    assert records["contact"]["decision"] == "joined" and records["contact"]["evidence"]
    assert parisa["status"] == "active"
    assert parisa["fields"]["emails.email"][0]["source"]["system"] == "contact"


def test_a_merged_away_id_answers_308_to_its_survivor(world: World) -> None:
    moved = world.get(f"/customers/{world.merged_away}")
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/customers/{world.survivor}"
    assert moved.json()["merged_into"] == world.survivor
    followed = httpx.get(f"{world.server.url}/customers/{world.merged_away}", headers=READ,
                         follow_redirects=True)
    assert followed.status_code == 200
    nima = followed.json()
    assert nima["id"] == world.survivor and world.merged_away in nima["merged_ids"]
    assert len(nima["records"]) == 3
    assert {r["decision"] for r in nima["records"]} >= {"new", "merged"}
    assert {v["value"] for v in nima["fields"]["emails.email"]} == {"nima@example.com"}
    assert nima["fields"]["phones.phone:mobile"][0]["value"] == "+989124444444"
    unknown = world.get("/customers/C0000000000000000000000X")
    assert unknown.status_code == 404 and "C0000000000000000000000X" in unknown.json()["error"]


# --- who may read ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/customers?q=saeed@example.com", "/customers/X",
                                  "/quarantine", "/events", "/metrics"])
def test_every_read_endpoint_needs_the_read_scope(world: World, path: str) -> None:
    url = f"{world.server.url}{path}"
    nobody = httpx.get(url)
    assert nobody.status_code == 401 and nobody.headers["www-authenticate"] == "Bearer"
    assert "bearer token" in nobody.json()["error"]
    assert httpx.get(url, headers={"Authorization": "Bearer " + "x" * 32}).status_code == 401
    forms = httpx.get(url, headers=FORMS)
    assert forms.status_code == 403 and "'read' scope" in forms.json()["error"]
    assert httpx.get(url, headers=ADMIN).status_code in (200, 308, 404)


# --- quarantine --------------------------------------------------------------------------

def test_quarantine_shows_raw_values_to_admin_only(world: World) -> None:
    read = world.get("/quarantine")
    assert read.status_code == 200, read.text
    entries = {e["record"]: e for e in read.json()["entries"]}
    assert set(entries) == {"1003", "1004"}
    values, whole = entries["1003"], entries["1004"]
    assert values["kind"] == "values" and values["source"] == "crm"
    assert values["problems"][0]["field"] == "emails.email"
    assert "reza at example" in values["problems"][0]["reason"]
    assert whole["kind"] == "record" and "crm.csv" in whole["location"]
    assert whole["pipeline"] == "crm"
    assert datetime.fromisoformat(whole["created_at"]).utcoffset() is not None
    assert all(e["raw"] is None for e in entries.values())     # personal data

    admin = {e["record"]: e for e in world.get("/quarantine", ADMIN).json()["entries"]}
    assert admin["1003"]["raw"]["email"] == "reza at example"
    assert admin["1003"]["raw"]["name"] == "Reza Karimi"

    first = world.get("/quarantine", limit=1).json()
    rest = world.get("/quarantine", **{"from": first["next"]}).json()
    assert [e["id"] for e in first["entries"] + rest["entries"]] == sorted(
        e["id"] for e in entries.values())
    assert world.get("/quarantine", status="resolved").json()["entries"] == []
    bad = world.get("/quarantine", status="closed")
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "status"


# --- events ------------------------------------------------------------------------------

def test_events_from_an_offset_continue_where_the_last_page_ended(world: World) -> None:
    hub = Hub.from_config(world.config, environ={})
    try:
        log = [e.envelope() for e in hub.events()]
    finally:
        hub.close()
    assert len(log) > 10
    pages, offset = [], 0
    while True:
        page = world.get("/events", **{"from": offset, "limit": 4}).json()
        if not page["events"]:
            assert page["next"] == offset
            break
        assert len(page["events"]) <= 4
        pages.extend(page["events"])
        offset = page["next"]
        assert offset == page["events"][-1]["seq"]
    assert pages == log                      # every event once, in order, as on the bus
    assert {"customer.created", "customer.merged", "interaction.recorded",
            "record.rejected"} <= {e["type"] for e in pages}
    middle = log[5]["seq"]
    after = world.get("/events", **{"from": middle, "limit": 2}).json()["events"]
    assert [e["seq"] for e in after] == [e["seq"] for e in log[6:8]]
    merges = world.get("/events", type="customer.merged").json()["events"]
    assert [e["data"]["merged_ids"] for e in merges] == [[world.merged_away]]


# --- metrics -----------------------------------------------------------------------------

def _scrape(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = httpx.get(f"{server.url}/metrics", headers=READ, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples}


def _store_counts(hub: Hub) -> dict[str, Any]:
    with hub.engine.connect() as conn:
        def grouped(column: Any, *where: Any) -> dict[str, int]:
            query = select(column, func.count()).where(*where).group_by(column)
            return {k: int(n) for k, n in conn.execute(query)}
        unpublished = outbox.c.published_at.is_(None)
        return {
            "records": grouped(source_records.c.source_system),
            "held": grouped(quarantine.c.kind, quarantine.c.status == "open"),
            "masters": grouped(masters.c.status),
            "published": conn.execute(select(func.count()).select_from(outbox).where(
                ~unpublished)).scalar_one(),
            "waiting": conn.execute(select(func.count()).select_from(outbox).where(
                unpublished)).scalar_one(),
            "oldest": conn.execute(select(func.min(outbox.c.created_at)).where(
                unpublished)).scalar_one()}


def _check_metrics(server: Server, config: Path) -> None:
    hub = Hub.from_config(config, environ={})
    try:
        # Events the relay has not published yet: a run through the Hub, without relay.
        (config.parent / "calls.csv").write_text(
            CALLS + "K-3,2024-04-01 10:00,leila@example.com,سوال\n", encoding="utf-8")
        hub.run(["calls"])
        before = _scrape(server)
        for _ in range(3):
            assert httpx.get(f"{server.url}/events", headers=READ).status_code == 200
        assert httpx.get(f"{server.url}/events", headers=FORMS).status_code == 403
        assert httpx.get(f"{server.url}/no/such/page", headers=READ).status_code == 404
        scraped_at = datetime.now(UTC)
        metrics = _scrape(server)
        store = _store_counts(hub)
    finally:
        hub.close()

    assert metrics[("peyvand_store_up", ())] == 1
    for system, n in store["records"].items():
        assert metrics[("peyvand_source_records", (("source_system", system),))] == n
    assert sum(v for (name, _), v in metrics.items() if name == "peyvand_source_records") \
        == sum(store["records"].values())
    for kind in ("record", "values"):
        assert metrics[("peyvand_quarantine_open", (("kind", kind),))] == \
            store["held"].get(kind, 0)
    assert store["held"] == {"record": 1, "values": 1}
    for status in ("active", "merged", "retired"):
        assert metrics[("peyvand_customers", (("status", status),))] == \
            store["masters"].get(status, 0)
    assert store["masters"]["merged"] == 1
    assert metrics[("peyvand_events_published_total", ())] == store["published"] > 0
    assert metrics[("peyvand_events_waiting", ())] == store["waiting"] > 0
    oldest = store["oldest"].replace(tzinfo=store["oldest"].tzinfo or UTC)
    lag = metrics[("peyvand_relay_lag_seconds", ())]
    assert 0 < lag <= (scraped_at - oldest).total_seconds() + 1

    def delta(name: str, route: str, status: str) -> float:
        key = (name, (("method", "GET"), ("route", route), ("status", status)))
        return metrics.get(key, 0) - before.get(key, 0)

    assert delta("peyvand_http_requests_total", "/events", "200") == 3
    assert delta("peyvand_http_request_duration_seconds_count", "/events", "200") == 3
    assert delta("peyvand_http_requests_total", "/events", "403") == 1
    assert delta("peyvand_http_requests_total", "unmatched", "404") == 1
    assert delta("peyvand_http_requests_total", "/metrics", "200") == 1   # the first scrape
    assert delta("peyvand_http_request_duration_seconds_sum", "/events", "200") > 0


def test_metrics_match_the_store(world: World) -> None:
    _check_metrics(world.server, world.config)


@pytest.mark.postgres
def test_metrics_match_a_postgresql_store(tmp_path: Path, pg_engine: Any) -> None:
    world = _populate(tmp_path, pg_engine.url.render_as_string(hide_password=False))
    try:
        _check_metrics(world.server, world.config)
    finally:
        world.server.stop()


def test_the_openapi_document_describes_every_read_answer(world: World) -> None:
    spec = httpx.get(f"{world.server.url}/openapi.json").json()
    paths = spec["paths"]
    for path in ("/customers", "/customers/{master_id}", "/quarantine", "/events",
                 "/metrics"):
        answers = paths[path]["get"]["responses"]
        assert {"200", "401", "403"} <= set(answers), path
        assert paths[path]["get"]["security"] == [{"HTTPBearer": []}]
    assert {"308", "404"} <= set(paths["/customers/{master_id}"]["get"]["responses"])
    schemas = spec["components"]["schemas"]
    assert {"Customer", "SearchAnswer", "QuarantinePage", "EventPage", "EventEnvelope",
            "ErrorAnswer", "Moved"} <= set(schemas)
    assert "schema" in schemas["EventEnvelope"]["properties"]
    assert "text/plain" in next(iter(paths["/metrics"]["get"]["responses"]["200"]["content"]))
