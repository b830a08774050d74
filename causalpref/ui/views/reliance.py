"""Spurious reliance (ODIN's read-out) for a page: which factors a trained reward follows.

A sweep's 'factors' detail holds, per model, rho and seed, the correlation of the model's
reward margin with each factor difference on the pairs where reliance matters (OOD pairs in
Experiment 1, inconsistent pairs in Experiment 2), beside the same correlation of the true
reward. This module averages them over seeds at one rho, draws them as bars (the true
reward as black markers) and says in a sentence where the model departs most from the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from causalpref.ui.plots import model_colour, model_label

__all__ = ["RelianceView", "reliance_view"]


@dataclass
class RelianceView:
    table: pd.DataFrame  # factor x (model correlations..., true reward)
    figure: go.Figure
    reading: str


def reliance_view(sweep, rho: float, models, where: str) -> RelianceView | None:
    """Mean correlations over seeds at `rho` for `models`; None when the sweep has none
    (older cache entries, or a world without named factors). `where` names the pairs."""
    frame = sweep.details.get("factors")
    if frame is None or frame.empty:
        return None
    frame = frame[np.isclose(frame["rho"].astype(float), rho) & frame["model"].isin(list(models))]
    if frame.empty:
        return None
    mean = frame.groupby(["factor", "model"], sort=False)["correlation"].mean().unstack("model")
    truth = frame.groupby("factor", sort=False)["true_correlation"].mean()
    shown = [m for m in models if m in mean.columns]
    table = pd.DataFrame({"factor": mean.index})
    for model in shown:
        table[model_label(model)] = mean[model].to_numpy().round(2)
    table["true reward"] = truth.reindex(mean.index).to_numpy().round(2)

    fig = go.Figure()
    for model in shown:
        fig.add_trace(
            go.Bar(x=list(mean.index), y=mean[model], name=model_label(model), marker_color=model_colour(model))
        )
    if truth.notna().any():
        fig.add_trace(
            go.Scatter(
                x=list(truth.index),
                y=truth,
                mode="markers",
                name="true reward",
                marker=dict(color="black", symbol="diamond", size=10),
            )
        )
    fig.update_layout(
        barmode="group",
        template="plotly_white",
        yaxis_title="correlation with the reward margin",
        title=f"Which factors the reward follows on {where} (ρ = {rho:g}, mean over seeds)",
    )
    fig.update_yaxes(range=[-1, 1])
    return RelianceView(table=table, figure=fig, reading=_reading(mean, truth, shown, where))


def _reading(mean: pd.DataFrame, truth: pd.Series, models, where: str) -> str:
    parts = []
    for model in models:
        gap = (mean[model] - truth.reindex(mean.index)).abs()
        if gap.notna().any():
            factor = gap.idxmax()
            parts.append(
                f"{model_label(model)} departs most on {factor} "
                f"({mean.loc[factor, model]:+.2f} vs the true reward's {truth[factor]:+.2f})"
            )
    lead = (
        f"Correlation of each model's reward margin with each factor difference on {where}, beside the "
        f"true reward's (black). A bar far from its marker is a factor the model rewards more, or less, "
        f"than people do; a factor the true reward ignores (marker near 0) with a tall bar is spurious reliance."
    )
    return lead + (" " + "; ".join(parts) + "." if parts else "")
