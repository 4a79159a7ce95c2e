"""How well a clustering found the truth: pairwise and B-cubed precision, recall, F1.

Both take ``truth`` (record -> true entity) and ``found`` (record -> cluster) and score
the records of ``truth``; a record missing from ``found`` is a cluster of its own (a
record the system quarantined was linked to no one). Both count instead of listing
pairs, so one giant false cluster costs no memory.

* Pairwise: over record pairs, does a pair share a cluster in the truth, in the result,
  in both? A cluster of n records holds n(n-1)/2 pairs, so big clusters weigh most.
* B-cubed (Bagga and Baldwin 1998): per record, the share of its cluster that is truly
  its entity (precision) and the share of its entity that is in its cluster (recall),
  averaged over records; every record weighs the same, singletons included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from typing import NamedTuple


class Scores(NamedTuple):
    precision: float
    recall: float
    f1: float


def _f1(precision: float, recall: float) -> Scores:
    total = precision + recall
    return Scores(precision, recall, 2 * precision * recall / total if total else 0.0)


def _counts(truth: Mapping[str, Hashable], found: Mapping[str, Hashable]
            ) -> tuple[Counter[Hashable], Counter[Hashable], Counter[tuple[Hashable, Hashable]]]:
    """Sizes of the true entities, of the found clusters, and of their intersections."""
    cluster = {rid: found.get(rid, ("alone", rid)) for rid in truth}
    return (Counter(truth.values()), Counter(cluster.values()),
            Counter((truth[rid], cluster[rid]) for rid in truth))


def pairwise(truth: Mapping[str, Hashable], found: Mapping[str, Hashable]) -> Scores:
    """Pairwise precision, recall and F1 (1.0 where there are no pairs to get wrong)."""
    entities, clusters, both = _counts(truth, found)

    def pairs(sizes: Counter[Hashable] | Counter[tuple[Hashable, Hashable]]) -> int:
        return sum(n * (n - 1) // 2 for n in sizes.values())

    hit, true_pairs, found_pairs = pairs(both), pairs(entities), pairs(clusters)
    return _f1(hit / found_pairs if found_pairs else 1.0,
               hit / true_pairs if true_pairs else 1.0)


def bcubed(truth: Mapping[str, Hashable], found: Mapping[str, Hashable]) -> Scores:
    """B-cubed precision, recall and F1 (1.0 for no records)."""
    if not truth:
        return Scores(1.0, 1.0, 1.0)
    entities, clusters, both = _counts(truth, found)
    # Each record of an intersection of size n scores n / |its cluster| and n / |its
    # entity|; the n records of it together add n * n / size.
    precision = sum(n * n / clusters[c] for (_, c), n in both.items()) / len(truth)
    recall = sum(n * n / entities[t] for (t, _), n in both.items()) / len(truth)
    return _f1(precision, recall)
