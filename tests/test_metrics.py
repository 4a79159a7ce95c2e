"""Pairwise and B-cubed scores on clusterings small enough to check by hand."""

from __future__ import annotations

import random

import pytest

from hub.testing import bcubed, pairwise

# Two people: a, b, c are one, d and e the other.
TRUTH = {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}


def test_a_half_right_clustering() -> None:
    found = {"a": "X", "b": "X", "c": "Y", "d": "Y", "e": "Y"}
    # True pairs ab ac bc de; found pairs ab cd ce de; both: ab de.
    assert pairwise(TRUTH, found) == pytest.approx((0.5, 0.5, 0.5))
    # Precision per record: a 2/2, b 2/2, c 1/3, d 2/3, e 2/3 -> 11/15; recall per
    # record: a 2/3, b 2/3, c 1/3, d 2/2, e 2/2 -> 11/15.
    assert bcubed(TRUTH, found) == pytest.approx((11 / 15, 11 / 15, 11 / 15))


def test_the_truth_scores_one() -> None:
    assert pairwise(TRUTH, {r: f"m{p}" for r, p in TRUTH.items()}) == (1.0, 1.0, 1.0)
    assert bcubed(TRUTH, {r: f"m{p}" for r, p in TRUTH.items()}) == (1.0, 1.0, 1.0)


def test_all_singletons_and_one_giant_cluster() -> None:
    alone = {r: r for r in TRUTH}
    assert pairwise(TRUTH, alone) == (1.0, 0.0, 0.0)
    # Recall: a, b, c each hold 1/3 of their person, d and e 1/2.
    assert bcubed(TRUTH, alone) == pytest.approx((1.0, 0.4, 2 * 0.4 / 1.4))
    giant = dict.fromkeys(TRUTH, "G")
    assert pairwise(TRUTH, giant) == pytest.approx((0.4, 1.0, 2 * 0.4 / 1.4))
    # Precision: a, b, c see 3/5 of the cluster as theirs, d and e 2/5.
    assert bcubed(TRUTH, giant) == pytest.approx((13 / 25, 1.0, 2 * 0.52 / 1.52))


def test_a_record_missing_from_the_result_is_alone() -> None:
    found = {"a": "X", "b": "X", "d": "Y", "e": "Y"}     # c was quarantined
    assert pairwise(TRUTH, found) == pytest.approx((1.0, 0.5, 2 / 3))
    assert bcubed(TRUTH, found).precision == 1.0


def test_pairwise_agrees_with_listing_every_pair() -> None:
    rng = random.Random(7)
    truth = {f"r{i}": rng.randrange(40) for i in range(200)}
    found = {r: (p if rng.random() < 0.8 else rng.randrange(40)) for r, p in truth.items()}

    def pairs(clusters: dict[str, int]) -> set[tuple[str, str]]:
        return {(a, b) for a in clusters for b in clusters if a < b and clusters[a] == clusters[b]}

    true, got = pairs(truth), pairs(found)
    precision, recall = len(true & got) / len(got), len(true & got) / len(true)
    assert pairwise(truth, found) == pytest.approx(
        (precision, recall, 2 * precision * recall / (precision + recall)))
