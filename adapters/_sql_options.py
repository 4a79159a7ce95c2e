"""What can be wrong with the ``sql`` adapter's options, found before anything is opened."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from hub.log import mask_url

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Leading blanks and comments, then the statement's first word.
_FIRST_WORD = re.compile(r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*(\w*)", re.S)
_QUERY_PASSWORDS = {"password", "passwd", "pwd"}
MAX_PAGE = 100_000


def clean_query(query: str) -> str:
    """The query as it is wrapped: blanks and one trailing ``;`` taken off."""
    return query.strip().removesuffix(";").rstrip()


def key_columns(key: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else tuple(key)


def option_problems(options: Mapping[str, Any]) -> list[str]:
    """Every problem of options whose types are right (types are checked apart)."""
    return [*_connection(options), *_what(options), *_how(options)]


def _connection(options: Mapping[str, Any]) -> list[str]:
    url, env = options.get("url"), options.get("url_env")
    if (url is None) == (env is None):
        return ["options.url_env: give the name of the environment variable that holds the "
                "database URL (or options.url, for a URL without a password); exactly one "
                "of the two."]
    if isinstance(env, str) and not _ENV_NAME.fullmatch(env):
        return [f"options.url_env: {env!r} is not an environment variable name; give the "
                "variable's name (ERP_DATABASE_URL), not the URL itself."]
    if isinstance(url, str):
        return _url_problems(url)
    return []


def _url_problems(url: str) -> list[str]:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return [f"options.url: {mask_url(url)} is not a database URL; expected one such as "
                "postgresql+psycopg://odoo@db.example.com:5432/odoo."]
    if parsed.password is not None or _QUERY_PASSWORDS & {k.lower() for k in parsed.query}:
        return [f"options.url: {mask_url(url)} holds a password, and secrets come only from "
                "the environment, never from a pipeline file (it is read, copied and "
                "committed with the project): put the whole URL in an environment "
                "variable and name the variable with options.url_env instead."]
    return []


def _what(options: Mapping[str, Any]) -> list[str]:
    table, query, schema = options.get("table"), options.get("query"), options.get("schema")
    problems = []
    if (table is None) == (query is None):
        problems.append("options.table: give a table to read (options.table) or a SELECT "
                        "(options.query); exactly one of the two.")
    if schema is not None and query is not None:
        problems.append("options.schema: goes with options.table; in options.query, name "
                        "the schema in the query itself.")
    for name in ("table", "schema"):
        if isinstance(options.get(name), str) and not options[name].strip():
            problems.append(f"options.{name}: must not be empty.")
    if isinstance(query, str):
        problems += _query_problems(clean_query(query))
    return problems


def _query_problems(query: str) -> list[str]:
    found = _FIRST_WORD.match(query)
    first = found.group(1).lower() if found else ""
    if first not in ("select", "with"):
        return [f"options.query: must be one SELECT (or WITH ... SELECT) statement, and "
                f"this one starts with {first or 'nothing'!r}."]
    if ";" in query:
        return ["options.query: holds a ';': give one SELECT statement (a ';' at the end "
                "is allowed)."]
    return []


def _how(options: Mapping[str, Any]) -> list[str]:
    keys = _key_problems(options.get("key"))
    watermark, mode = options.get("watermark"), options.get("mode")
    if mode == "watermark" and watermark is None:
        keys.append("options.mode: watermark mode needs options.watermark, the column "
                    "every change moves forward (write_date).")
    if mode in ("key", "snapshot") and watermark is not None:
        keys.append(f"options.watermark: is not used in {mode} mode; leave it out, or "
                    "leave out options.mode to read by the watermark.")
    key = options.get("key")
    taken = set(key_columns(key)) if isinstance(key, str | list | tuple) else set()
    for name in ("watermark", "active_column"):
        if isinstance(options.get(name), str) and options[name] in taken:
            keys.append(f"options.{name}: {options[name]!r} is the key; name another column.")
    page, timeout = options.get("page_size"), options.get("connect_timeout")
    if isinstance(page, int) and not 1 <= page <= MAX_PAGE:
        keys.append(f"options.page_size: must be 1 to {MAX_PAGE:,}.")
    if isinstance(timeout, int) and timeout < 1:
        keys.append("options.connect_timeout: must be 1 second or more.")
    return keys


def _key_problems(key: Any) -> list[str]:
    if not isinstance(key, str | list | tuple):
        return []   # missing or mistyped: reported with the types
    columns = key_columns(key)
    if not columns or any(not str(c).strip() for c in columns):
        return ["options.key: name the column(s) that identify a row (id), none of them "
                "empty."]
    if len(set(columns)) != len(columns):
        return ["options.key: names a column twice."]
    return []
