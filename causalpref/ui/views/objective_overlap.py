"""Prompt–objective overlap of an Experiment-2 training set, for the User-objectives page.

Draws the training split the sweep trains on at a consistency rate rho (seed 0, the same
draw as `run_exp2`'s first seed), fits the cross-fitted propensity P(c = 1 | prompt
embedding) and says how much the prompt gives away the objective: the share of pairs
outside [eps, 1 - eps], the c-AUC, the inverse-propensity weights' effective sample size
(what the "reweighted" model trains with), a histogram per objective and, when overlap is poor, a
plain warning of what that means for the user (the engine's own warning advises on library
calls a reader of the page cannot make). Every number comes with its rho = 0.5 value (prompts
assigned at random) from the same world.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from causalpref import validate
from causalpref.errors import CausalPrefError
from causalpref.eval.propensity import (
    OBJECTIVE_LABELS,
    WARN_OUTSIDE_SHARE,
    PropensityOverlap,
    inverse_propensity_weights,
    propensity_overlap,
)
from causalpref.run.propensity import training_propensities
from causalpref.run.specs import Exp2Spec
from causalpref.ui.format import percent
from causalpref.ui.plots import PALETTE

__all__ = ["EPSILON", "ObjectiveOverlapView", "objective_overlap_view"]

EPSILON = 0.1  # the overlap band [eps, 1 - eps] (DoWhy's rule of thumb)
NO_CONFOUNDING = 0.5  # the baseline: prompts assigned to objectives at random


@dataclass(frozen=True)
class _Draw:
    overlap: PropensityOverlap
    ess_share: float | None  # None when some weight is infinite (no overlap at all)
    propensity: np.ndarray
    objective: np.ndarray


@dataclass
class ObjectiveOverlapView:
    rho: float
    overlap: PropensityOverlap
    baseline: PropensityOverlap  # the same world at rho = 0.5
    ess_share: float | None
    baseline_ess_share: float | None
    figure: go.Figure
    readings: dict[str, str]  # one plain reading per number: outside, auc, ess
    warning: str | None


@lru_cache(maxsize=32)
def _draw(world, sizes, rho: float, epsilon: float) -> _Draw:
    """Cached by world and sizes only: every architecture's sweep trains on this same draw (its
    propensities are computed with the sweep and kept in the result cache)."""
    frame = training_propensities(world, sizes, rho)
    p, objective = frame["propensity"].to_numpy(), frame["objective"].to_numpy()
    try:
        weights, ess = inverse_propensity_weights(p, objective)
        ess_share = ess / weights.size
    except CausalPrefError:
        ess_share = None
    return _Draw(propensity_overlap(p, objective, epsilon), ess_share, p, objective)


def _figure(draw: _Draw, rho: float, epsilon: float) -> go.Figure:
    fig = go.Figure()
    for value, colour in ((0, PALETTE["class 0"]), (1, PALETTE["class 1"])):  # not the model colours
        fig.add_trace(
            go.Histogram(
                x=draw.propensity[draw.objective == value],
                name=OBJECTIVE_LABELS[value],
                xbins=dict(start=0, end=1, size=0.025),
                marker_color=colour,
                opacity=0.6,
            )
        )
    for x in (epsilon, 1 - epsilon):
        fig.add_vline(x=x, line=dict(color=PALETTE["reference"], dash="dot"))
    fig.add_vrect(x0=0, x1=epsilon, fillcolor=PALETTE["band"], opacity=0.12, line_width=0)
    fig.add_vrect(x0=1 - epsilon, x1=1, fillcolor=PALETTE["band"], opacity=0.12, line_width=0)
    fig.update_layout(
        barmode="overlay",
        template="plotly_white",
        title=f"P(c = harmlessness | prompt and response) on the training pairs at ρ = {rho:g}",
        xaxis_title="cross-fitted propensity",
        yaxis_title="training pairs",
    )
    return fig


def _pct(x: float | None) -> str:
    return percent(x, missing="undefined")


def objective_overlap_view(spec: Exp2Spec, rho: float, epsilon: float = EPSILON) -> ObjectiveOverlapView:
    """How well the prompt predicts the objective in the training set `spec` draws at `rho`."""
    rho = validate.consistency_rate(rho, "ρ", low=0.5)
    rho = float(rho)
    draw = _draw(spec.world, spec.sizes, rho, float(epsilon))
    base = _draw(spec.world, spec.sizes, NO_CONFOUNDING, float(epsilon))
    o, b = draw.overlap, base.overlap
    readings = {
        "outside": (
            f"Pairs whose prompt all but gives away the objective; {_pct(b.outside_share)} with random "
            f"prompts (ρ = 0.5). Above {WARN_OUTSIDE_SHARE:.0%} the page warns."
        ),
        "auc": f"How well the text predicts the objective: 0.5 not at all, 1 perfectly ({b.auc:.2f} at ρ = 0.5).",
        "ess": _ess_reading(draw.ess_share, o.outside_share, base.ess_share),
    }
    return ObjectiveOverlapView(
        rho=rho,
        overlap=o,
        baseline=b,
        ess_share=draw.ess_share,
        baseline_ess_share=base.ess_share,
        figure=_figure(draw, rho, epsilon),
        readings=readings,
        warning=_warning(o),
    )


def _ess_reading(ess: float | None, outside: float, baseline: float | None) -> str:
    """What the reweighted model's effective sample share means for the user."""
    if ess is None:
        return (
            "Undefined: some pairs' objective never occurs with their kind of prompt, so no weight can make up for it."
        )
    if outside > WARN_OUTSIDE_SHARE and ess > 0.5:
        # at rho = 1 the weights are flat again: the rare (prompt, objective) pairs are missing
        return "High only because the rare prompt–objective pairs are missing: the remedy has nothing to up-weight."
    return (
        f"What the reweighted model keeps of the training set ({_pct(baseline)} at ρ = 0.5); "
        "below 10% it rests on a few pairs."
    )


def _warning(o: PropensityOverlap) -> str | None:
    """The page's own warning: what poor overlap means for the user, no engine advice."""
    if o.warning is None:
        return None
    return (
        f"Poor overlap between prompt and objective: for {_pct(o.outside_share)} of the training pairs the "
        f"prompt all but decides which objective the user judged by (c-AUC {o.auc:.2f}). No model can then "
        "tell the objective's effect from the prompt's, and reweighting would rest on a few extreme weights."
    )
