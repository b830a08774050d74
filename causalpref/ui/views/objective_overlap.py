"""Prompt–objective overlap of an Experiment-2 training set, for the User-objectives page.

Draws the training split the sweep trains on at a consistency rate rho (seed 0, the same
draw as `run_exp2`'s first seed), fits the cross-fitted propensity P(c = 1 | prompt
embedding) and says how much the prompt gives away the objective: the share of pairs
outside [eps, 1 - eps], the c-AUC, the inverse-propensity weights' effective sample size
(what the "reweighted" model trains with), a histogram per objective and the loud warning
of `propensity.propensity_overlap`. Every number comes with its rho = 0.5 value (prompts
assigned at random) from the same world.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import plotly.graph_objects as go

from causalpref import validate
from causalpref.draw.consistency import draw_objective_splits
from causalpref.draw.splits import cell_seed
from causalpref.errors import CausalPrefError
from causalpref.eval.propensity import (
    OBJECTIVE_LABELS,
    PropensityOverlap,
    cross_fitted_propensity,
    inverse_propensity_weights,
    propensity_overlap,
)
from causalpref.run.specs import Exp2Spec
from causalpref.ui.format import percent

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
    """Cached by world and sizes only: every architecture's sweep trains on this same draw."""
    pool = world.pool()
    if pool.objective is None or pool.prompt_type is None:
        raise CausalPrefError(
            f"{world.name} has no objective and prompt type per pair: there is no prompt–objective overlap to measure"
        )
    splits = draw_objective_splits(pool.prompt_type, pool.objective, sizes.as_dict(), rho, cell_seed(0, rho))
    train = pool.pairs(splits.indices["train"], "train")
    p = cross_fitted_propensity(train.emb_a, train.objective, seed=0)
    try:
        weights, ess = inverse_propensity_weights(p, train.objective)
        ess_share = ess / weights.size
    except CausalPrefError:
        ess_share = None
    return _Draw(propensity_overlap(p, train.objective, epsilon), ess_share, p, np.asarray(train.objective))


def _figure(draw: _Draw, rho: float, epsilon: float) -> go.Figure:
    fig = go.Figure()
    for value, colour in ((0, "#1f77b4"), (1, "#d62728")):
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
        fig.add_vline(x=x, line=dict(color="black", dash="dot"))
    fig.add_vrect(x0=0, x1=epsilon, fillcolor="grey", opacity=0.12, line_width=0)
    fig.add_vrect(x0=1 - epsilon, x1=1, fillcolor="grey", opacity=0.12, line_width=0)
    fig.update_layout(
        barmode="overlay",
        template="plotly_white",
        title=f"P(c = harmlessness | prompt) on the training pairs at ρ = {rho:g}",
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
            f"Pairs whose prompt all but decides the objective (propensity outside [{epsilon:g}, "
            f"{1 - epsilon:g}]); with prompts assigned at random (ρ = 0.5): {_pct(b.outside_share)}. "
            f"Above 10% the page warns: the objective's effect cannot be told apart from the prompt's."
        ),
        "auc": (
            f"How well the prompt embedding predicts the objective c (0.5 = not at all, 1 = perfectly); "
            f"at ρ = 0.5: {b.auc:.3f}."
        ),
        "ess": (
            f"Inverse-propensity weights 1/P(c | prompt) — what the 'reweighted' model trains with — keep "
            f"this share of the training set's effective size; at ρ = 0.5: {_pct(base.ess_share)}. At ρ = 1 "
            f"it rises again: the missing (prompt, objective) combinations have no pair to up-weight."
        ),
    }
    return ObjectiveOverlapView(
        rho=rho,
        overlap=o,
        baseline=b,
        ess_share=draw.ess_share,
        baseline_ess_share=base.ess_share,
        figure=_figure(draw, rho, epsilon),
        readings=readings,
        warning=o.warning,
    )
