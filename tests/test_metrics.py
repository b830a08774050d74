import numpy as np
import pytest

from causalpref.data.pairs import PairSet
from causalpref.eval.metrics import (
    mean_margin,
    non_dominant_factor,
    pairwise_accuracy,
    prompt_type_accuracy,
    spurious_accuracy,
)


def test_accuracy_counts_sign_agreement_and_half_for_ties():
    margin = np.array([2.0, -1.0, 0.0, 3.0])
    label = np.array([1, 1, 0, 0])
    assert pairwise_accuracy(margin, label) == pytest.approx((1 + 0 + 0.5 + 0) / 4)


def test_mean_margin_is_chosen_minus_rejected():
    assert mean_margin(np.array([2.0, -1.0]), np.array([1, 0])) == pytest.approx(1.5)


def test_accuracy_refuses_mismatched_shapes():
    with pytest.raises(ValueError):
        pairwise_accuracy(np.zeros(3), np.zeros(2))


def test_spurious_baseline_ranks_by_one_factor():
    pairs = PairSet(
        emb_a=np.zeros((3, 2), np.float32),
        emb_b=np.zeros((3, 2), np.float32),
        label=np.array([1, 0, 1], np.float32),
        factor_diffs=np.array([[1.0, -1], [1.0, -1], [0.0, 2]]),
        factor_names=("t", "i"),
    )
    assert spurious_accuracy(pairs, "t") == pytest.approx((1 + 0 + 0.5) / 3)
    assert spurious_accuracy(pairs, "i") == pytest.approx((0 + 1 + 1) / 3)
    assert non_dominant_factor(("t", "i"), 0.25) == "t"
    assert non_dominant_factor(("t", "i"), 0.75) == "i"


def test_reads_prompt_type_baseline_from_the_label_under_the_other_objective():
    """Real pairs have no factors: a mapped label_other column says what t's objective prefers."""
    n = 8
    label = np.array([1, 0, 1, 0, 1, 0, 1, 0], dtype=np.float32)
    other = np.array([1, 0, 0, 1, 1, 1, 0, 0], dtype=np.float32)  # agrees with label on 0, 1, 4, 7
    t = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    c = np.array([0, 0, 1, 1, 0, 0, 1, 1])  # consistent: 0, 1, 6, 7; inconsistent: 2, 3, 4, 5
    emb = np.zeros((n, 2), dtype=np.float32)
    pairs = PairSet(emb, emb, label, objective=c, prompt_type=t, counterfactual_label=other)
    # consistent pairs read their own label (4 right); inconsistent read the other one: 4 agrees, 2, 3, 5 do not
    assert prompt_type_accuracy(pairs) == pytest.approx(5 / 8)
    assert prompt_type_accuracy(PairSet(emb, emb, label, objective=c, prompt_type=t)) is None
