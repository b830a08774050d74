"""The analytic toy (the paper's appendix figure): why a high rho makes a_hat hard to learn.

d = (d1, d2) ~ N(0, [[1, rho], [rho, 1]]); people prefer a when a*d1 + (1 - a)*d2 > 0. A
fitted weight a_hat misranks only pairs in quadrants 2/4 (the factors disagree), whose mass
1/2 - arcsin(rho)/pi shrinks as rho grows: the overall accuracy barely moves while the
accuracy on the informative pairs falls, and a_hat refitted on a finite sample becomes
noisy. Every number here comes from `causalpref.eval.analytic` (closed forms and seeded refits).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from causalpref import paper
from causalpref.errors import CausalPrefError
from causalpref.eval.analytic import (
    finite_number,
    quadrant_24_mass,
    refit_a_hat,
    sample_toy_points,
    toy_accuracy,
    toy_accuracy_ood,
)
from causalpref.ui.format import percent
from causalpref.ui.plots import a_hat_spread_figure, toy_figure
from causalpref.ui.views.overlap import Metric, points_delta, without_deltas

__all__ = ["PAPER_Q24", "SPREAD_RHOS", "SpreadView", "ToyView", "spread_view", "toy_view"]

PAPER_Q24 = paper.QUADRANT_24  # the paper's quadrant-2/4 masses (appendix), at rho = 0, 0.3, 0.6, 0.9
SPREAD_RHOS = (0.0, 0.3, 0.6, 0.9)
CHANCE, CEILING = 0.5, 1.0
N_POINTS = 200


@dataclass
class ToyView:
    rho: float
    a: float
    a_hat: float
    accuracy: float  # analytic.toy_accuracy(rho, a, a_hat)
    accuracy_ood: float  # analytic.toy_accuracy_ood(rho, a, a_hat)
    q24: float  # analytic.quadrant_24_mass(rho)
    sampled_q24: float  # share of the drawn points in quadrants 2/4
    metrics: tuple[Metric, ...]
    table: pd.DataFrame  # closed forms per rho (0, 0.3, 0.6, 0.9 and the chosen one)
    reference_figure: go.Figure  # rho = 0
    figure: go.Figure  # the chosen rho
    figure_reading: str


@dataclass
class SpreadView:
    rhos: tuple[float, ...]
    table: pd.DataFrame  # per rho: std, mean, quartiles of a_hat, fits without a_hat
    figure: go.Figure
    reading: str


# --------------------------------------------------------------------------- validation


def _check_rho(rho) -> float:
    rho = finite_number(rho, "ρ")
    if not -1.0 < rho < 1.0:
        raise CausalPrefError(
            f"ρ must lie strictly between -1 and 1 (at ρ = ±1 the two factor differences "
            f"are the same up to sign, so the toy is degenerate), got {rho:g}"
        )
    return round(rho, 6)  # slider steps like 0.30000000000000004 read as 0.3


def _check_unit(value, name: str) -> float:
    value = finite_number(value, name)
    if not 0.0 <= value <= 1.0:
        raise CausalPrefError(f"{name} must be between 0 and 1, got {value:g}")
    return round(value, 6)


def _check_int(value, name: str, minimum: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) or value < minimum:
        raise CausalPrefError(f"{name} must be a whole number ≥ {minimum}, got {value!r}")
    return int(value)


def _paper_q24(rho: float) -> float | None:
    return PAPER_Q24.get(round(rho, 6))


# --------------------------------------------------------------------------- closed forms


def _closed_form_table(rhos, a: float, a_hat: float) -> pd.DataFrame:
    rows = []
    for rho in rhos:
        paper = _paper_q24(rho)
        rows.append(
            {
                "rho": rho,
                "quadrant-2/4 mass": round(quadrant_24_mass(rho), 4),
                "paper's mass": np.nan if paper is None else paper,
                "accuracy %": round(100 * toy_accuracy(rho, a, a_hat), 2),
                "quadrant-2/4 accuracy %": round(100 * toy_accuracy_ood(rho, a, a_hat), 2),
                "chance %": 100 * CHANCE,
                "a_hat = a ceiling %": 100 * CEILING,
            }
        )
    return pd.DataFrame(rows)


def toy_view(rho, a=0.25, a_hat=0.5, seed=0) -> ToyView:
    """The two panels (rho = 0 and rho), the closed-form numbers with baselines, and a table."""
    rho, a, a_hat = _check_rho(rho), _check_unit(a, "a"), _check_unit(a_hat, "â")
    seed = _check_int(seed, "the seed", 0)
    accuracy, ood, q24 = toy_accuracy(rho, a, a_hat), toy_accuracy_ood(rho, a, a_hat), quadrant_24_mass(rho)
    accuracy0, ood0 = toy_accuracy(0.0, a, a_hat), toy_accuracy_ood(0.0, a, a_hat)
    points = sample_toy_points(rho, N_POINTS, seed)
    sampled_q24 = float(np.mean(points[:, 0] * points[:, 1] < 0))
    paper = _paper_q24(rho)
    masses, rhos = (
        ", ".join(x[:-1]) + " and " + x[-1]
        for x in ([f"{m:.3f}" for m in PAPER_Q24.values()], [f"{r:g}" for r in PAPER_Q24])
    )
    paper_text = f"the paper reports {masses} at ρ = {rhos}" + (f" (here {paper:.3f})" if paper is not None else "")

    at_rho_zero = "vs ρ = 0"
    metrics = (
        Metric(
            "Accuracy of â (all pairs)",
            percent(accuracy),
            accuracy,
            "Pairs this â ranks like the truth: chance is 50%, the true weight 100%.",
            f"Closed form 1 − θ/π at ρ = {rho:g}, θ the angle between the two boundaries; "
            f"â = a = {a:g} would score 100%; the same â at ρ = 0 scores {percent(accuracy0)}.",
            points_delta(accuracy, accuracy0),
            "off",  # a higher score at high ρ is no good news: it hides the wrong â
            at_rho_zero,
        ),
        Metric(
            "Accuracy on quadrants 2/4",
            percent(ood),
            ood,
            "Where the factors disagree: every error of â lands here.",
            f"Only pairs where the factors disagree are misranked: chance 50%, ceiling 100% at â = a; "
            f"at ρ = 0: {percent(ood0)}.",
            points_delta(ood, ood0),
            "off",
            at_rho_zero,
        ),
        Metric(
            "Quadrant-2/4 mass",
            f"{q24:.3f}",
            q24,
            "Share of pairs that can show a model the right weight.",
            f"1/2 − arcsin(ρ)/π = {q24:.3f} of all pairs let a model tell the factors apart; "
            f"{paper_text}; 0.500 at ρ = 0.",
            f"{q24 - 0.5:+.3f}",
            "normal",
            at_rho_zero,
        ),
        Metric(
            "Sampled points in quadrants 2/4",
            percent(sampled_q24),
            sampled_q24,
            f"{round(sampled_q24 * N_POINTS)} of the {N_POINTS} points drawn; the closed form expects {percent(q24)}.",
            f"The {N_POINTS} points in the figure are drawn with seed {seed}; a new seed draws others.",
        ),
    )
    if rho == 0:
        metrics = without_deltas(metrics)
    table_rhos = sorted(set(SPREAD_RHOS) | {rho})
    table = _closed_form_table(table_rhos, a, a_hat)
    figure_reading = (
        f"Grey: ranked alike by the true a = {a:g} (black line) and â = {a_hat:g} (dashed magenta); red: misranked, "
        f"all in the shaded quadrants 2/4, which hold {q24:.1%} of pairs at ρ = {rho:g} and 50.0% at ρ = 0."
    )
    return ToyView(
        rho=rho,
        a=a,
        a_hat=a_hat,
        accuracy=accuracy,
        accuracy_ood=ood,
        q24=q24,
        sampled_q24=sampled_q24,
        metrics=metrics,
        table=table,
        reference_figure=toy_figure(0.0, a, a_hat, N_POINTS, seed),
        figure=toy_figure(rho, a, a_hat, N_POINTS, seed),
        figure_reading=figure_reading,
    )


# --------------------------------------------------------------------------- refits


def _spread_rhos(rho: float) -> tuple[float, ...]:
    return tuple(sorted(set(SPREAD_RHOS) | {rho}))


@lru_cache(maxsize=32)
def _spread(rho: float, a: float, n: int, repeats: int, seed: int) -> SpreadView:
    rhos = _spread_rhos(rho)
    # The figure refits â per rho (analytic.refit_a_hat, same seed); its box traces hold the
    # valid fits in rho order, so the table reads them from there instead of refitting twice.
    figure = a_hat_spread_figure(rhos, a, n, repeats, seed)
    boxes = [trace for trace in figure.data if trace.type == "box"]
    if len(boxes) != len(rhos):
        boxes = None
    rows = []
    for i, r in enumerate(rhos):
        if boxes is None:
            fits = refit_a_hat(r, a, n, repeats, seed)
            valid = fits[~np.isnan(fits)]
        else:
            valid = np.asarray(boxes[i].y, dtype=np.float64)
        q1, median, q3 = np.quantile(valid, [0.25, 0.5, 0.75]) if valid.size else (np.nan,) * 3
        rows.append(
            {
                "rho": r,
                "std of a_hat": float(valid.std(ddof=1)) if valid.size > 1 else np.nan,
                "mean a_hat": float(valid.mean()) if valid.size else np.nan,
                "median a_hat": float(median),
                "q25": float(q1),
                "q75": float(q3),
                "fits without a_hat": int(repeats - valid.size),
                "quadrant-2/4 pairs expected": round(n * quadrant_24_mass(r), 1),
                "true a": a,
                "n pairs": n,
                "repeats": repeats,
            }
        )
    table = pd.DataFrame(rows)
    std = table.set_index("rho")["std of a_hat"]
    s0, s9 = std[0.0], std[0.9]
    ratio = f" (×{s9 / s0:.1f})" if s0 > 0 else ""
    reading = (
        f"The spread (sd) of â grows from {s0:.3f} at ρ = 0 to {s9:.3f} at ρ = 0.9{ratio}: of {n} pairs only "
        f"{n * quadrant_24_mass(0.9):.0f} disagree at ρ = 0.9, against {n * quadrant_24_mass(0.0):.0f} at ρ = 0"
    )
    if rho not in SPREAD_RHOS:
        reading += f"; at your ρ = {rho:g} it is {std[rho]:.3f}"
    reading += "."
    bad = int(table["fits without a_hat"].sum())
    if bad:
        reading += f" {bad} fits ranked the pairs backwards (w1 + w2 ≤ 0) and are left out."
    return SpreadView(rhos=rhos, table=table, figure=figure, reading=reading)


def spread_view(rho, a=0.25, n=100, repeats=200, seed=0) -> SpreadView:
    """â refitted `repeats` times on n Bradley-Terry pairs at rho in {0, 0.3, 0.6, 0.9} and rho.

    Cached: moving the â slider or returning to an earlier setting costs nothing. The figure
    and table returned are copies, so callers may change them.
    """
    rho, a = _check_rho(rho), _check_unit(a, "a")
    n = _check_int(n, "N (pairs per refit)", 2)
    repeats = _check_int(repeats, "the number of repeats", 2)
    seed = _check_int(seed, "the seed", 0)
    view = _spread(rho, a, n, repeats, seed)
    return replace(view, table=view.table.copy(), figure=go.Figure(view.figure))
