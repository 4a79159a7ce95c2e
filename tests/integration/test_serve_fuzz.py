"""``peyvand serve`` fuzzed from its own OpenAPI document (schemathesis), over loopback.

Every operation the live server's ``/openapi.json`` lists, whatever routes exist when it
runs, gets generated requests, valid ones and ones made wrong on purpose, sent with the
admin token (every scope), by schemathesis' own runner: its coverage phase (each
parameter's boundaries and wrong types) and random fuzzing. No answer may be a server
error (``not_a_server_error``), and each body must match the schema the document
declares for its status, where it declares one (``response_schema_conformance``). The
run found one 5xx: ``GET /events?from=`` past the largest integer a store holds failed in
the driver; ``hub/serve/read_api.py`` now refuses it as a parameter (422).

Bounded and repeatable: ``MAX_EXAMPLES`` cases an operation, from a fixed seed, with no
example database carried between runs: about 10 s. The form endpoint's body is not in
the document (it is read as a stream under our own limits, in three encodings), so a
second test sends generated bodies to the real forms, signed where the form wants it:
valid-looking and hostile field names and values, nesting, lists, NaN, bytes that are
no body at all, under every content type; no 5xx, and every answer in its documented
shape.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from lxml import etree
from serve_support import ADMIN_TOKEN, SECRET, Server, project

from hub.serve.auth import sign

MAX_EXAMPLES = 40
SEED = 1405
BEARER = {"Authorization": f"Bearer {ADMIN_TOKEN.split(':', 1)[1]}"}


@pytest.fixture(name="live", scope="module")
def _live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("fuzz")
    server = Server(project(root, f"sqlite:///{root}/store.sqlite")).start()
    yield server
    if server.process and server.process.poll() is None:
        server.stop()


def test_every_operation_answers_without_a_server_error_and_as_documented(
        live: Server, tmp_path: Path) -> None:
    """schemathesis' own runner (its CLI, the interface it keeps stable), all its phases
    that need no links: the document's examples, coverage (each parameter's boundaries
    and types, where a huge integer or an empty list lives) and random fuzzing, valid
    and invalid requests both."""
    done = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "run", f"{live.url}/openapi.json",
         "--checks", "not_a_server_error,response_schema_conformance",
         "--phases", "examples,coverage,fuzzing", "--mode", "all",
         "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
         "--generation-database", "none", "--workers", "1", "--request-timeout", "30",
         "--header", f"Authorization: {BEARER['Authorization']}",
         "--report", "junit", "--report-junit-path", str(tmp_path / "junit.xml")],
        capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-20_000:] + done.stderr[-5_000:]
    # Every operation of the document was run (one test case each), none skipped.
    document = httpx.get(f"{live.url}/openapi.json").json()
    operations = {f"{method.upper()} {path}" for path, item in document["paths"].items()
                  for method in item if method in {"get", "post", "put", "patch", "delete"}}
    report = etree.parse(str(tmp_path / "junit.xml"))
    tested = {str(case.get("name")) for case in report.iter("testcase")
              if case.find("skipped") is None}
    assert tested == operations
    assert {"GET /health", "GET /ready", "POST /forms/{form_id}"} <= tested


# --- form bodies, which the document does not describe -----------------------------------

_NAMES = st.one_of(st.sampled_from(["name", "email", "mobile", "city", "submission_id"]),
                   st.text(max_size=30))
_VALUES = st.one_of(st.text(max_size=60), st.sampled_from(
    ["۰۹۱۲ ۳۴۵ ۶۷۸۹", "maryam.rezaei@example.com", "مریم رضایی", "not an address", "",
     "\u200c", "=HYPERLINK(\"x\")", "a" * 300]))
_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
                               _VALUES),
                     lambda inner: st.one_of(st.lists(inner, max_size=4),
                                             st.dictionaries(_NAMES, inner, max_size=4)),
                     max_leaves=12)


@st.composite
def _posts(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """(form, the keyword arguments of httpx.post) for one generated post."""
    form = draw(st.sampled_from(["contact", "signed", "partner", "jotform", "typeform"]))
    kind = draw(st.sampled_from(["json", "form", "multipart", "raw"]))
    headers = dict(BEARER)
    if kind == "json":
        body = json.dumps(draw(st.one_of(st.dictionaries(_NAMES, _JSON, max_size=6), _JSON)),
                          ensure_ascii=draw(st.booleans())).encode()
        headers["Content-Type"] = "application/json"
    elif kind == "raw":   # anything at all, under any of the content types
        body = draw(st.binary(max_size=200))
        headers["Content-Type"] = draw(st.sampled_from(
            ["application/json", "application/x-www-form-urlencoded", "text/plain", "",
             "multipart/form-data", "multipart/form-data; boundary=x"]))
    else:
        fields = draw(st.lists(st.tuples(_NAMES, _VALUES), max_size=6))
        request = httpx.Request("POST", "http://x", **(
            {"data": dict(fields)} if kind == "form"
            else {"files": [(k, (None, v)) for k, v in fields] or {"a": (None, "")}}))
        body = request.read()   # an empty form has no content type of its own
        headers["Content-Type"] = request.headers.get("content-type",
                                                      "application/x-www-form-urlencoded")
    if form == "signed":
        headers["X-Peyvand-Signature"] = sign(SECRET, body)
    return form, {"content": body, "headers": headers}


def test_generated_form_bodies_get_no_server_error(live: Server) -> None:
    answers: dict[int, int] = {}
    with httpx.Client(base_url=live.url, timeout=30) as client:
        @given(_posts())
        @settings(max_examples=150, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @seed(SEED)
        def post(generated: tuple[str, dict[str, Any]]) -> None:
            form, kwargs = generated
            answer = client.post(f"/forms/{form}", **kwargs)
            answers[answer.status_code] = answers.get(answer.status_code, 0) + 1
            assert answer.status_code < 500, answer.text
            body = answer.json()
            if answer.status_code in (200, 202):
                assert set(body) == {"receipt", "status", "set_aside"}
            else:
                assert isinstance(body["error"], str) and body["error"]

        post()
    assert {202, 422} <= set(answers), answers   # the generator reaches both outcomes
