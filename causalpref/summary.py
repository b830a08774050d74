"""Tidy results -> the few numbers a person reads, each beside its baseline."""

from __future__ import annotations

import pandas as pd

from . import paper


def exp1_summary(results: pd.DataFrame) -> pd.DataFrame:
    """One row per (model, rho): ID/OOD accuracy [%] over seeds, gap, baselines, paper's values."""
    rows = []
    for (model, rho), cell in results.groupby(["model", "rho"], sort=True):
        by_split = {split: g for split, g in cell.groupby("split")}
        ident, ood = by_split["id"], by_split["ood"]
        paper_id, paper_ood = (paper.TABLE1[s].get(round(rho, 2)) for s in ("id", "ood"))
        rows.append({
            "model": model, "rho": rho, "seeds": ident["seed"].nunique(),
            "ID acc %": 100 * ident["accuracy"].mean(), "ID std": 100 * ident["accuracy"].std(ddof=1),
            "OOD acc %": 100 * ood["accuracy"].mean(), "OOD std": 100 * ood["accuracy"].std(ddof=1),
            "ID−OOD gap": 100 * (ident["accuracy"].mean() - ood["accuracy"].mean()),
            "OOD oracle %": 100 * ood["oracle_accuracy"].mean(),
            "OOD spurious-only %": 100 * ood["spurious_accuracy"].mean(),
            "chance %": 50.0,
            "paper ID %": paper_id[0] if paper_id else None,
            "paper OOD %": paper_ood[0] if paper_ood else None,
        })
    frame = pd.DataFrame(rows)
    percent = [c for c in frame.columns if c not in ("model", "rho", "seeds")]
    frame[percent] = frame[percent].round(1)     # rho keeps its full value (0.95 stays 0.95)
    return frame


def exp1_reading(summary: pd.DataFrame) -> str:
    """One plain sentence on what the table shows, for the lowest and highest rho."""
    if summary.empty:
        return "No results."
    low, high = summary.iloc[0], summary.iloc[-1]
    if low["rho"] == high["rho"]:
        return (f"At ρ = {low['rho']:g} the model ranks {low['OOD acc %']:.1f}% of out-of-distribution pairs "
                f"correctly (chance 50%, ranking by the wrong factor alone {low['OOD spurious-only %']:.1f}%).")
    direction = "falls" if high["OOD acc %"] < low["OOD acc %"] else "does not fall"
    return (f"Out-of-distribution accuracy {direction} from {low['OOD acc %']:.1f}% at ρ = {low['rho']:g} "
            f"to {high['OOD acc %']:.1f}% at ρ = {high['rho']:g}, while in-distribution accuracy moves from "
            f"{low['ID acc %']:.1f}% to {high['ID acc %']:.1f}%. Chance is 50%; ranking by the wrong "
            f"factor alone scores {high['OOD spurious-only %']:.1f}% out of distribution; "
            f"the paper reports OOD 64.5% at ρ = 0 and 57.8% at ρ = 0.9.")
