"""Correlation shift (Experiment 1): what the page shows for a sweep and a chosen rho.

The sweep trains every rho of the slider's grid once (cached), so moving the slider only
selects rows: ID and OOD accuracy with their baselines and the paper's values, the
accuracy-vs-rho curves, the model's decision boundary over the (d1, d2) plane with the
true boundary and the implied a_hat, and the training curves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from .. import paper
from ..errors import CausalPrefError
from ..experiments import Sweep
from ..plots import _boundary, _plane_layout, accuracy_vs_rho_figure

CHANCE = 50.0


@dataclass
class Number:
    """One accuracy [%] with its spread over seeds, the paper's value and a plain reading."""
    value: float
    spread: float
    paper: float | None
    reading: str


@dataclass
class CorrelationView:
    rho: float
    achieved_rho: float
    id: Number
    ood: Number
    gap: float
    baselines: pd.DataFrame          # split x (oracle, spurious-only, chance) in %
    a: float
    a_hat: float
    curves: go.Figure
    boundary: go.Figure
    training: go.Figure


def _at(results: pd.DataFrame, rho: float, split: str) -> pd.DataFrame:
    rows = results[np.isclose(results["rho"], rho) & (results["split"] == split)]
    if rows.empty:
        raise CausalPrefError(f"no {split} results at rho = {rho:g}; the sweep has rho in "
                              f"{sorted(results['rho'].unique().tolist())}")
    return rows


def correlation_view(sweep: Sweep, rho: float, a: float) -> CorrelationView:
    results = sweep.results
    ident, ood = _at(results, rho, "id"), _at(results, rho, "ood")
    paper_id, paper_ood = (paper.TABLE1[s].get(round(rho, 2)) for s in ("id", "ood"))
    id_value, ood_value = 100 * ident["accuracy"].mean(), 100 * ood["accuracy"].mean()
    spurious_ood = 100 * ood["spurious_accuracy"].mean()
    implied = sweep.details["implied"]
    a_hat = float(implied[np.isclose(implied["rho"], rho)]["a_hat"].mean())
    id_number = Number(
        value=id_value, spread=100 * ident["accuracy"].std(ddof=1) if len(ident) > 1 else 0.0,
        paper=None if paper_id is None else paper_id[0],
        reading=(f"In distribution (test pairs drawn like the training pairs, ρ = {rho:g}) the model ranks "
                 f"{id_value:.1f}% of pairs correctly; chance is 50%, the true reward "
                 f"{100 * ident['oracle_accuracy'].mean():.1f}% (ties are coin flips)."))
    ood_number = Number(
        value=ood_value, spread=100 * ood["accuracy"].std(ddof=1) if len(ood) > 1 else 0.0,
        paper=None if paper_ood is None else paper_ood[0],
        reading=(f"Out of distribution (pairs where the two factors disagree) it ranks {ood_value:.1f}% "
                 f"correctly: {ood_value - CHANCE:+.1f} points from chance; a model ranking by the wrong "
                 f"factor alone would score {spurious_ood:.1f}%."))
    baselines = pd.DataFrame([
        {"split": name, "model %": round(100 * rows["accuracy"].mean(), 1),
         "true reward (oracle) %": round(100 * rows["oracle_accuracy"].mean(), 1),
         "wrong factor only %": round(100 * rows["spurious_accuracy"].mean(), 1), "chance %": CHANCE}
        for name, rows in (("ID", ident), ("OOD", ood))])
    return CorrelationView(
        rho=rho, achieved_rho=float(_at(results, rho, "train")["rho_achieved"].mean()),
        id=id_number, ood=ood_number, gap=id_value - ood_value, baselines=baselines, a=a, a_hat=a_hat,
        curves=accuracy_vs_rho_figure(results, current_rho=rho),
        boundary=boundary_figure(sweep.details["boundary"], rho, a, a_hat),
        training=training_figure(sweep.details["history"], rho))


def boundary_figure(boundary: pd.DataFrame, rho: float, a: float, a_hat: float) -> go.Figure:
    """P(a preferred) over the (d1, d2) plane (mean over seeds), the true and the implied boundary."""
    rows = boundary[np.isclose(boundary["rho"], rho)]
    grid = rows.groupby(["d1", "d2"], as_index=False)["p_prefer_a"].mean()
    d1, d2 = np.sort(grid["d1"].unique()), np.sort(grid["d2"].unique())
    z = grid.pivot(index="d2", columns="d1", values="p_prefer_a").loc[d2, d1].to_numpy()
    lim = float(max(abs(d1).max(), abs(d2).max()))
    fig = go.Figure(go.Heatmap(x=d1, y=d2, z=z, zmin=0, zmax=1, colorscale="RdBu", name="P(a preferred)",
                               colorbar=dict(title="P(a ≻ b)")))
    fig.add_trace(_boundary(a, lim, f"true boundary (a = {a:g})", "#222222", "solid"))
    if np.isfinite(a_hat):
        fig.add_trace(_boundary(a_hat, lim, f"implied by the model (â = {a_hat:.2f})", "#d62728", "dash"))
    return _plane_layout(fig, lim, "Δ truthfulness (d1)", "Δ instruction-following (d2)",
                         f"What the model prefers at ρ = {rho:g}")


def training_figure(history: pd.DataFrame, rho: float) -> go.Figure:
    """Validation accuracy per epoch for each seed; the kept (best) epoch marked."""
    rows = history[np.isclose(history["rho"], rho)]
    fig = go.Figure()
    for seed, run in rows.groupby("seed"):
        fig.add_trace(go.Scatter(x=run["epoch"], y=100 * run["val_accuracy"], mode="lines+markers",
                                 name=f"seed {seed}: validation"))
        best = run.loc[run["val_accuracy"].idxmax()]
        fig.add_trace(go.Scatter(x=[best["epoch"]], y=[100 * best["val_accuracy"]], mode="markers",
                                 marker=dict(symbol="star", size=14, color="#d62728"),
                                 name=f"seed {seed}: kept epoch", showlegend=False))
    fig.update_layout(title="Training: validation accuracy per epoch (★ = checkpoint kept)",
                      template="plotly_white", xaxis_title="epoch", yaxis_title="validation accuracy [%]")
    return fig


def reading_of_curve(results: pd.DataFrame) -> str:
    """How much OOD accuracy falls across the sweep, in one sentence."""
    ood = results[results["split"] == "ood"].groupby("rho")["accuracy"].mean() * 100
    ident = results[results["split"] == "id"].groupby("rho")["accuracy"].mean() * 100
    low, high = ood.index.min(), ood.index.max()
    return (f"From ρ = {low:g} to ρ = {high:g}, OOD accuracy goes {ood[low]:.1f}% → {ood[high]:.1f}% "
            f"while ID accuracy goes {ident[low]:.1f}% → {ident[high]:.1f}%: correlated training factors "
            f"leave the model unable to tell which one people reward.")
