"""Tests for causalpref.draw.correlation: target-correlation draws, feasible ranges and splits.

Pools are generated from a handful of parameters (kind, size, factor correlation, seed) that
hypothesis chooses: continuous normal differences, Likert 1..5 differences (-4..4) and
binary 0/1 differences ({-1, 0, 1}, heavy ties). Hypothesis runs derandomized so that the
suite is reproducible in CI.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from causalpref.draw.correlation import (
    CorrelationSplits,
    RhoDraw,
    draw_correlation_splits,
    feasible_rho_range,
    pearson,
    sample_with_target_rho,
)
from causalpref.errors import CausalPrefError

TOL = 0.02
SLACK = 1e-9
PROPERTY = settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def make_pool(kind: str, size: int, corr: float, seed: int):
    """Factor differences d1, d2 for `size` pairs whose latent factors correlate by `corr`."""
    rng = np.random.default_rng(seed)
    cov = [[1.0, corr], [corr, 1.0]]
    if kind == "normal":
        z = rng.multivariate_normal([0.0, 0.0], cov, size=size)
        return z[:, 0], z[:, 1]
    latent = rng.multivariate_normal([0.0, 0.0], cov, size=(size, 2))  # (pair, response, factor)
    if kind == "likert":
        scores = np.clip(np.round(latent * 1.2 + 3), 1, 5)
    elif kind == "binary":
        scores = (latent > 0).astype(float)
    else:
        raise AssertionError(kind)
    diffs = scores[:, 0, :] - scores[:, 1, :]
    return diffs[:, 0], diffs[:, 1]


pool_params = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["normal", "likert", "binary"]),
        "size": st.integers(400, 2500),
        "corr": st.floats(-0.7, 0.7),
        "seed": st.integers(0, 2**32 - 1),
    }
)


def check_draw(draw, d1, d2, n, target, available=None, tol=TOL):
    assert isinstance(draw, RhoDraw)
    idx = draw.indices
    assert idx.dtype == np.int64 and idx.ndim == 1
    assert idx.size == n
    assert np.all(np.diff(idx) > 0), "indices must be sorted and unique"
    assert idx[0] >= 0 and idx[-1] < d1.size
    if available is not None:
        assert available[idx].all(), "drew a pair outside the available mask"
    # The reported rho is the Pearson r of exactly the returned pairs ...
    assert draw.achieved_rho == pytest.approx(pearson(d1[idx], d2[idx]), abs=1e-12)
    assert draw.achieved_rho == pytest.approx(np.corrcoef(d1[idx], d2[idx])[0, 1], abs=1e-9)
    # ... and it is within tol of the target.
    assert abs(draw.achieved_rho - target) <= tol + SLACK
    assert draw.target_rho == target


# --------------------------------------------------------------------------- pearson


def test_pearson_matches_numpy_and_handles_zero_variance():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=500), rng.normal(size=500)
    y = y + 0.5 * x
    assert pearson(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
    assert pearson(x, 3 * x + 1) == pytest.approx(1.0)
    assert pearson(x, -x) == pytest.approx(-1.0)
    assert pearson(np.full(10, 0.1), np.arange(10)) == 0.0  # constant x: defined as 0.0
    assert pearson(np.arange(10), np.zeros(10)) == 0.0
    assert pearson([1.0], [2.0]) == 0.0
    with pytest.raises(CausalPrefError, match="equal length"):
        pearson([1, 2, 3], [1, 2])


def test_normal_scores_match_scipy():
    special = pytest.importorskip("scipy.special")
    from causalpref.draw.correlation import _ndtri, _normal_scores

    p = np.r_[1e-9, 1e-4, 0.01, 0.02425, 0.2, 0.5, 0.7, 0.97575, 0.999, 1 - 1e-9]
    np.testing.assert_allclose(_ndtri(p), special.ndtri(p), rtol=2e-8, atol=1e-9)
    scores, _, groups = _normal_scores(np.array([3.0, 1.0, 1.0, 2.0, 1.0]))
    # mid-ranks: the three 1.0s share rank 2, 2.0 has rank 4, 3.0 rank 5 (of N = 5)
    np.testing.assert_allclose(scores, special.ndtri((np.array([5, 2, 2, 4, 2]) - 0.5) / 5))
    assert groups == 3


# --------------------------------------------------------------------------- feasible range


@PROPERTY
@given(
    params=pool_params,
    frac=st.floats(0.05, 0.5),
    masked=st.booleans(),
    u=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_targets_inside_feasible_range_succeed(params, frac, masked, u, seed):
    d1, d2 = make_pool(**params)
    available = None
    if masked:
        available = np.random.default_rng(params["seed"] + 1).random(d1.size) < 0.75
    n_avail = d1.size if available is None else int(available.sum())
    n = max(50, int(frac * n_avail))
    lo, hi = feasible_rho_range(d1, d2, n, available)
    assert -1.0 <= lo <= hi <= 1.0
    if hi - lo <= 2 * TOL:
        return
    target = float(lo + TOL + u * (hi - lo - 2 * TOL))
    draw = sample_with_target_rho(d1, d2, n, target, seed, available=available)
    check_draw(draw, d1, d2, n, target, available)


@PROPERTY
@given(params=pool_params, frac=st.floats(0.05, 0.5), seed=st.integers(0, 2**32 - 1))
def test_ends_of_feasible_range_are_delivered(params, frac, seed):
    d1, d2 = make_pool(**params)
    n = max(50, int(frac * d1.size))
    lo, hi = feasible_rho_range(d1, d2, n)
    for target in (lo, hi, max(-1.0, lo - TOL), min(1.0, hi + TOL)):
        draw = sample_with_target_rho(d1, d2, n, target, seed)
        check_draw(draw, d1, d2, n, target)


@PROPERTY
@given(params=pool_params, frac=st.floats(0.05, 0.95), excess=st.floats(1e-3, 1.0), high=st.booleans())
def test_targets_outside_feasible_range_raise(params, frac, excess, high):
    d1, d2 = make_pool(**params)
    n = max(2, int(frac * d1.size))
    lo, hi = feasible_rho_range(d1, d2, n)
    target = hi + TOL + excess if high else lo - TOL - excess
    if not -1.0 <= target <= 1.0:
        return
    with pytest.raises(CausalPrefError, match="feasible range") as info:
        sample_with_target_rho(d1, d2, n, target, 0)
    assert f"{lo:.3f}" in str(info.value) and f"{hi:.3f}" in str(info.value)
    assert f"n={n}" in str(info.value)


def test_feasible_range_is_deterministic_and_ignores_unavailable_pairs():
    d1, d2 = make_pool("normal", 3000, 0.3, 1)
    assert feasible_rho_range(d1, d2, 300) == feasible_rho_range(d1.copy(), d2.copy(), 300)
    # Making half of the pool unavailable is the same as removing it.
    mask = np.arange(d1.size) % 2 == 0
    assert feasible_rho_range(d1, d2, 300, mask) == pytest.approx(
        feasible_rho_range(d1[mask], d2[mask], 300), abs=1e-12
    )
    # The range narrows as n approaches the pool size, and collapses when n is all of it.
    lo_small, hi_small = feasible_rho_range(d1, d2, 300)
    lo_big, hi_big = feasible_rho_range(d1, d2, 2700)
    assert lo_small < lo_big < hi_big < hi_small
    r_all = pearson(d1, d2)
    assert feasible_rho_range(d1, d2, d1.size) == pytest.approx((r_all, r_all), abs=1e-12)
    draw = sample_with_target_rho(d1, d2, d1.size, r_all, 3)
    np.testing.assert_array_equal(draw.indices, np.arange(d1.size))


def test_feasible_range_independent_normals_is_wide():
    d1, d2 = make_pool("normal", 40_000, 0.0, 7)
    lo, hi = feasible_rho_range(d1, d2, 4000)
    assert lo < -0.98 and hi > 0.98
    for target in (-0.9, 0.0, 0.6, 0.95):
        check_draw(sample_with_target_rho(d1, d2, 4000, target, 11), d1, d2, 4000, target)


def test_binary_pool_with_heavy_ties():
    d1, d2 = make_pool("binary", 5000, 0.2, 3)
    assert np.isin(d1, [-1, 0, 1]).all() and (d1 == 0).mean() > 0.3
    lo, hi = feasible_rho_range(d1, d2, 500)
    assert lo == pytest.approx(-1.0) and hi == pytest.approx(1.0)
    for target in (-0.95, -0.3, 0.0, 0.45, 0.9, 0.99):
        check_draw(sample_with_target_rho(d1, d2, 500, target, 5), d1, d2, 500, target)
    # Tighter tolerance also works when there are enough pairs.
    check_draw(sample_with_target_rho(d1, d2, 1000, 0.6, 5, tol=0.002), d1, d2, 1000, 0.6, tol=0.002)


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("kind", ["normal", "likert", "binary"])
def test_same_seed_same_draw_different_seed_different_draw(kind):
    d1, d2 = make_pool(kind, 3000, 0.3, 2)
    first = sample_with_target_rho(d1, d2, 400, 0.5, 123)
    again = sample_with_target_rho(d1.copy(), d2.copy(), 400, 0.5, 123)
    np.testing.assert_array_equal(first.indices, again.indices)
    assert first.achieved_rho == again.achieved_rho
    other = sample_with_target_rho(d1, d2, 400, 0.5, 124)
    assert not np.array_equal(first.indices, other.indices)
    # Draws are random, not one fixed set: two seeds overlap about as much as chance says.
    overlap = np.intersect1d(first.indices, other.indices).size
    assert overlap < 300
    # A SeedSequence is accepted as well.
    seq = sample_with_target_rho(d1, d2, 400, 0.5, np.random.SeedSequence(123))
    np.testing.assert_array_equal(seq.indices, first.indices)


def test_draw_arrays_are_read_only():
    d1, d2 = make_pool("normal", 1000, 0.0, 0)
    draw = sample_with_target_rho(d1, d2, 100, 0.3, 0)
    with pytest.raises(ValueError):
        draw.indices[0] = 5


def test_large_pool_is_fast():
    import time

    d1, d2 = make_pool("normal", 200_000, 0.2, 0)
    start = time.perf_counter()
    draw = sample_with_target_rho(d1, d2, 15_000, 0.6, 0)
    elapsed = time.perf_counter() - start
    check_draw(draw, d1, d2, 15_000, 0.6)
    assert elapsed < 5.0, f"took {elapsed:.2f}s"


# --------------------------------------------------------------------------- splits

SPLIT_SIZES = {"train": 500, "val": 120, "id": 300, "ood": 250}


def check_splits(splits, d1, d2, sizes, target, tol=TOL):
    assert isinstance(splits, CorrelationSplits)
    assert set(splits.indices) == {"train", "val", "id", "ood"}
    assert set(splits.achieved_rho) == {"train", "val", "id", "ood"}
    for name, idx in splits.indices.items():
        assert idx.dtype == np.int64 and idx.size == sizes[name]
        assert np.all(np.diff(idx) > 0)
        assert splits.achieved_rho[name] == pytest.approx(pearson(d1[idx], d2[idx]), abs=1e-12)
    everything = np.concatenate(list(splits.indices.values()))
    assert np.unique(everything).size == everything.size, "splits overlap"
    ood = splits.indices["ood"]
    assert np.all(d1[ood] * d2[ood] < 0)
    for name in ("train", "val", "id"):
        assert abs(splits.achieved_rho[name] - target) <= tol + SLACK, name
    assert splits.target_rho == target


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(params=pool_params, target=st.floats(-0.6, 0.8), seed=st.integers(0, 2**32 - 1))
def test_splits_properties(params, target, seed):
    d1, d2 = make_pool(**{**params, "size": 2 * params["size"]})
    size, discordant = d1.size, int(np.sum(d1 * d2 < 0))
    sizes = {"train": size // 8, "val": size // 30, "id": size // 15, "ood": min(size // 15, discordant // 10)}
    splits = draw_correlation_splits(d1, d2, sizes, target, seed)
    check_splits(splits, d1, d2, sizes, target)


def test_splits_reproducible_and_seed_dependent():
    d1, d2 = make_pool("likert", 4000, 0.2, 9)
    a = draw_correlation_splits(d1, d2, SPLIT_SIZES, 0.9, 42)
    b = draw_correlation_splits(d1, d2, SPLIT_SIZES, 0.9, 42)
    c = draw_correlation_splits(d1, d2, SPLIT_SIZES, 0.9, 43)
    check_splits(a, d1, d2, SPLIT_SIZES, 0.9)
    for name in SPLIT_SIZES:
        np.testing.assert_array_equal(a.indices[name], b.indices[name])
        assert not np.array_equal(a.indices[name], c.indices[name])
    # Each split has its own derived seed: train and id of one call are not the same draw
    # pattern, and the ood split is uniform over the remaining discordant pairs.
    assert a.achieved_rho["ood"] < 0


def test_splits_ood_uses_strictly_discordant_pairs_only():
    # Binary pool: many pairs have d1 == 0 or d2 == 0 (product 0), which must never be OOD.
    d1, d2 = make_pool("binary", 3000, 0.0, 4)
    splits = draw_correlation_splits(d1, d2, SPLIT_SIZES, 0.3, 1)
    check_splits(splits, d1, d2, SPLIT_SIZES, 0.3)
    ood = splits.indices["ood"]
    assert set(np.unique(d1[ood] * d2[ood])) == {-1.0}


# --------------------------------------------------------------------------- bad input


def _base():
    d1, d2 = make_pool("normal", 200, 0.0, 0)
    return d1, d2


def _with(value, index, array):
    array = array.copy()
    array[index] = value
    return array


d1_ok, d2_ok = _base()

BAD_DRAWS = [
    (dict(target_rho=1.5), "target_rho must be a number in [-1, 1], got 1.5"),
    (dict(target_rho=-1.01), "target_rho must be a number in [-1, 1]"),
    (dict(target_rho=float("nan")), "target_rho must be a number in [-1, 1], got nan"),
    (dict(target_rho=float("inf")), "target_rho must be a number in [-1, 1], got inf"),
    (dict(target_rho="0.5"), "target_rho must be a number in [-1, 1], got '0.5'"),
    (dict(target_rho=None), "target_rho must be a number"),
    (dict(d1=_with(np.nan, 17, d1_ok)), "d1 contains NaN at index 17"),
    (dict(d2=_with(np.inf, 3, d2_ok)), "d2 contains inf at index 3"),
    (dict(d1=_with(-np.inf, 0, d1_ok)), "d1 contains inf at index 0"),
    (
        dict(d1=np.zeros(10), d2=np.zeros(9), n=5),
        "d1 and d2 must be 1-D arrays of equal length, got shapes (10,) and (9,)",
    ),
    (
        dict(d1=np.zeros((10, 2)), d2=np.zeros((10, 2)), n=5),
        "d1 and d2 must be 1-D arrays of equal length, got shapes (10, 2) and (10, 2)",
    ),
    (dict(d1=np.array([]), d2=np.array([]), n=5), "empty pool: d1 and d2 have no pairs"),
    (dict(d1=np.array(["a"] * 200)), "d1 must be a 1-D array of real numbers"),
    (dict(n=0), "n must be a positive integer, got 0"),
    (dict(n=-3), "n must be a positive integer, got -3"),
    (dict(n=2.5), "n must be a positive integer, got 2.5"),
    (dict(n=True), "n must be a positive integer, got True"),
    (dict(n=201), "cannot draw n=201 pairs: only 200 are available"),
    (dict(n=150, available=np.arange(200) < 100), "cannot draw n=150 pairs: only 100 are available"),
    (dict(available=np.zeros(200, dtype=bool)), "no pairs are available"),
    (dict(available=np.ones(199, dtype=bool)), "available must be a boolean mask of shape (200,)"),
    (dict(available=np.ones(200, dtype=int)), "available must be a boolean mask"),
    (dict(tol=0), "tol must be a number in (0, 2], got 0"),
    (dict(tol=-0.1), "tol must be a number in (0, 2], got -0.1"),
    (dict(tol=float("nan")), "tol must be a number in (0, 2]"),
    (dict(seed=-1), "seed must be a non-negative integer"),
    (dict(seed=1.5), "seed must be a non-negative integer"),
    (dict(seed="abc"), "seed must be a non-negative integer"),
    (dict(n=190, target_rho=0.9), "target rho 0.9 is infeasible for this pool with n=190: feasible range is ["),
]


@pytest.mark.parametrize("changes, message", BAD_DRAWS, ids=[m[:40] for _, m in BAD_DRAWS])
def test_bad_draw_inputs_raise_helpful_errors(changes, message):
    kwargs = dict(d1=d1_ok, d2=d2_ok, n=50, target_rho=0.3, seed=0)
    kwargs.update(changes)
    with pytest.raises(CausalPrefError) as info:
        sample_with_target_rho(**kwargs)
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(n=0), "n must be a positive integer"),
        (dict(n=500), "cannot draw n=500 pairs: only 200 are available"),
        (dict(d1=_with(np.nan, 5, d1_ok)), "d1 contains NaN at index 5"),
        (dict(available=np.ones(3, dtype=bool)), "available must be a boolean mask of shape (200,)"),
    ],
)
def test_bad_range_inputs_raise_helpful_errors(changes, message):
    kwargs = dict(d1=d1_ok, d2=d2_ok, n=50)
    kwargs.update(changes)
    with pytest.raises(CausalPrefError, match=None) as info:
        feasible_rho_range(**kwargs)
    assert message in str(info.value)


def test_infeasible_error_states_the_range_it_checked():
    lo, hi = feasible_rho_range(d1_ok, d2_ok, 190)
    with pytest.raises(CausalPrefError) as info:
        sample_with_target_rho(d1_ok, d2_ok, 190, 0.9, 0)
    assert f"feasible range is [{lo:.3f}, {hi:.3f}]" in str(info.value)


SIZES_OK = {"train": 40, "val": 20, "id": 30, "ood": 20}

BAD_SPLITS = [
    (dict(sizes={"train": 40, "val": 20, "id": 30}), "missing ['ood']"),
    (dict(sizes={**SIZES_OK, "test": 5}), "unknown ['test']"),
    (dict(sizes=[40, 20, 30, 20]), "sizes must be a dict"),
    (dict(sizes={**SIZES_OK, "val": 0}), "sizes['val'] must be a positive integer, got 0"),
    (dict(sizes={**SIZES_OK, "id": 2.5}), "sizes['id'] must be a positive integer, got 2.5"),
    (dict(sizes={"train": 150, "val": 20, "id": 30, "ood": 20}), "sizes add up to 220 pairs but the pool has only 200"),
    (
        dict(d1=np.r_[-np.ones(10), np.ones(190)], d2=np.ones(200)),
        "split 'ood': cannot draw n=20 pairs with d1*d2 < 0: the pool has only 10",
    ),
    (
        dict(sizes={"train": 170, "val": 5, "id": 5, "ood": 5}, target_rho=0.95),
        "split 'train': target rho 0.95 is infeasible",
    ),
    (dict(target_rho=2.0), "target_rho must be a number in [-1, 1], got 2.0"),
    (dict(seed=-5), "seed must be a non-negative integer"),
    (dict(tol=0.0), "tol must be a number in (0, 2]"),
    (dict(d2=_with(np.nan, 9, d2_ok)), "d2 contains NaN at index 9"),
]


@pytest.mark.parametrize("changes, message", BAD_SPLITS, ids=[m[:40] for _, m in BAD_SPLITS])
def test_bad_split_inputs_raise_helpful_errors(changes, message):
    kwargs = dict(d1=d1_ok, d2=d2_ok, sizes=SIZES_OK, target_rho=0.3, seed=0)
    kwargs.update(changes)
    with pytest.raises(CausalPrefError) as info:
        draw_correlation_splits(**kwargs)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_split_error_names_a_later_split():
    # 120 pairs lie on the diagonal, 480 are independent noise. Train (n=100) at rho 0.9
    # takes most of the diagonal pairs, so val (n=300), drawn from what is left, cannot.
    rng = np.random.default_rng(0)
    line = rng.normal(size=120)
    d1 = np.r_[line, rng.normal(size=480)]
    d2 = np.r_[line + 0.05 * rng.normal(size=120), rng.normal(size=480)]
    sizes = {"train": 100, "val": 300, "id": 50, "ood": 50}
    assert feasible_rho_range(d1, d2, 300)[1] > 0.92  # feasible on the whole pool
    with pytest.raises(
        CausalPrefError,
        match=r"^split 'val': target rho 0\.9 is infeasible "
        r"for this pool with n=300: feasible range",
    ):
        draw_correlation_splits(d1, d2, sizes, 0.9, 0)


def test_ood_shortage_after_drawing_names_ood():
    # 60 discordant pairs in the pool (enough for ood=50 up front), but reaching rho 0 from
    # a mostly concordant pool makes train/val/id take most of them.
    rng = np.random.default_rng(0)
    d1 = rng.normal(size=400)
    d2 = np.abs(rng.normal(size=400)) * np.sign(d1)  # concordant ...
    d2[:60] = -d2[:60]  # ... except 60 pairs
    sizes = {"train": 100, "val": 60, "id": 60, "ood": 50}
    with pytest.raises(
        CausalPrefError,
        match=r"^split 'ood': cannot draw n=50 pairs with "
        r"d1\*d2 < 0: only \d+ remain after drawing "
        r"train, val and id$",
    ):
        draw_correlation_splits(d1, d2, sizes, 0.0, 0)
