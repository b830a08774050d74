"""The paper's analytic toy: why correlated factors make the reward weight hard to learn.

Factor differences d = (d1, d2) ~ N(0, Sigma), Sigma = [[1, rho], [rho, 1]]. The true
preference is sign(w . d) with w = (a, 1 - a); a fitted weight a_hat gives the boundary
v . d = 0 with v = (a_hat, 1 - a_hat), a line through the origin with slope -a_hat/(1 - a_hat).

Closed forms (all exact):

* Quadrants 2 and 4 (d1 * d2 < 0) carry mass 1/2 - arcsin(rho)/pi (Sheppard's formula).
* Accuracy. Whiten: d = L u with Sigma = L L^T and u ~ N(0, I), so w . d = (L^T w) . u and
  the direction of u is uniform on the circle. sign(w . d) and sign(v . d) disagree on a
  double wedge of total angle 2 * theta, theta the angle between L^T w and L^T v, hence
      P(agree) = 1 - theta / pi,   cos theta = w'Sigma v / sqrt(w'Sigma w * v'Sigma v).
* OOD accuracy (pairs in quadrants 2/4). For a, a_hat in [0, 1] both w and v have
  non-negative entries, so w . d and v . d are both > 0 in quadrant 1 and both < 0 in
  quadrant 3: every disagreement lies in quadrants 2/4. Therefore
      P(agree | Q2/4) = 1 - (theta / pi) / (1/2 - arcsin(rho)/pi).
  A wrong a_hat costs accuracy only on the informative pairs, and when rho is high those are
  few: the overall accuracy barely moves while the OOD accuracy falls.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy.special import expit

from causalpref.errors import CausalPrefError
from causalpref.stats import disagreement_mass

__all__ = [
    "quadrant_24_mass",
    "refit_a_hat",
    "sample_toy_points",
    "toy_accuracy",
    "toy_accuracy_ood",
]

_L2 = 1e-3  # ridge penalty of the refit (keeps separable training sets finite)
_NEWTON_ITERS = 25


# --------------------------------------------------------------------------- validation


def finite_number(value, name: str) -> float:
    """`value` as a float, or a CausalPrefError naming `name` when it is not a finite number."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)) or not math.isfinite(float(value)):
        raise CausalPrefError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _check_rho(rho) -> float:
    rho = finite_number(rho, "rho")
    if abs(rho) == 1.0:
        raise CausalPrefError(
            f"rho = {rho:g} is degenerate (d1 and d2 are then identical up to sign); "
            f"expected rho strictly between -1 and 1"
        )
    if not -1.0 < rho < 1.0:
        raise CausalPrefError(f"rho must be strictly between -1 and 1, got {rho!r}")
    return rho


def _check_unit(value, name: str) -> float:
    value = finite_number(value, name)
    if not 0.0 <= value <= 1.0:
        raise CausalPrefError(f"{name} must be in [0, 1], got {value!r}")
    return value


def _check_int(value, name: str, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) or value < minimum:
        raise CausalPrefError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_positive(value, name: str) -> float:
    value = finite_number(value, name)
    if value <= 0:
        raise CausalPrefError(f"{name} must be > 0, got {value!r}")
    return value


# --------------------------------------------------------------------------- closed forms


def quadrant_24_mass(rho) -> float:
    """P(d1 * d2 < 0) under N(0, [[1, rho], [rho, 1]]): 1/2 - arcsin(rho)/pi."""
    return disagreement_mass(_check_rho(rho))


def _cov(rho: float) -> np.ndarray:
    return np.array([[1.0, rho], [rho, 1.0]])


def _disagreement_angle(rho: float, a: float, a_hat: float) -> float:
    """theta in [0, pi]: angle between L^T w and L^T v in the whitened plane."""
    sigma = _cov(rho)
    w, v = np.array([a, 1.0 - a]), np.array([a_hat, 1.0 - a_hat])
    cos = (w @ sigma @ v) / math.sqrt((w @ sigma @ w) * (v @ sigma @ v))
    return math.acos(min(1.0, max(-1.0, float(cos))))


def toy_accuracy(rho, a, a_hat) -> float:
    """P(sign(a_hat d1 + (1-a_hat) d2) == sign(a d1 + (1-a) d2)) = 1 - theta/pi."""
    rho, a, a_hat = _check_rho(rho), _check_unit(a, "a"), _check_unit(a_hat, "a_hat")
    return 1.0 - _disagreement_angle(rho, a, a_hat) / math.pi


def toy_accuracy_ood(rho, a, a_hat) -> float:
    """The same accuracy restricted to quadrants 2/4: 1 - (theta/pi) / (1/2 - arcsin(rho)/pi)."""
    rho, a, a_hat = _check_rho(rho), _check_unit(a, "a"), _check_unit(a_hat, "a_hat")
    error = _disagreement_angle(rho, a, a_hat) / math.pi
    return 1.0 - error / quadrant_24_mass(rho)


# --------------------------------------------------------------------------- sampling and refits


def _draw(rng: np.random.Generator, rho: float, shape: tuple[int, ...]) -> np.ndarray:
    chol = np.linalg.cholesky(_cov(rho))
    return rng.standard_normal(shape + (2,)) @ chol.T


def sample_toy_points(rho, n=200, seed=0) -> np.ndarray:
    """n points (d1, d2) ~ N(0, [[1, rho], [rho, 1]]) as an (n, 2) array; same seed, same points."""
    rho = _check_rho(rho)
    n = _check_int(n, "n", 1)
    seed = _check_int(seed, "seed", 0)
    return _draw(np.random.default_rng(seed), rho, (n,))


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Batched ridge logistic regression without intercept by Newton's method.

    x: (R, n, 2), y: (R, n) in {0, 1}. Minimises mean log-loss + l2/2 |w|^2 per batch row.
    """
    repeats, n, _ = x.shape
    w = np.zeros((repeats, 2))
    eye = np.eye(2)
    for _ in range(_NEWTON_ITERS):
        p = expit(np.einsum("rnk,rk->rn", x, w))
        grad = np.einsum("rnk,rn->rk", x, p - y) / n + l2 * w
        hess = np.einsum("rnk,rn,rnj->rkj", x, p * (1 - p), x) / n + l2 * eye
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return w


def refit_a_hat(rho, a, n, repeats, seed, temperature=0.5) -> np.ndarray:
    """Refit a_hat on `repeats` independent training sets of n Bradley-Terry-labelled pairs.

    Each set: d ~ N(0, Sigma), label 1 with probability sigmoid((a d1 + (1-a) d2) / temperature),
    then a two-weight logistic regression without intercept (Newton, ridge 1e-3 so that
    separable sets stay finite). Returns an array of length `repeats` with
    a_hat = w1 / (w1 + w2); a fit with w1 + w2 <= 0 (the model prefers the *worse* response)
    has no a_hat and is NaN: count them with np.isnan(result).sum(). a_hat is not clipped,
    so noisy fits can fall outside [0, 1].
    """
    rho, a = _check_rho(rho), _check_unit(a, "a")
    n = _check_int(n, "n", 2)
    repeats = _check_int(repeats, "repeats", 1)
    seed = _check_int(seed, "seed", 0)
    temperature = _check_positive(temperature, "temperature")
    rng = np.random.default_rng(seed)
    x = _draw(rng, rho, (repeats, n))
    margin = (a * x[..., 0] + (1 - a) * x[..., 1]) / temperature
    y = (rng.random((repeats, n)) < expit(margin)).astype(np.float64)
    w = _fit_logistic(x, y, _L2)
    total = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, w[:, 0] / total, np.nan)
