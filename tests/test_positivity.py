import math

import numpy as np
import pytest

from causalpref.data.worlds import CorrelatedFactorsWorld
from causalpref.draw.correlation import draw_correlation_splits, sample_with_target_rho
from causalpref.errors import CausalPrefError
from causalpref.eval.positivity import coverage, overlap_summary, quadrant_masses

SIZES = {"train": 2000, "val": 200, "id": 500, "ood": 1000}


def _diffs(pool):
    return pool.diffs("truthfulness"), pool.diffs("instruction_following")


@pytest.fixture(scope="module")
def likert_pool():
    return CorrelatedFactorsWorld(pool_size=20000).pool()


@pytest.fixture(scope="module")
def continuous_pool():
    return CorrelatedFactorsWorld(pool_size=20000, scale="continuous").pool()


def test_quadrant_masses_hand_made():
    d1 = np.array([1, -1, -2, 3, 0, 2, 1, -1])
    d2 = np.array([1, 2, -1, -1, 5, 0, 2, 1])
    m = quadrant_masses(d1, d2)
    assert m == {"Q1": 2 / 8, "Q2": 2 / 8, "Q3": 1 / 8, "Q4": 1 / 8, "axes": 2 / 8, "q24": 3 / 8}
    assert sum(m[k] for k in ("Q1", "Q2", "Q3", "Q4", "axes")) == pytest.approx(1.0)


def test_coverage_continuous_known_answers():
    rng = np.random.default_rng(0)
    mag = lambda n: rng.uniform(1.0, 3.0, n)  # |d| in [1, 3]: no bin mixes quadrants
    sign = rng.choice([-1.0, 1.0], 4000)
    train_d1, train_d2 = sign * mag(4000), sign * mag(4000)  # quadrants 1 and 3
    sign = rng.choice([-1.0, 1.0], 500)
    test_d1, test_d2 = sign * mag(500), -sign * mag(500)  # quadrants 2 and 4
    cov = coverage(train_d1, train_d2, test_d1, test_d2)
    assert not cov.discrete
    assert cov.edges_d1.size == cov.edges_d2.size == 11  # 10 x 10 bins by default
    assert cov.counts.sum() == 4000
    assert cov.threshold == 20.0  # 0.5 % of 4000
    assert np.all(cov.test_support == 0)
    assert cov.poorly_covered_share == 1.0
    # Training spread uniformly over the square covers every test pair.
    uniform = rng.uniform(-3, 3, (20000, 2))
    cov = coverage(uniform[:, 0], uniform[:, 1], test_d1, test_d2)
    assert cov.poorly_covered_share == 0.0
    assert cov.test_support.min() >= cov.threshold


def test_coverage_discrete_known_answers():
    grid = np.array([(i, j) for i in range(-2, 3) for j in range(-2, 3)])
    train = np.repeat(grid, 40, axis=0)  # uniform: 40 pairs in each of 25 cells
    test = np.array([[-1, 2], [2, -2], [1, -1], [-2, 1]])
    cov = coverage(train[:, 0], train[:, 1], test[:, 0], test[:, 1])
    assert cov.discrete
    np.testing.assert_array_equal(cov.edges_d1, np.arange(-2.5, 3.0, 1.0))
    assert cov.counts.shape == (5, 5) and np.all(cov.counts == 40)
    np.testing.assert_array_equal(cov.test_support, [40, 40, 40, 40])
    assert cov.threshold == 5.0  # 0.5 % of 1000
    assert cov.poorly_covered_share == 0.0
    # Train only where the factors agree (d1 * d2 > 0): the disagreeing test pairs are bare.
    agree = train[train[:, 0] * train[:, 1] > 0][::4]  # 80 pairs
    cov = coverage(agree[:, 0], agree[:, 1], test[:, 0], test[:, 1])
    assert cov.poorly_covered_share == 1.0
    assert cov.threshold == 1.0  # 0.5 % of 80 < 1: at least 1
    # A cell holding fewer than the threshold counts as poorly covered.
    cov = coverage(train[:, 0], train[:, 1], test[:, 0], test[:, 1], threshold=41)
    assert cov.poorly_covered_share == 1.0


def test_overlap_summary_warns_at_high_rho(likert_pool):
    d1, d2 = _diffs(likert_pool)
    summaries = {}
    for rho in (0.0, 0.9):
        splits = draw_correlation_splits(d1, d2, SIZES, rho, seed=0)
        tr, te = splits.indices["train"], splits.indices["ood"]
        summaries[rho] = overlap_summary(d1[tr], d2[tr], d1[te], d2[te])
    low, high = summaries[0.0], summaries[0.9]
    assert low.warning is None
    assert high.warning is not None and "out-of-distribution" in high.warning
    assert high.rho == pytest.approx(0.9, abs=0.02)
    assert high.q24_gaussian == pytest.approx(0.5 - math.asin(high.rho) / math.pi)
    assert high.poorly_covered_share > 0.5 > low.poorly_covered_share
    assert high.q24_train < 0.05 < low.q24_train
    assert (high.n_train, high.n_test) == (2000, 1000)


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.6, 0.9])
def test_continuous_world_q24_matches_gaussian(continuous_pool, rho):
    # Measured with pool 20000, n = 4000, seed 0: q24 = 0.494, 0.397, 0.290, 0.137
    # against 0.500, 0.403, 0.295, 0.144 (all within 1.2 standard errors).
    d1, d2 = _diffs(continuous_pool)
    n = 4000
    draw = sample_with_target_rho(d1, d2, n, rho, seed=0)
    measured = quadrant_masses(d1[draw.indices], d2[draw.indices])["q24"]
    theory = 0.5 - math.asin(rho) / math.pi
    se = math.sqrt(theory * (1 - theory) / n)
    assert abs(measured - theory) < 3 * se, (rho, measured, theory)


def test_continuous_splits_q24(continuous_pool):
    d1, d2 = _diffs(continuous_pool)
    splits = draw_correlation_splits(d1, d2, SIZES, 0.6, seed=1)
    tr, te = splits.indices["train"], splits.indices["ood"]
    summary = overlap_summary(d1[tr], d2[tr], d1[te], d2[te])
    se = math.sqrt(summary.q24_gaussian * (1 - summary.q24_gaussian) / len(tr))
    assert abs(summary.q24_train - summary.q24_gaussian) < 3 * se
    assert summary.q24_off_axes == summary.q24_train  # no ties on a continuous scale


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: quadrant_masses([1, 2], [1]), "equal length"),
        (lambda: quadrant_masses([], []), "empty"),
        (lambda: quadrant_masses([1, np.nan], [1, 2]), "d1 contains NaN"),
        (lambda: quadrant_masses([[1, 2]], [[1, 2]]), "1-D"),
        (lambda: quadrant_masses(["a"], [1]), "d1"),
        (lambda: coverage([1, 2], [1, 2], [1], [1, 2]), "test_d1 and test_d2"),
        (lambda: coverage([1, 2], [1, np.inf], [1], [1]), "train_d2"),
        (lambda: coverage([], [], [1], [1]), "train_d1 is empty"),
        (lambda: coverage([1, 2], [1, 2], [1], [1], bins=0), "bins"),
        (lambda: coverage([1, 2], [1, 2], [1], [1], threshold=-1), "threshold"),
        (lambda: overlap_summary([1, 2], [1, 2], [], []), "test_d1 is empty"),
        (lambda: overlap_summary([1, 2, 3], [1, 2], [1], [1]), "train_d1 and train_d2"),
    ],
)
def test_bad_inputs_raise(call, word):
    with pytest.raises(CausalPrefError, match=word):
        call()
