"""Splink (DuckDB) on the same standardized records Peyvand matches, as its docs advise.

Splink is given what Peyvand's pipeline made of each record (names with honorifics
split off and Persian letters folded, E.164 phones, ISO dates, checked national codes),
cleaned the way Splink's tutorials clean before linking: lower case, compound names
without inner spaces, the first name and the rest split out of a full name, and the
consonant skeleton Peyvand uses to compare Persian with Latin spellings.

The model follows Splink's deduplication examples: ``ForenameSurnameComparison`` with
a concatenated full name for term frequencies, ``DateOfBirthComparison``,
``EmailComparison``, exact or Levenshtein comparisons for identifiers and codes;
``estimate_probability_two_random_records_match`` from deterministic rules (recall
0.7), ``estimate_u_using_random_sampling`` (max_pairs 5e6), two EM sessions (on the
birth date; on first name and surname, with the birth year too above 200k records),
``predict`` at match probability 0.5 and ``cluster_pairwise_predictions_at_threshold``
at 0.95 (the values of Splink's own examples). Comparisons and blocking rules on
columns a data set leaves empty are dropped (FEBRL has no phones, the Persian set no
social-security numbers).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from hub.records import CanonicalRecord
from hub.standardize.person_names import compact_key, name_key, skeleton

COLUMNS = ("unique_id", "first_name", "surname", "full_name", "name_skeleton", "birth_date",
           "birth_year", "national_code", "ssn", "mobile", "landline", "email", "postal_code",
           "city", "state", "street")
CLUSTER_THRESHOLD = 0.95
# DuckDB takes up to 80 % of RAM by default; on a shared machine it spills beyond this.
MEMORY_LIMIT = "8GB"
PREDICT_THRESHOLD = 0.5


def splink_row(key: str, record: CanonicalRecord) -> dict[str, str]:
    """The columns Splink compares, from a standardized record ('' where absent)."""
    given, family = record.first("name.given") or "", record.first("name.family") or ""
    if not (given or family):
        tokens = name_key(record.display_name()).split()
        given, family = (tokens[0], " ".join(tokens[1:])) if tokens else ("", "")
    first, last = compact_key(given), compact_key(family)
    birth = record.first("birthDate") or ""
    ssn = record.first("identifiers.identifier:social-security") or ""
    return {
        "unique_id": key, "first_name": first, "surname": last,
        "full_name": f"{first} {last}".strip(),
        "name_skeleton": skeleton(record.display_name()).replace(" ", ""),
        "birth_date": birth, "birth_year": birth[:4],
        "national_code": record.first("nationalCode") or "", "ssn": ssn,
        "mobile": record.first("phones.phone:mobile") or "",
        "landline": record.first("phones.phone:landline") or "",
        "email": record.first("emails.email") or "",
        "postal_code": record.first("addresses.address.postalCode") or "",
        "city": (record.first("addresses.address.city") or "").lower(),
        "state": (record.first("addresses.address.province") or "").lower(),
        "street": (record.first("addresses.address.street") or "").lower(),
    }


def _model(present: set[str], rows: int) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Comparisons, prediction blocking rules, deterministic rules, EM blocking rules,
    each kept only when every column it reads has values in this data set."""
    import splink.comparison_library as cl
    from splink import block_on

    def has(*cols: str) -> bool:
        return all(c in present for c in cols)

    comparisons = [c for cols, c in [
        (("first_name", "surname"), cl.ForenameSurnameComparison(
            "first_name", "surname", forename_surname_concat_col_name="full_name")),
        (("name_skeleton",), cl.ExactMatch("name_skeleton")
         .configure(term_frequency_adjustments=True)),
        (("birth_date",), cl.DateOfBirthComparison("birth_date", input_is_string=True)),
        (("national_code",), cl.LevenshteinAtThresholds("national_code", [1])),
        (("ssn",), cl.LevenshteinAtThresholds("ssn", [1, 2])),
        (("mobile",), cl.ExactMatch("mobile")),
        (("landline",), cl.ExactMatch("landline")),
        (("email",), cl.EmailComparison("email")),
        (("postal_code",), cl.LevenshteinAtThresholds("postal_code", [1, 2])),
        (("city",), cl.ExactMatch("city").configure(term_frequency_adjustments=True)),
        (("state",), cl.ExactMatch("state").configure(term_frequency_adjustments=True)),
        (("street",), cl.JaroWinklerAtThresholds("street", [0.9, 0.7])),
    ] if has(*cols)]
    blocking = [block_on(*cols) for cols in [
        ("national_code",), ("ssn",), ("mobile",), ("email",),
        ("first_name", "surname", "birth_year"), ("surname", "birth_date"),
        ("first_name", "birth_date"), ("name_skeleton", "birth_year"),
        ("postal_code", "surname"), ("landline", "first_name"),
    ] if has(*cols)]
    deterministic = [block_on(*cols) for cols in [
        ("national_code",), ("ssn",), ("mobile",), ("email",),
        ("first_name", "surname", "birth_date"),
    ] if has(*cols)]
    # EM sessions on blocks of modest size, between them training every comparison; at a
    # million records equal names alone would block hundreds of millions of pairs.
    names = ("first_name", "surname") if rows <= 200_000 else ("full_name", "birth_year")
    em = [block_on(*cols) for cols in [("birth_date",), names] if has(*cols)]
    return comparisons, blocking, deterministic, em


def measure(table: Path, seed: int = 1402, memory_limit: str = MEMORY_LIMIT
            ) -> tuple[dict[str, str], dict[str, Any]]:
    """Train, predict and cluster ``table`` (CSV of ``COLUMNS``); (record -> cluster,
    details). The time covers loading the table into DuckDB through clustering."""
    import duckdb
    import pandas as pd
    from splink import DuckDBAPI, Linker, SettingsCreator

    start = time.perf_counter()
    frame = pd.read_csv(table, dtype=str, keep_default_na=False).replace("", None)
    present = {c for c in frame.columns if frame[c].notna().any()}
    comparisons, blocking, deterministic, em = _model(present, len(frame))
    db_api = DuckDBAPI(duckdb.connect(config={
        "memory_limit": memory_limit, "temp_directory": str(table.parent / "duckdb")}))
    settings = SettingsCreator(link_type="dedupe_only", comparisons=comparisons,
                               blocking_rules_to_generate_predictions=blocking)
    linker = Linker(db_api.register(frame), settings, log_level=logging.WARNING)
    marks = [time.perf_counter()]
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=seed)
    for rule in em:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    marks.append(time.perf_counter())
    predictions = linker.inference.predict(threshold_match_probability=PREDICT_THRESHOLD)
    marks.append(time.perf_counter())
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=CLUSTER_THRESHOLD)
    found = clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    marks.append(time.perf_counter())
    seconds = time.perf_counter() - start
    assigned = dict(zip(found["unique_id"].astype(str), found["cluster_id"].astype(str),
                        strict=True))
    load, train, predict, cluster = (b - a for a, b in zip([start, *marks], marks,
                                                             strict=False))
    return assigned, {"seconds": seconds, "load_seconds": load, "train_seconds": train,
                      "predict_seconds": predict, "cluster_seconds": cluster,
                      "comparisons": len(comparisons),
                      "blocking_rules": len(blocking), "em_sessions": len(em)}
