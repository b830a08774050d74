"""Figures of the Interventions page: accuracy against the labelling budget per strategy, and
where the extra labels went (the training set's positivity picture before and after).

Every builder takes tidy frames (causalpref.interventions.summary.curves, the sweep's
`added` and `base` detail tables) and returns a plotly Figure; no streamlit here. Strategies
take their colour from STRATEGY_COLOURS, which keeps clear of the models' colours and of
plots.PALETTE, so that a strategy's line never reads as a model or a reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from causalpref.errors import CausalPrefError
from causalpref.eval.positivity import is_discrete, quadrant_masses
from causalpref.ui.plots import PALETTE, plane_layout

__all__ = [
    "STRATEGY_COLOURS",
    "REFERENCE_DASHES",
    "budget_curves_figure",
    "cells_figure",
    "plane_figure",
    "strategy_colour",
]

# one colour per strategy, in the registry's order over both experiments (a strategy keeps its
# colour across them); none is a model's colour or a PALETTE entry
STRATEGY_COLOURS = ("#8c564b", "#2e4053", "#17a589", "#d35400", "#7d3c98", "#a93226", "#1abc9c", "#5d6d7e")
REFERENCE_DASHES = ("dot", "dashdot", "longdash", "longdashdot")
BASE_POINTS = "#b0b0b0"  # the base training set's pairs: light grey under the extra labels
CURVE_NEEDS = ("strategy", "budget", "mean", "sd", "n")


def strategy_colour(index: int) -> str:
    return STRATEGY_COLOURS[index % len(STRATEGY_COLOURS)]


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def budget_curves_figure(
    curves: pd.DataFrame,
    strategies: dict[str, tuple[str, str]],
    references: list[tuple[str, float, float]],
    split_label: str,
    budget: int | None = None,
    detail: str = "",
) -> go.Figure:
    """Mean accuracy [%] against the budget, one line per strategy with a band of ± one sd over
    seeds; each reference (label, mean %, sd %) a horizontal line named in the legend; chance at 50%; the
    chosen budget marked. `strategies`: name -> (label, colour), in drawing order; `curves`
    holds accuracy in percent (the views convert)."""
    missing = [c for c in CURVE_NEEDS if c not in curves.columns]
    if missing:
        raise CausalPrefError(f"budget_curves_figure: curves lack the column(s) {missing}")
    fig = go.Figure()
    for name, (label, colour) in strategies.items():
        rows = curves[curves["strategy"] == name].sort_values("budget")
        if rows.empty:
            continue
        x = rows["budget"].to_numpy(dtype=float)
        mean = rows["mean"].to_numpy(dtype=float)
        sd = np.nan_to_num(rows["sd"].to_numpy(dtype=float))
        # mode="lines": plotly would put markers on the band's corners (a trace of < 20 points)
        fig.add_trace(
            go.Scatter(
                x=np.r_[x, x[::-1]],
                y=np.r_[mean + sd, (mean - sd)[::-1]],
                mode="lines",
                fill="toself",
                fillcolor=_rgba(colour, 0.15),
                line=dict(width=0),
                hoverinfo="skip",
                name=f"{label}: ± 1 sd over seeds",
                showlegend=False,
                legendgroup=name,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=mean,
                mode="lines+markers",
                name=label,
                legendgroup=name,
                line=dict(color=colour, width=2.5),
                customdata=np.c_[sd, rows["n"].to_numpy()],
                hovertemplate="%{x} labels<br>%{y:.1f}% ± %{customdata[0]:.1f} over %{customdata[1]} seeds"
                "<extra>" + label + "</extra>",
            )
        )
    budgets = curves["budget"].astype(float)
    span = [float(budgets.min()), float(budgets.max())] if len(budgets) else [0.0, 1.0]
    for i, (label, value, sd) in enumerate(references):
        if not np.isfinite(value):
            continue
        spread = f" ± {sd:.1f}" if np.isfinite(sd) else ""
        # a line across the budgets, labelled in the legend: annotations on the plot collide
        # with each other and with the curves when the references lie close together
        fig.add_trace(
            go.Scatter(
                x=span,
                y=[value, value],
                mode="lines",
                name=f"{label}: {value:.1f}%{spread}",
                line=dict(color=PALETTE["reference"], dash=REFERENCE_DASHES[i % len(REFERENCE_DASHES)], width=1.5),
                hovertemplate=f"{label}: {value:.1f}%{spread}<extra></extra>",
            )
        )
    fig.add_hline(
        y=50,
        line=dict(color=PALETTE["chance"], dash="dot"),
        annotation_text="chance 50%",
        annotation_position="bottom right",
    )
    if budget is not None:
        fig.add_vline(
            x=float(budget),
            line=dict(color=PALETTE["reference"], width=1),
            annotation_text=f"{budget} labels",
            annotation_position="bottom right",
        )
    fig.update_layout(
        title=f"{split_label} against the extra labels<br><sup>{detail}; bands: ± 1 sd over seeds</sup>",
        template="plotly_white",
        legend=dict(orientation="h", y=-0.2, yanchor="top"),
    )
    fig.update_xaxes(title="extra labelled pairs (budget)")
    fig.update_yaxes(title="Accuracy [%]")
    return fig


def _jitter(values: np.ndarray, rng, on: bool) -> np.ndarray:
    return values + rng.uniform(-0.2, 0.2, values.size) if on else values


def plane_figure(
    base: pd.DataFrame,
    added: pd.DataFrame,
    label: str,
    colour: str,
    names=("truthfulness", "instruction-following"),
    max_points: int = 3000,
    seed: int = 0,
) -> go.Figure:
    """Experiment 1: the base training set's pairs in the (d1, d2) plane (grey) and the extra
    labels of one strategy on top, quadrants 2/4 (the factors disagree) shaded; the title says
    the share of training pairs in quadrants 2/4 before and after. Likert differences are
    jittered by up to ± 0.2 so that stacked pairs show; each set is subsampled to `max_points`."""
    for what, frame in (("base", base), ("added", added)):
        missing = [c for c in ("d1", "d2") if c not in frame.columns]
        if missing:
            raise CausalPrefError(f"plane_figure: the {what} pairs lack the column(s) {missing}")
    rng = np.random.default_rng(seed)
    b1, b2 = base["d1"].to_numpy(float), base["d2"].to_numpy(float)
    a1, a2 = added["d1"].to_numpy(float), added["d2"].to_numpy(float)
    discrete = is_discrete(b1, b2) and (a1.size == 0 or is_discrete(a1, a2))

    def take(size):
        return np.sort(rng.choice(size, max_points, replace=False)) if size > max_points else np.arange(size)

    fig = go.Figure()
    keep = take(b1.size)
    fig.add_trace(
        go.Scattergl(
            x=_jitter(b1[keep], rng, discrete),
            y=_jitter(b2[keep], rng, discrete),
            mode="markers",
            name=f"base training set ({b1.size:,} pairs)",
            marker=dict(color=BASE_POINTS, size=4, opacity=0.5),
        )
    )
    keep = take(a1.size)
    fig.add_trace(
        go.Scattergl(
            x=_jitter(a1[keep], rng, discrete),
            y=_jitter(a2[keep], rng, discrete),
            mode="markers",
            name=f"{label}: {a1.size:,} extra labels",
            marker=dict(color=colour, size=6, opacity=0.85, symbol="diamond"),
        )
    )
    before = quadrant_masses(b1, b2)["q24"] if b1.size else float("nan")
    both1, both2 = np.r_[b1, a1], np.r_[b2, a2]
    after = quadrant_masses(both1, both2)["q24"] if both1.size else float("nan")
    values = np.abs(np.r_[both1, both2])
    lim = 1.05 * max(float(values.max()) if values.size else 1.0, 1.0) + (0.2 if discrete else 0.0)
    title = (
        f"Where the {a1.size:,} extra labels went ({label})"
        f"<br><sup>training pairs in quadrants 2/4 (the factors disagree): {before:.1%} before, {after:.1%} after</sup>"
    )
    return plane_layout(fig, lim, f"Δ {names[0]} (d1)", f"Δ {names[1]} (d2)", title)


def cells_figure(cells: pd.DataFrame, label: str, colour: str) -> go.Figure:
    """Experiment 2: training pairs per (prompt type t, objective c) cell, the base set's (grey)
    and the extra labels of one strategy stacked on top. `cells`: cell, consistent, base, added."""
    missing = [c for c in ("cell", "consistent", "base", "added") if c not in cells.columns]
    if missing:
        raise CausalPrefError(f"cells_figure: the cell counts lack the column(s) {missing}")
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=cells["cell"],
            y=cells["base"],
            name="base training set",
            marker_color=BASE_POINTS,
            hovertemplate="%{x}<br>%{y:,} base pairs<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            x=cells["cell"],
            y=cells["added"],
            name=f"{label}: extra labels",
            marker_color=colour,
            hovertemplate="%{x}<br>%{y:,} extra labels<extra></extra>",
        )
    )
    base, added = cells["base"].sum(), cells["added"].sum()
    inconsistent = ~cells["consistent"].astype(bool)
    before = cells.loc[inconsistent, "base"].sum() / base if base else float("nan")
    after = (cells.loc[inconsistent, "base"].sum() + cells.loc[inconsistent, "added"].sum()) / max(base + added, 1)
    fig.update_layout(
        barmode="stack",
        template="plotly_white",
        title=f"Where the {int(added):,} extra labels went ({label})"
        f"<br><sup>inconsistent training pairs (t ≠ c): {before:.1%} before, {after:.1%} after</sup>",
        legend=dict(orientation="h", y=-0.25, yanchor="top"),
    )
    fig.update_xaxes(title="prompt type t × objective c")
    fig.update_yaxes(title="training pairs")
    return fig
