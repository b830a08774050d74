import math

import numpy as np
import pytest

from causalpref.data.worlds import CorrelatedFactorsWorld
from causalpref.draw.correlation import draw_correlation_splits
from causalpref.errors import CausalPrefError
from causalpref.eval import diagnostics as D
from causalpref.stats import disagreement_mass as quadrant_24_mass

# --------------------------------------------------------------------------- importance weights


def test_identical_train_and_test_give_unit_weights_and_full_ess():
    rng = np.random.default_rng(0)
    d1, d2 = rng.normal(size=500), rng.normal(size=500)
    w = D.importance_weights(d1, d2, d1, d2)
    np.testing.assert_allclose(w, 1.0)
    assert D.effective_sample_size(w) == pytest.approx(500)
    assert D.effective_sample_share(w) == pytest.approx(1.0)
    assert D.unsupported_test_share(d1, d2, d1, d2) == 0.0


def test_disjoint_quadrants_give_zero_weights_and_full_unsupported_share():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0.5, 2, 400), rng.uniform(0.5, 2, 400)
    sign = np.where(rng.random(400) < 0.5, 1.0, -1.0)
    train_d1, train_d2 = sign * a, sign * b  # quadrants 1 and 3
    test_d1, test_d2 = sign * a, -sign * b  # quadrants 2 and 4
    w = D.importance_weights(train_d1, train_d2, test_d1, test_d2)
    assert w.shape == (400,) and np.all(w == 0)
    assert D.unsupported_test_share(train_d1, train_d2, test_d1, test_d2) == 1.0
    assert D.effective_sample_size(w) == 0.0
    assert D.effective_sample_share(w) == 0.0


def test_discrete_example_has_exact_ratios():
    # train: 2 at (1, 1), 2 at (-1, 1), 2 at (1, -1)     (n_train = 6)
    # test:  1 at (1, 1), 3 at (-1, 1), 4 at (-1, -1)    (n_test = 8; (-1, -1) unsupported)
    train_d1 = [1, 1, -1, -1, 1, 1]
    train_d2 = [1, 1, 1, 1, -1, -1]
    test_d1 = [1, -1, -1, -1, -1, -1, -1, -1]
    test_d2 = [1, 1, 1, 1, -1, -1, -1, -1]
    # raw ratios: (1/8)/(2/6) = 3/8, (3/8)/(2/6) = 9/8, 0; mean over training = 1/2
    w = D.importance_weights(train_d1, train_d2, test_d1, test_d2)
    np.testing.assert_allclose(w, [0.75, 0.75, 2.25, 2.25, 0.0, 0.0])
    assert w.mean() == pytest.approx(1.0)
    assert D.unsupported_test_share(train_d1, train_d2, test_d1, test_d2) == 0.5
    assert D.effective_sample_size(w) == pytest.approx(3.2)  # 6^2 / 11.25


def test_ess_known_answers():
    assert D.effective_sample_size([1, 1, 1, 1]) == pytest.approx(4)
    assert D.effective_sample_size([1, 0, 0, 0]) == pytest.approx(1)
    assert D.effective_sample_share([2, 2, 0, 0]) == pytest.approx(0.5)


def test_synthetic_world_ess_share_drops_with_rho():
    pool = CorrelatedFactorsWorld(scale="continuous", pool_size=20000).pool()
    d1, d2 = (pool.diffs(name) for name in pool.factor_names[:2])
    sizes = {"train": 2000, "val": 500, "id": 2000, "ood": 2000}
    share = {}
    for rho in (0.0, 0.9):
        splits = draw_correlation_splits(d1, d2, sizes, rho, seed=0)
        tr, te = splits.indices["train"], splits.indices["ood"]
        w = D.importance_weights(d1[tr], d2[tr], d1[te], d2[te])
        share[rho] = D.effective_sample_share(w)
    print(f"ESS share train->OOD: rho 0: {share[0.0]:.3f}, rho 0.9: {share[0.9]:.3f}")
    # rho 0: the OOD set covers half of the training quadrants, so about half the pairs count
    assert 0.35 < share[0.0] < 0.6
    assert share[0.9] < 0.1
    assert share[0.9] < share[0.0] / 5


# --------------------------------------------------------------------------- SMD


def test_smd_of_shifted_normals_is_the_shift():
    rng = np.random.default_rng(2)
    train = {"x": rng.normal(0, 1, 20000), "y": rng.normal(0, 1, 20000)}
    test = {"x": rng.normal(0.5, 1, 20000), "y": rng.normal(0.02, 1, 20000)}
    table = D.standardised_mean_differences(train, test)
    assert list(table.columns) == ["factor", "train_mean", "test_mean", "pooled_sd", "smd", "flag"]
    rows = table.set_index("factor")
    assert rows.loc["x", "smd"] == pytest.approx(0.5, abs=0.03)
    assert rows.loc["y", "smd"] == pytest.approx(0.02, abs=0.03)
    assert bool(rows.loc["x", "flag"]) and not bool(rows.loc["y", "flag"])
    assert rows.loc["x", "pooled_sd"] == pytest.approx(1.0, abs=0.03)


def test_smd_constant_columns():
    table = D.standardised_mean_differences({"a": [1, 1], "b": [2, 2]}, {"a": [1, 1], "b": [3]})
    rows = table.set_index("factor")
    assert rows.loc["a", "smd"] == 0.0 and not rows.loc["a", "flag"]
    assert rows.loc["b", "smd"] == math.inf and rows.loc["b", "flag"]


# --------------------------------------------------------------------------- reward read-out


def test_reward_factor_correlations_recover_weight_and_order():
    rng = np.random.default_rng(3)
    diffs = rng.normal(size=(5000, 3))
    margin = 0.25 * diffs[:, 0] + 0.75 * diffs[:, 1]
    table = D.reward_factor_correlations(margin, diffs, ("d1", "d2", "nuisance"))
    assert table.attrs["a_hat"] == pytest.approx(0.25)
    corr = table.set_index("factor")["correlation"]
    assert corr["d2"] > corr["d1"] > abs(corr["nuisance"])
    assert corr["d1"] == pytest.approx(0.25 / math.sqrt(0.625), abs=0.03)
    assert abs(corr["nuisance"]) < 0.05


# --------------------------------------------------------------------------- sanity checks


def test_label_shuffle_is_seeded_permutation():
    labels = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 1] * 10, dtype=np.float32)
    a, b = D.label_shuffle(labels, 7), D.label_shuffle(labels, 7)
    np.testing.assert_array_equal(a, b)
    assert a.dtype == labels.dtype and a.shape == labels.shape
    np.testing.assert_array_equal(np.sort(a), np.sort(labels))
    assert not np.array_equal(a, D.label_shuffle(labels, 8))


def test_add_random_feature_is_seeded_and_shaped():
    emb = np.ones((50, 4), dtype=np.float32)
    a = D.add_random_feature(emb, 0)
    assert a.shape == (50, 5) and a.dtype == np.float32
    np.testing.assert_array_equal(a[:, :4], emb)
    np.testing.assert_array_equal(a, D.add_random_feature(emb, 0))
    assert not np.array_equal(a[:, 4], D.add_random_feature(emb, 1)[:, 4])
    assert abs(a[:, 4].mean()) < 0.5


def test_half_subset_is_seeded_and_shaped():
    idx = D.half_subset(101, 3)
    assert idx.shape == (50,) and idx.dtype == np.int64
    assert np.unique(idx).size == 50 and idx.min() >= 0 and idx.max() < 101
    assert np.all(np.diff(idx) > 0)
    np.testing.assert_array_equal(idx, D.half_subset(101, 3))
    assert not np.array_equal(idx, D.half_subset(101, 4))


# --------------------------------------------------------------------------- remedy target


def test_balanced_weights_equalise_quadrants():
    rng = np.random.default_rng(4)
    z = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=3000)
    d1, d2 = np.round(z[:, 0] * 2), np.round(z[:, 1] * 2)  # integer: some ties on the axes
    result = D.reweighting_target_balanced(d1, d2)
    assert result.weights.mean() == pytest.approx(1.0)
    q = [result.weighted_masses[k] for k in ("Q1", "Q2", "Q3", "Q4")]
    np.testing.assert_allclose(q, q[0])
    assert result.weighted_masses["axes"] == pytest.approx(result.masses["axes"])
    assert result.masses["axes"] > 0
    assert sum(result.weighted_masses.values()) == pytest.approx(1.0)
    assert result.ess == pytest.approx(D.effective_sample_size(result.weights))
    assert 0 < result.ess_share < 1 and result.empty_quadrants == ()


def test_balanced_weights_with_an_empty_quadrant():
    result = D.reweighting_target_balanced([1, 1, 1, -1, 2], [1, 2, 3, 1, -1])
    assert result.empty_quadrants == ("Q3",)
    np.testing.assert_allclose([result.weighted_masses[k] for k in ("Q1", "Q2", "Q4")], 1 / 3)
    assert result.weighted_masses["Q3"] == 0.0


# --------------------------------------------------------------------------- report


def test_overlap_report_mentions_every_measure():
    rng = np.random.default_rng(5)
    z = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], size=2000)
    t = rng.normal(size=(4000, 2))
    t = t[t[:, 0] * t[:, 1] < 0]
    text = D.overlap_report(z[:, 0], z[:, 1], t[:, 0], t[:, 1])
    assert isinstance(text, str) and len(text.splitlines()) > 10
    for needle in (
        "Q2+Q4",
        f"{quadrant_24_mass(np.corrcoef(z.T)[0, 1]):.1%}",
        "poorly covered",
        "ESS",
        "unsupported test share",
        "smd",
        "d1*d2",
        "imbalanced",
    ):
        assert needle in text


def test_overlap_report_calls_a_remedy_with_nothing_to_up_weight_no_effect():
    """rho = 1: no training pair has disagreeing factors; the balanced weights keep ~100 % of
    the ESS, which must not read as a remedy that works."""
    rng = np.random.default_rng(6)
    d = rng.normal(size=500)
    t = rng.normal(size=(400, 2))
    text = D.overlap_report(d, d, t[:, 0], t[:, 1])
    line = next(x for x in text.splitlines() if "quadrant-balanced" in x)
    assert "no effect" in line and "ESS share" not in line
    z = rng.multivariate_normal([0, 0], [[1, 0.5], [0.5, 1]], size=500)
    line = next(
        x for x in D.overlap_report(z[:, 0], z[:, 1], t[:, 0], t[:, 1]).splitlines() if "quadrant-balanced" in x
    )
    assert "ESS share" in line and "no effect" not in line


# --------------------------------------------------------------------------- bad input

GOOD = [0.1, -0.5, 1.0]


@pytest.mark.parametrize(
    "call",
    [
        lambda: D.importance_weights([1.0, 2.0], GOOD, GOOD, GOOD),
        lambda: D.importance_weights(GOOD, GOOD, [], []),
        lambda: D.importance_weights(GOOD, [0.1, np.nan, 1.0], GOOD, GOOD),
        lambda: D.importance_weights(GOOD, GOOD, GOOD, GOOD, bins=0),
        lambda: D.unsupported_test_share(GOOD, GOOD, [np.nan], [1.0]),
        lambda: D.effective_sample_size([]),
        lambda: D.effective_sample_size([1.0, np.nan]),
        lambda: D.effective_sample_size([1.0, -1.0]),
        lambda: D.effective_sample_share([]),
        lambda: D.standardised_mean_differences({}, {}),
        lambda: D.standardised_mean_differences({"a": GOOD}, {"b": GOOD}),
        lambda: D.standardised_mean_differences({"a": []}, {"a": GOOD}),
        lambda: D.standardised_mean_differences({"a": [np.nan]}, {"a": GOOD}),
        lambda: D.reward_factor_correlations(GOOD, np.ones((2, 2)), ("a", "b")),
        lambda: D.reward_factor_correlations(GOOD, np.ones((3, 2)), ("a",)),
        lambda: D.reward_factor_correlations([], np.ones((0, 2)), ("a", "b")),
        lambda: D.reward_factor_correlations([np.nan, 1, 2], np.ones((3, 2)), ("a", "b")),
        lambda: D.reward_factor_correlations(GOOD, np.full((3, 2), np.nan), ("a", "b")),
        lambda: D.label_shuffle([], 0),
        lambda: D.label_shuffle([1.0, np.nan], 0),
        lambda: D.label_shuffle(GOOD, -1),
        lambda: D.add_random_feature(np.ones((0, 3)), 0),
        lambda: D.add_random_feature(np.ones(3), 0),
        lambda: D.add_random_feature(np.array([[1.0, np.nan]]), 0),
        lambda: D.half_subset(1, 0),
        lambda: D.half_subset(10, 1.5),
        lambda: D.reweighting_target_balanced([1.0], [1.0, 2.0]),
        lambda: D.reweighting_target_balanced([], []),
        lambda: D.reweighting_target_balanced([np.nan], [1.0]),
        lambda: D.overlap_report(GOOD, GOOD, [1.0], [1.0, 2.0]),
        lambda: D.overlap_report([], [], GOOD, GOOD),
        lambda: D.overlap_report(GOOD, GOOD, [np.nan] * 3, GOOD),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(CausalPrefError) as info:
        call()
    assert "\n" not in str(info.value)
