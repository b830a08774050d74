import numpy as np
import pytest

from causalpref.data.worlds.objectives import UserObjectivesWorld
from causalpref.draw.consistency import draw_objective_splits
from causalpref.errors import CausalPrefError
from causalpref.eval.propensity import (
    clip_weights,
    cross_fitted_propensity,
    fit_logistic,
    fold_assignment,
    inverse_propensity_weights,
    objective_overlap_report,
    predict_logistic,
    propensity_auc,
    propensity_overlap,
)

RHOS = (0.5, 0.8, 0.95, 1.0)


# --------------------------------------------------------------------------- logistic fit


def test_logistic_recovers_known_direction():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 5)) * np.array([1.0, 10.0, 0.1, 1.0, 1.0]) + 3.0
    true_w = np.array([1.5, -0.2, 8.0, 0.0, 0.0])
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x @ true_w - true_w @ np.full(5, 3.0) + 0.5)))).astype(int)
    w, b = fit_logistic(x, y, l2=1e-4)
    cosine = w @ true_w / (np.linalg.norm(w) * np.linalg.norm(true_w))
    assert cosine > 0.99
    np.testing.assert_allclose(w[:3], true_w[:3], rtol=0.15)
    p = predict_logistic(x, w, b)
    assert abs(p.mean() - y.mean()) < 1e-3  # unpenalised intercept matches the base rate


def test_logistic_finite_on_separable_data_and_constant_feature():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    x[:, 2] = 7.0  # zero standard deviation: no division by zero
    y = (x[:, 0] > 0).astype(int)  # perfectly separable
    w, b = fit_logistic(x, y)
    assert np.all(np.isfinite(w)) and np.isfinite(b)
    assert w[0] > 0 and abs(w[2]) < 1e-6
    p = predict_logistic(x, w, b)
    assert np.all((p > 0) & (p < 1))
    assert np.mean((p > 0.5) == y) > 0.95
    # a stronger penalty gives a smaller coefficient
    w_strong, _ = fit_logistic(x, y, l2=1.0)
    assert abs(w_strong[0]) < abs(w[0])


# --------------------------------------------------------------------------- cross-fitting


def test_cross_fitting_is_out_of_fold_and_seeded():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 4))
    c = (rng.random(300) < 1 / (1 + np.exp(-2 * x[:, 0]))).astype(int)
    p = cross_fitted_propensity(x, c, folds=5, seed=3)
    np.testing.assert_array_equal(p, cross_fitted_propensity(x, c, folds=5, seed=3))
    assert not np.array_equal(p, cross_fitted_propensity(x, c, folds=5, seed=4))
    # rebuild each fold's model from the other folds only: the scores are exactly those
    fold = fold_assignment(c, 5, 3)
    for k in range(5):
        test = fold == k
        assert abs(c[test].mean() - c.mean()) < 0.05  # stratified
        w, b = fit_logistic(x[~test], c[~test])
        np.testing.assert_allclose(p[test], predict_logistic(x[test], w, b), rtol=1e-10)
    # a row's score does not move when a row of its own fold changes its features entirely
    i, j = np.flatnonzero(fold == 0)[:2]
    x2 = x.copy()
    x2[i] = 100.0
    p2 = cross_fitted_propensity(x2, c, folds=5, seed=3)
    assert p2[j] == p[j]


def test_cross_fitting_does_not_memorise():
    # labels independent of many features: an in-sample fit separates them, out-of-fold does not
    rng = np.random.default_rng(5)
    x = rng.normal(size=(120, 80))
    c = rng.integers(0, 2, 120)
    w, b = fit_logistic(x, c, l2=1e-4)
    assert propensity_auc(predict_logistic(x, w, b), c) > 0.95
    assert abs(propensity_auc(cross_fitted_propensity(x, c, l2=1e-4), c) - 0.5) < 0.15


# --------------------------------------------------------------------------- synthetic world


@pytest.fixture(scope="module")
def by_rho():
    pool = UserObjectivesWorld(pool_size=40_000).pool()
    out = {}
    for rho in RHOS:
        splits = draw_objective_splits(
            pool.prompt_type, pool.objective, {"train": 2000, "val": 200, "test": 200}, rho, seed=0
        )
        pairs = pool.pairs(splits.indices["train"])
        p = cross_fitted_propensity(pairs.emb_a, pairs.objective, seed=0)
        out[rho] = (pairs, p, propensity_overlap(p, pairs.objective, 0.1))
    return out


def test_overlap_worsens_with_consistency_rate(by_rho):
    shares = [by_rho[r][2].outside_share for r in RHOS]
    aucs = [by_rho[r][2].auc for r in RHOS]
    assert shares == sorted(shares) and shares[-1] > shares[0] + 0.5
    assert aucs == sorted(aucs)
    assert abs(aucs[0] - 0.5) < 0.05
    assert aucs[-1] > 0.98
    assert by_rho[0.5][2].warning is None
    for rho in (0.95, 1.0):
        warning = by_rho[rho][2].warning
        assert warning is not None and "NOT clip" in warning and "cannot be separated" in warning
    for rho in RHOS:
        overlap = by_rho[rho][2]
        for v in (0, 1):
            qs = list(overlap.quantiles_by_objective[v].values())
            assert qs == sorted(qs) and len(qs) == 5


def test_ipw_weights_and_ess_share(by_rho):
    ess_share = {}
    for rho in RHOS:
        pairs, p, _ = by_rho[rho]
        weights, ess = inverse_propensity_weights(p, pairs.objective)
        assert weights.shape == p.shape and np.all(weights > 0)
        assert weights.mean() == pytest.approx(1.0)
        ess_share[rho] = ess / p.size
        assert 0 < ess_share[rho] <= 1
    # the inconsistent pairs get ever larger weights as rho grows towards 1; at rho = 1 itself there
    # are no inconsistent pairs to up-weight, so the ESS says nothing there (the overlap share does)
    assert ess_share[0.5] > ess_share[0.8] > ess_share[0.95]
    assert ess_share[0.5] > 0.9 and ess_share[0.95] < 0.3


def test_report(by_rho):
    pairs, _, _ = by_rho[1.0]
    text = objective_overlap_report(pairs.emb_a, pairs.objective)
    assert "c-AUC" in text and "IPW effective sample size" in text and "WARNING" in text
    assert "helpfulness" in text and "harmlessness" in text and "95%" in text
    pairs, _, _ = by_rho[0.5]
    assert "WARNING" not in objective_overlap_report(pairs.emb_a, pairs.objective)


# --------------------------------------------------------------------------- no silent clipping


def test_zero_propensity_raises_instead_of_infinite_weight():
    p = np.array([0.5, 0.0, 1.0, 0.3, 0.0])
    c = np.array([1, 1, 0, 0, 0])  # rows 1 and 2 have own propensity 0
    with pytest.raises(CausalPrefError, match="2 row"):
        inverse_propensity_weights(p, c)
    weights, ess = inverse_propensity_weights(np.array([0.5, 0.5, 0.5, 0.5]), np.array([0, 1, 0, 1]))
    np.testing.assert_allclose(weights, 1.0)
    assert ess == pytest.approx(4.0)


def test_clip_weights_needs_bound_and_reports_changes():
    clipped, changed = clip_weights(np.array([0.5, 1.0, 20.0, 30.0]), max_weight=10.0)
    np.testing.assert_array_equal(clipped, [0.5, 1.0, 10.0, 10.0])
    assert changed == 2
    with pytest.raises(TypeError):
        clip_weights(np.array([1.0]))  # no default bound
    with pytest.raises(CausalPrefError, match="max_weight"):
        clip_weights(np.array([1.0]), max_weight=0)


def test_auc_with_ties():
    assert propensity_auc(np.array([0.1, 0.2, 0.8, 0.9]), np.array([0, 0, 1, 1])) == 1.0
    assert propensity_auc(np.array([0.5, 0.5, 0.5, 0.5]), np.array([0, 1, 0, 1])) == 0.5


# --------------------------------------------------------------------------- input errors


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: fit_logistic(np.ones((4, 2)), np.array([0, 1, 0])), "c|y"),
        (lambda: fit_logistic(np.array([[0.0, np.nan], [1, 1]]), np.array([0, 1])), "NaN"),
        (lambda: fit_logistic(np.ones((4, 2)), np.array([1, 1, 1, 1])), "one objective"),
        (lambda: fit_logistic(np.ones((4, 2)), np.array([0, 1, 2, 1])), "expected 0 or 1"),
        (lambda: fit_logistic(np.ones((4, 2)), np.array([0, 1, 0, 1]), l2=0), "l2"),
        (lambda: fit_logistic(np.ones((2, 2, 2)), np.array([0, 1])), "2-D"),
        (lambda: cross_fitted_propensity(np.ones((6, 2)), np.array([0, 1, 1, 1, 1, 1])), "at least 2"),
        (lambda: cross_fitted_propensity(np.ones((4, 2)), np.array([0, 1, 0, 1]), folds=1), "folds"),
        (lambda: propensity_overlap(np.array([0.2, 0.8]), np.array([0, 1]), epsilon=0.5), "epsilon"),
        (lambda: propensity_overlap(np.array([0.2, 0.8]), np.array([0, 1]), epsilon=0), "epsilon"),
        (lambda: propensity_overlap(np.array([0.2, 1.5]), np.array([0, 1])), "probability"),
        (lambda: propensity_overlap(np.array([0.2, np.nan]), np.array([0, 1])), "probability"),
        (lambda: propensity_overlap(np.array([0.2, 0.8, 0.5]), np.array([0, 1])), "one entry per row"),
        (lambda: inverse_propensity_weights(np.array([0.2, 0.8]), np.array([0, 0])), "one objective"),
        (lambda: objective_overlap_report(np.ones((4, 2)), np.array([0, 1, 0, 1]), epsilon=0.7), "epsilon"),
    ],
)
def test_bad_inputs(call, match):
    with pytest.raises(CausalPrefError, match=match):
        call()


def test_auto_penalty_stops_many_noise_features_from_faking_poor_overlap():
    from causalpref.eval.propensity import cross_fitted_propensity, propensity_overlap

    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 150))  # features that say nothing about c
    c = np.repeat([0, 1], 150)
    weak = propensity_overlap(cross_fitted_propensity(x, c, l2=1e-2), c)
    auto = propensity_overlap(cross_fitted_propensity(x, c), c)
    assert weak.outside_share > 0.05  # the overfitted propensities: a false alarm
    assert auto.outside_share == 0.0 and auto.warning is None
    signal = x[:, :1] + 3.0 * (2 * c[:, None] - 1)  # ... while a real signal is still found
    assert propensity_overlap(cross_fitted_propensity(np.hstack([signal, x]), c), c).auc > 0.95
