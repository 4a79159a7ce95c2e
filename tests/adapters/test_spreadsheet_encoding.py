"""CSV encodings decided per file, from evidence; rows that do not decode are set aside
one by one, never the whole file read in another encoding (finding H2)."""

from __future__ import annotations

from pathlib import Path

import structlog

from adapters.spreadsheet import SpreadsheetAdapter, SpreadsheetSettings
from hub.adapter import SourceContext
from hub.records import RawRecord

HEADER = "id,name,mobile,email\n"


def read(path: Path, **options) -> tuple[SpreadsheetAdapter, list[RawRecord]]:
    adapter = SpreadsheetAdapter(SpreadsheetSettings(path=str(path), **options),
                                 context=SourceContext(base_dir=Path.cwd()))
    return adapter, list(adapter.read(None))


def persian_rows(count: int, start: int = 1) -> str:
    return "".join(f"A{i},علی کریمی {i},0912{i:07},a{i}@example.com\n"
                   for i in range(start, start + count))


def test_one_undecodable_row_in_a_utf8_file_is_set_aside_alone(tmp_path):
    head = (HEADER + "A1,علی کریمی,09121000001,a1@example.com\n"
            "A2,رضا احمدی,09121000002,a2@example.com\n").encode()
    bad = b"A3,x\xff,09121000003,a3@example.com\n"
    tail = "A4,سارا رد,09121000004,a4@example.com\n".encode()
    path = tmp_path / "in.csv"
    path.write_bytes(head + bad + tail)

    adapter, records = read(path, id_column="id")

    assert adapter.detected_encoding == "utf-8"
    assert [r.data["name"] for r in records] == ["علی کریمی", "رضا احمدی", "x\ufffd", "سارا رد"]
    assert [r.problem for r in records[:2] + records[3:]] == [None, None, None]
    assert records[2].problem == (f"row 4 is not valid UTF-8 (byte 0xff at offset "
                                  f"{len(head) + 4}); the rest of the file is UTF-8")
    assert (records[2].source_id, records[2].location) == ("A3", "in.csv row 4")
    assert records[2].data == {"id": "A3", "name": "x\ufffd", "mobile": "09121000003",
                               "email": "a3@example.com"}


def test_a_character_cut_in_half_at_the_end_sets_aside_the_last_row_only(tmp_path):
    text = HEADER + persian_rows(3)
    raw = text.encode() + "A4,ر".encode() + "ضا".encode()[:1]   # a cut transfer
    path = tmp_path / "cut.csv"
    path.write_bytes(raw)

    adapter, records = read(path, id_column="id")

    assert adapter.detected_encoding == "utf-8"
    assert [r.data["name"] for r in records[:3]] == ["علی کریمی 1", "علی کریمی 2",
                                                     "علی کریمی 3"]
    assert [r.problem is None for r in records] == [True, True, True, False]
    assert records[3].problem == (f"row 5 is not valid UTF-8 (byte 0xd8 at offset "
                                  f"{len(raw) - 1}); the rest of the file is UTF-8")
    assert records[3].data["id"] == "A4"
    assert records[3].data["name"].startswith("ر")


def test_a_mostly_utf8_file_with_some_windows_1256_rows_stays_utf8(tmp_path):
    utf8 = (HEADER + persian_rows(1499)).encode()
    cp1256 = "".join(f"B{i},علي كريمي,0935{i:07},b{i}@example.com\n"
                     for i in range(5)).encode("cp1256")
    path = tmp_path / "mixed.csv"
    path.write_bytes(utf8 + cp1256)

    adapter, records = read(path, id_column="id")

    assert adapter.detected_encoding == "utf-8"
    assert len(records) == 1504
    assert [r.data["name"] for r in records[:1499]] == [f"علی کریمی {i}"
                                                        for i in range(1, 1500)]
    assert [r.source_id for r in records if r.problem] == [f"B{i}" for i in range(5)]
    assert all("is not valid UTF-8" in (r.problem or "") for r in records[1499:])


def test_a_genuine_windows_1256_file_is_read_as_windows_1256(tmp_path):
    # "عک" in Windows-1256 is the bytes DA 98, which happen to be valid UTF-8 ("ژ"): one
    # such row must not turn a Windows-1256 file into UTF-8.
    rows = ["كد;نام", "1;عک", *[f"{i};علي كريمي {i}" for i in range(2, 40)]]
    raw = "\r\n".join(rows).encode("cp1256") + b"\r\n"
    assert b"1;\xda\x98\r\n" in raw
    path = tmp_path / "holoo.csv"
    path.write_bytes(raw)

    adapter, records = read(path)

    assert adapter.detected_encoding == "cp1256"
    assert records[0].data == {"كد": "1", "نام": "عک"}
    assert all(r.problem is None for r in records)
    assert records[-1].data["نام"] == "علي كريمي 39"


def test_a_nul_byte_early_in_a_utf8_file_does_not_make_it_utf16(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes((HEADER + "A1,علی\x00,09121000001,a1@example.com\n"
                      + persian_rows(3, start=2)).encode())

    adapter, records = read(path, id_column="id")

    assert adapter.detected_encoding == "utf-8"
    assert [r.source_id for r in records] == ["A1", "A2", "A3", "A4"]
    assert records[1].data["name"] == "علی کریمی 2"


def test_the_detected_encoding_is_logged_once_per_file_without_personal_data(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes((HEADER + persian_rows(3)).encode() + b"A9,x\xff,0912,a@b.c\n")

    with structlog.testing.capture_logs() as logs:
        read(path)

    entries = [e for e in logs if e.get("encoding")]
    assert len(entries) == 1
    [entry] = entries
    assert entry["log_level"] == "info"
    assert entry["file"] == "in.csv"
    assert entry["encoding"] == "utf-8"
    text = repr(entry)
    assert "کریمی" not in text and "0912" not in text and "example.com" not in text
