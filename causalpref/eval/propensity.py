"""Overlap between prompt and objective: how well the prompt embedding predicts c.

Experiment 2 (Kobalczyk & van der Schaar, ICML 2025): the objective c a user labels under
(0 helpfulness, 1 harmlessness) is confounded with the prompt type t, which the prompt
embedding x shows. Overlap here means 0 < P(c | x) < 1 for every prompt: where the
embedding predicts the objective (almost) perfectly, some (x, c) combinations are never
seen, and no model can learn the objective's effect apart from the prompt's.

This module estimates the propensity P(c = 1 | x) by L2-regularised logistic regression
(Newton / IRLS, numpy only), cross-fitted so no row is scored by a model that saw it, and
summarises overlap: shares of extreme propensities, quantiles per objective, the c-AUC and
the inverse-propensity weights' effective sample size. Nothing is clipped silently:
`inverse_propensity_weights` raises on infinite weights, and `clip_weights` needs an
explicit bound and says how many weights it changed.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from causalpref.errors import CausalPrefError
from causalpref.eval.diagnostics import effective_sample_size
from causalpref.validate import finite_matrix, vector

__all__ = [
    "AUTO_L2",
    "PropensityOverlap",
    "QUANTILES",
    "WARN_OUTSIDE_SHARE",
    "clip_weights",
    "cross_fitted_propensity",
    "fit_logistic",
    "inverse_propensity_weights",
    "objective_overlap_report",
    "predict_logistic",
    "propensity_auc",
    "propensity_overlap",
]

QUANTILES = (0.05, 0.25, 0.50, 0.75, 0.95)
WARN_OUTSIDE_SHARE = 0.10  # warn when more than 10 % of rows have p outside [eps, 1 - eps]
OBJECTIVE_LABELS = {0: "helpfulness (c=0)", 1: "harmlessness (c=1)"}


# --------------------------------------------------------------------------- validation


def _as_features(x, name: str = "x") -> np.ndarray:
    """Rows of features; a 1-D array is one feature per row."""
    array = np.asarray(x)
    if array.ndim == 1:
        array = array[:, None]
    return finite_matrix(array, name, "(rows, features)")


def _as_objective(c, n: int | None = None, name: str = "c") -> np.ndarray:
    array = vector(c, name)
    if n is not None and array.size != n:
        raise CausalPrefError(f"{name} must have one entry per row ({n}), got {array.size}")
    bad = ~np.isin(array, (0.0, 1.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CausalPrefError(f"{name} at index {i} is {array[i]!r}, expected 0 or 1")
    present = sorted(set(np.unique(array).astype(int).tolist()))
    if present != [0, 1]:
        raise CausalPrefError(
            f"{name} holds one objective only ({present}); propensities need rows under both objectives"
        )
    return array.astype(np.int64)


def _as_propensity(p, n: int | None = None, name: str = "p") -> np.ndarray:
    array = vector(p, name)
    if array.size == 0:
        raise CausalPrefError(f"{name} is empty: expected one propensity per row")
    if n is not None and array.size != n:
        raise CausalPrefError(f"{name} must have one entry per row ({n}), got {array.size}")
    bad = ~np.isfinite(array) | (array < 0) | (array > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise CausalPrefError(f"{name} at index {i} is {array[i]!r}, expected a probability in [0, 1]")
    return array


def _check_positive_number(value, name: str, integer: bool = False, minimum=None):
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind) or not np.isfinite(value):
        raise CausalPrefError(f"{name} must be {'an integer' if integer else 'a finite number'}, got {value!r}")
    if minimum is not None and value < minimum:
        raise CausalPrefError(f"{name} must be >= {minimum}, got {value!r}")


def _check_epsilon(epsilon) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not (0.0 < epsilon < 0.5):
        raise CausalPrefError(f"epsilon must be a number in (0, 0.5), got {epsilon!r}")
    return float(epsilon)


# --------------------------------------------------------------------------- logistic regression


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _log1pexp(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def fit_logistic(x, y, l2: float = 1e-2, iterations: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (IRLS) on standardised features.

    Minimises mean log-loss + l2/2 * ||w_std||^2 over the standardised features (the
    intercept is not penalised), so the fit stays finite on separable data. Features are
    standardised by their mean and standard deviation (a constant feature gets scale 1,
    never a division by zero); the returned (w, b) already fold the standardisation back in,
    so P(y = 1 | x) = sigmoid(x @ w + b) on the raw features (see `predict_logistic`).
    """
    x = _as_features(x)
    y = _as_objective(y, x.shape[0], name="y").astype(np.float64)
    _check_positive_number(l2, "l2")
    if l2 <= 0:
        raise CausalPrefError(f"l2 must be > 0 (it keeps the fit finite on separable data), got {l2!r}")
    _check_positive_number(iterations, "iterations", integer=True, minimum=1)

    n, d = x.shape
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 1.0)
    z = np.column_stack([(x - mean) / scale, np.ones(n)])
    penalty = np.full(d + 1, float(l2))
    penalty[-1] = 0.0

    def objective(theta):
        eta = z @ theta
        return float(np.mean(_log1pexp(eta) - y * eta) + 0.5 * np.sum(penalty * theta**2))

    # start from the base rate so the unpenalised intercept begins at its own optimum
    base = y.mean()
    theta = np.zeros(d + 1)
    theta[-1] = np.log(base / (1.0 - base))
    loss = objective(theta)
    for _ in range(int(iterations)):
        mu = _sigmoid(z @ theta)
        grad = z.T @ (mu - y) / n + penalty * theta
        weight = mu * (1.0 - mu)
        hess = (z * weight[:, None]).T @ z / n + np.diag(penalty)
        hess[np.diag_indices_from(hess)] += 1e-10  # keep the intercept block invertible
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while True:  # backtracking: Newton steps never raise the loss
            candidate = theta - t * step
            new_loss = objective(candidate)
            if new_loss <= loss + 1e-4 * t * float(grad @ -step) or t < 1e-10:
                break
            t *= 0.5
        theta, loss = candidate, new_loss
        if np.max(np.abs(t * step)) < 1e-10:
            break
    w = theta[:-1] / scale
    b = float(theta[-1] - np.sum(theta[:-1] * mean / scale))
    return w, b


def predict_logistic(x, w, b) -> np.ndarray:
    """P(y = 1 | x) = sigmoid(x @ w + b) for the coefficients `fit_logistic` returns."""
    x = _as_features(x)
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    if w.size != x.shape[1]:
        raise CausalPrefError(f"w has {w.size} coefficients but x has {x.shape[1]} features")
    return _sigmoid(x @ w + float(b))


# --------------------------------------------------------------------------- cross-fitting


def fold_assignment(c, folds: int = 5, seed=0) -> np.ndarray:
    """Seeded fold index per row, stratified by the objective c (each fold gets its share of both)."""
    c = np.asarray(c)
    rng = np.random.default_rng(seed)
    fold = np.empty(c.size, dtype=np.int64)
    for value in (0, 1):
        rows = np.flatnonzero(c == value)
        rows = rows[rng.permutation(rows.size)]
        fold[rows] = (np.arange(rows.size) + int(rng.integers(folds))) % folds
    return fold


AUTO_L2 = (1e-2, 1e-1, 1.0, 10.0)  # penalty grid on standardised features for l2="auto"


def _out_of_fold(x: np.ndarray, c: np.ndarray, fold: np.ndarray, folds: int, l2: float) -> np.ndarray:
    p = np.empty(x.shape[0])
    for k in range(folds):
        test = fold == k
        if not test.any():
            continue
        w, b = fit_logistic(x[~test], c[~test], l2=l2)
        p[test] = predict_logistic(x[test], w, b)
    return p


def _log_loss(p: np.ndarray, c: np.ndarray) -> float:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return float(-np.mean(np.where(c == 1, np.log(p), np.log1p(-p))))


def cross_fitted_propensity(x, c, folds: int = 5, seed=0, l2: float | str = "auto") -> np.ndarray:
    """Out-of-fold P(c = 1 | x): each row is scored by a model fitted on the other folds only.

    l2="auto" picks the penalty from AUTO_L2 with the lowest out-of-fold log-loss. Why: with
    many features and few rows (384-d sentence embeddings, ~1,000 pairs) a weak penalty
    overfits, and the overfitted propensities are extreme even where the prompt says nothing
    about c — a false "poor overlap" alarm (18 % of pairs outside [0.1, 0.9] at c-AUC 0.50 on
    relabelled HH-RLHF at rho = 0.5 with l2 = 0.01; 0 % with the chosen penalty)."""
    x = _as_features(x)
    c = _as_objective(c, x.shape[0])
    _check_positive_number(folds, "folds", integer=True, minimum=2)
    for value in (0, 1):
        count = int(np.sum(c == value))
        if count < 2:
            raise CausalPrefError(
                f"c has {count} row(s) with objective {value}; cross-fitting needs at least 2 under each objective"
            )
    if folds > x.shape[0]:
        raise CausalPrefError(f"folds ({folds}) exceeds the number of rows ({x.shape[0]})")
    fold = fold_assignment(c, folds, seed)
    if isinstance(l2, str):
        if l2 != "auto":
            raise CausalPrefError(f"l2 must be a positive number or 'auto', got {l2!r}")
        fits = [_out_of_fold(x, c, fold, folds, value) for value in AUTO_L2]
        return min(fits, key=lambda p: _log_loss(p, c))
    return _out_of_fold(x, c, fold, folds, l2)


# --------------------------------------------------------------------------- overlap summary


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    boundaries = np.flatnonzero(np.diff(sorted_values)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [values.size]])
    ranks_sorted = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # 1-based average ranks
    ranks = np.empty(values.size)
    ranks[order] = ranks_sorted
    return ranks


def propensity_auc(p, c) -> float:
    """AUC of p for c (Mann-Whitney, ties count half): 0.5 = the prompt says nothing about c."""
    c = _as_objective(c)
    p = _as_propensity(p, c.size)
    ranks = _average_ranks(p)
    n1, n0 = int(np.sum(c == 1)), int(np.sum(c == 0))
    return float((ranks[c == 1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


@dataclass(frozen=True)
class PropensityOverlap:
    epsilon: float
    n: int
    outside_share: float  # share of rows with p outside [eps, 1 - eps]
    outside_share_by_objective: dict[int, float]
    quantiles_by_objective: dict[int, dict[float, float]]  # objective -> {0.05: ..., ..., 0.95: ...}
    auc: float  # how well p (the prompt) predicts c; 0.5 = not at all
    warning: str | None


def propensity_overlap(p, c, epsilon: float = 0.1) -> PropensityOverlap:
    """How many rows lack overlap between objectives, with a loud warning when too many do."""
    epsilon = _check_epsilon(epsilon)
    c = _as_objective(c)
    p = _as_propensity(p, c.size)
    outside = (p < epsilon) | (p > 1.0 - epsilon)
    share = float(outside.mean())
    by_objective = {v: float(outside[c == v].mean()) for v in (0, 1)}
    quantiles = {v: {q: float(x) for q, x in zip(QUANTILES, np.quantile(p[c == v], QUANTILES))} for v in (0, 1)}
    auc = propensity_auc(p, c)
    warning = None
    if share > WARN_OUTSIDE_SHARE:
        warning = (
            f"WARNING: POOR OVERLAP BETWEEN PROMPT AND OBJECTIVE. {100 * share:.1f}% of pairs "
            f"({int(outside.sum())} of {p.size}) have a propensity P(c=1 | prompt) outside "
            f"[{epsilon:g}, {1 - epsilon:g}] (helpfulness {100 * by_objective[0]:.1f}%, harmlessness "
            f"{100 * by_objective[1]:.1f}%; c-AUC {auc:.3f}). For these pairs the prompt all but decides "
            f"which objective the user labelled under, so the objective's effect on the preference cannot "
            f"be separated from the prompt's: a model trained on them may learn 'prompt type' where it "
            f"should learn 'objective'. Inverse-propensity weights there would be extreme (up to about "
            f"1/{epsilon:g} = {1 / epsilon:g} and beyond), and this tool does NOT clip them silently; clip "
            f"only with an explicit bound (clip_weights) and report it."
        )
    return PropensityOverlap(
        epsilon=epsilon,
        n=int(p.size),
        outside_share=share,
        outside_share_by_objective=by_objective,
        quantiles_by_objective=quantiles,
        auc=auc,
        warning=warning,
    )


# --------------------------------------------------------------------------- weights


def inverse_propensity_weights(p, c) -> tuple[np.ndarray, float]:
    """1 / P(c_i | x_i) per row, normalised to mean 1, and the effective sample size.

    ESS = (sum w)^2 / sum w^2 (n for equal weights). A row whose own objective has
    propensity 0 would get an infinite weight: that raises, it is never clipped.
    """
    c = _as_objective(c)
    p = _as_propensity(p, c.size)
    own = np.where(c == 1, p, 1.0 - p)
    with np.errstate(divide="ignore", over="ignore"):
        raw = 1.0 / own
    infinite = ~np.isfinite(raw)
    if infinite.any():
        raise CausalPrefError(
            f"{int(infinite.sum())} row(s) have propensity 0 (or numerically 0) for their own objective, "
            "so their inverse-propensity weight is infinite: no overlap there. Weights are not clipped "
            "silently; drop those rows or clip with an explicit bound (clip_weights)"
        )
    weights = raw / raw.mean()
    if not np.all(np.isfinite(weights)):
        raise CausalPrefError("inverse-propensity weights overflow when normalised: propensities are too extreme")
    ess = effective_sample_size(weights)
    return weights, ess


def clip_weights(weights, max_weight: float) -> tuple[np.ndarray, int]:
    """Clip weights at an explicit bound; returns the clipped weights and how many were changed.

    The result is not renormalised, so its mean shows how much mass the clipping removed.
    """
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise CausalPrefError(f"weights must be a 1-D array of numbers: {err}") from None
    if w.ndim != 1 or w.size == 0:
        raise CausalPrefError(f"weights must be a non-empty 1-D array, got shape {w.shape}")
    if np.isnan(w).any() or (w < 0).any():
        raise CausalPrefError("weights must be non-negative numbers (no NaN)")
    if (
        isinstance(max_weight, bool)
        or not isinstance(max_weight, numbers.Real)
        or not (np.isfinite(max_weight) and max_weight > 0)
    ):
        raise CausalPrefError(f"max_weight must be a finite number > 0, got {max_weight!r}")
    changed = w > max_weight
    return np.minimum(w, float(max_weight)), int(changed.sum())


# --------------------------------------------------------------------------- report


def objective_overlap_report(emb, c, epsilon: float = 0.1, seed=0) -> str:
    """Plain multi-line report of prompt/objective overlap (for `python -m causalpref diagnose`)."""
    epsilon = _check_epsilon(epsilon)
    x = _as_features(emb, name="emb")
    c = _as_objective(c, x.shape[0])
    p = cross_fitted_propensity(x, c, seed=seed)
    overlap = propensity_overlap(p, c, epsilon)
    lines = [
        f"Objective overlap: P(c=1 | embedding of the prompt with response a: what the models read), "
        f"5-fold cross-fitted logistic regression, "
        f"{overlap.n} pairs, {x.shape[1]} features",
        "  propensity quantiles  " + "  ".join(f"{100 * q:>5.0f}%" for q in QUANTILES),
    ]
    for v in (0, 1):
        qs = overlap.quantiles_by_objective[v]
        lines.append(
            f"  {OBJECTIVE_LABELS[v]:<20}"
            + "  ".join(f"{qs[q]:6.3f}" for q in QUANTILES)
            + f"   ({int(np.sum(c == v))} pairs)"
        )
    lines.append(
        f"  outside [{epsilon:g}, {1 - epsilon:g}]: {100 * overlap.outside_share:.1f}% of pairs "
        f"(helpfulness {100 * overlap.outside_share_by_objective[0]:.1f}%, "
        f"harmlessness {100 * overlap.outside_share_by_objective[1]:.1f}%)"
    )
    lines.append(f"  c-AUC (how well the prompt predicts the objective; 0.5 = not at all): {overlap.auc:.3f}")
    try:
        _, ess = inverse_propensity_weights(p, c)
        lines.append(
            f"  IPW effective sample size: {ess:.0f} of {overlap.n} ({100 * ess / overlap.n:.1f}%), weights not clipped"
        )
        if overlap.warning:
            lines.append(
                "  note: with overlap this poor a high ESS does not mean the weights are fine: the "
                "(prompt, objective) combinations that are missing have no pairs to up-weight"
            )
    except CausalPrefError as err:
        lines.append(f"  IPW effective sample size: undefined: {err}")
    lines.append(
        overlap.warning
        if overlap.warning
        else f"  overlap OK: at most {100 * WARN_OUTSIDE_SHARE:.0f}% of pairs outside [{epsilon:g}, {1 - epsilon:g}]"
    )
    return "\n".join(lines)
