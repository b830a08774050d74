import numpy as np
import pytest

from causalpref.data.pairs import PairSet
from causalpref.eval.metrics import mean_margin, non_dominant_factor, pairwise_accuracy, spurious_accuracy


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
