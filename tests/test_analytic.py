import math

import numpy as np
import pytest

from causalpref.errors import CausalPrefError
from causalpref.eval.analytic import quadrant_24_mass, refit_a_hat, sample_toy_points, toy_accuracy, toy_accuracy_ood

MC_N = 200_000


@pytest.mark.parametrize("rho, expected", [(0.0, 0.500), (0.3, 0.403), (0.6, 0.295), (0.9, 0.144)])
def test_quadrant_24_mass_values(rho, expected):
    assert quadrant_24_mass(rho) == pytest.approx(expected, abs=5e-4)


@pytest.mark.parametrize("rho", [-0.5, 0.0, 0.6, 0.9])
def test_quadrant_24_mass_matches_monte_carlo(rho):
    d = sample_toy_points(rho, MC_N, seed=1)
    assert np.mean(d[:, 0] * d[:, 1] < 0) == pytest.approx(quadrant_24_mass(rho), abs=0.005)


@pytest.mark.parametrize(
    "rho, a, a_hat",
    [(0.0, 0.25, 0.75), (0.3, 0.25, 0.5), (0.6, 0.25, 0.3), (0.9, 0.25, 0.5), (0.9, 0.0, 1.0), (-0.5, 0.1, 0.9)],
)
def test_closed_forms_match_monte_carlo(rho, a, a_hat):
    d = sample_toy_points(rho, MC_N, seed=2)
    agree = np.sign(d @ [a, 1 - a]) == np.sign(d @ [a_hat, 1 - a_hat])
    q24 = d[:, 0] * d[:, 1] < 0
    assert toy_accuracy(rho, a, a_hat) == pytest.approx(agree.mean(), abs=0.01)
    assert toy_accuracy_ood(rho, a, a_hat) == pytest.approx(agree[q24].mean(), abs=0.01)
    assert agree[~q24].all()  # with a, a_hat in [0, 1] errors only happen in quadrants 2/4


@pytest.mark.parametrize("rho", [-0.9, 0.0, 0.5, 0.99])
@pytest.mark.parametrize("a", [0.0, 0.25, 1.0])
def test_exact_fit_is_perfect(rho, a):
    assert toy_accuracy(rho, a, a) == pytest.approx(1.0, abs=1e-7)
    assert toy_accuracy_ood(rho, a, a) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("rho", [-0.5, 0.0, 0.3, 0.6, 0.9])
@pytest.mark.parametrize("a_hat", [0.0, 0.4, 0.6, 1.0])
def test_ood_accuracy_below_overall(rho, a_hat):
    assert toy_accuracy_ood(rho, 0.25, a_hat) < toy_accuracy(rho, 0.25, a_hat)


def test_same_error_in_a_costs_less_overall_at_high_rho_but_more_ood():
    # Paper's point: a wrong a_hat barely shows in-distribution when rho is high.
    assert toy_accuracy(0.9, 0.25, 0.5) > toy_accuracy(0.0, 0.25, 0.5)
    assert toy_accuracy_ood(0.9, 0.25, 0.5) < toy_accuracy(0.9, 0.25, 0.5) - 0.2


def test_sample_toy_points_seeded():
    a = sample_toy_points(0.6, 200, seed=3)
    assert a.shape == (200, 2)
    np.testing.assert_array_equal(a, sample_toy_points(0.6, 200, seed=3))
    assert not np.array_equal(a, sample_toy_points(0.6, 200, seed=4))


def test_refit_recovers_a_and_spread_grows_with_rho():
    low = refit_a_hat(0.0, 0.25, 100, 200, seed=0)
    high = refit_a_hat(0.9, 0.25, 100, 200, seed=0)
    assert low.shape == high.shape == (200,)
    assert np.nanmean(low) == pytest.approx(0.25, abs=0.03)
    assert np.nanstd(high) > 2 * np.nanstd(low)
    np.testing.assert_array_equal(low, refit_a_hat(0.0, 0.25, 100, 200, seed=0))


def test_refit_marks_wrong_sign_fits_nan():
    # Tiny training sets at a high temperature: labels are almost coin flips, so some fits
    # prefer the worse response (w1 + w2 <= 0) and have no a_hat.
    a_hat = refit_a_hat(0.0, 0.5, 2, 300, seed=0, temperature=100.0)
    assert 0 < np.isnan(a_hat).sum() < a_hat.size


def test_refit_handles_separable_data():
    # Tiny temperature: labels are deterministic, the data separable; ridge keeps it finite.
    a_hat = refit_a_hat(0.3, 0.25, 50, 20, seed=0, temperature=1e-6)
    assert np.all(np.isfinite(a_hat))
    assert np.all(np.abs(a_hat - 0.25) < 0.1)


@pytest.mark.parametrize(
    "call, word",
    [
        (lambda: quadrant_24_mass(1.0), "degenerate"),
        (lambda: quadrant_24_mass(-1.0), "degenerate"),
        (lambda: quadrant_24_mass(1.5), "rho"),
        (lambda: quadrant_24_mass(float("nan")), "rho"),
        (lambda: quadrant_24_mass("0.3"), "rho"),
        (lambda: toy_accuracy(1.0, 0.25, 0.5), "degenerate"),
        (lambda: toy_accuracy(0.3, -0.1, 0.5), "a must"),
        (lambda: toy_accuracy(0.3, 0.25, 1.1), "a_hat"),
        (lambda: toy_accuracy_ood(0.3, 0.25, float("inf")), "a_hat"),
        (lambda: toy_accuracy_ood(True, 0.25, 0.5), "rho"),
        (lambda: sample_toy_points(0.3, 0), "n"),
        (lambda: sample_toy_points(0.3, 10, seed=-1), "seed"),
        (lambda: refit_a_hat(0.3, 0.25, 1, 10, 0), "n"),
        (lambda: refit_a_hat(0.3, 0.25, 10, 0, 0), "repeats"),
        (lambda: refit_a_hat(0.3, 0.25, 10.5, 1, 0), "n"),
        (lambda: refit_a_hat(0.3, 2.0, 10, 1, 0), "a must"),
        (lambda: refit_a_hat(0.3, 0.25, 10, 1, 0, temperature=0), "temperature"),
        (lambda: refit_a_hat(math.nan, 0.25, 10, 1, 0), "rho"),
    ],
)
def test_bad_inputs_raise(call, word):
    with pytest.raises(CausalPrefError, match=word):
        call()
