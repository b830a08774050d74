"""Plain-text tables in the paper's layout, our numbers beside the paper's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import paper


def _cell(values: pd.Series) -> str:
    values = values.dropna() * 100
    if values.empty:
        return "—"
    spread = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():.1f} ± {spread:.1f}"


def _paper_cell(entry) -> str:
    return "—" if entry is None else f"{entry[0]:.1f} ± {entry[1]:.1f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def exp1_table(results: pd.DataFrame) -> str:
    """Table 1 layout: ID and OOD test accuracy per rho_tr, mean ± std over seeds, beside the paper."""
    rhos = sorted(results["rho"].unique())
    n_seeds = results["seed"].nunique()
    header = ["split", "source"] + [f"rho={r:g}" for r in rhos]
    rows = []
    for model, by_model in results.groupby("model", sort=False):
        acc = {(split, rho): g["accuracy"] for (split, rho), g in by_model.groupby(["split", "rho"])}
        for split, label in (("id", "ID"), ("ood", "OOD")):
            rows.append([label, f"{model}"] + [_cell(acc.get((split, r), pd.Series(dtype=float))) for r in rhos])
            rows.append(["", "paper"] + [_paper_cell(paper.TABLE1[split].get(round(r, 2))) for r in rhos])
        gaps = []
        for r in rhos:
            id_acc = by_model[(by_model.split == "id") & (by_model.rho == r)].set_index("seed")["accuracy"]
            ood_acc = by_model[(by_model.split == "ood") & (by_model.rho == r)].set_index("seed")["accuracy"]
            gaps.append(_cell(id_acc - ood_acc))
        rows.append(["ID−OOD gap", f"{model}"] + gaps)
        rows.append(["", "paper"] + [_paper_gap(r) for r in rhos])
        rows.append(["train", f"{model}"] + [_cell(acc.get(("train", r), pd.Series(dtype=float))) for r in rhos])
    title = f"Experiment 1 — test accuracy [%], mean ± std over {n_seeds} seed(s)"
    return title + "\n" + _table(header, rows)


def _paper_gap(rho: float) -> str:
    id_entry, ood_entry = (paper.TABLE1[s].get(round(rho, 2)) for s in ("id", "ood"))
    return "—" if id_entry is None or ood_entry is None else f"{id_entry[0] - ood_entry[0]:.1f}"


def baselines_table(results: pd.DataFrame) -> str:
    """What each test accuracy should be read against: chance, the oracle, spurious-only."""
    rhos = sorted(results["rho"].unique())
    header = ["split", "baseline"] + [f"rho={r:g}" for r in rhos]
    rows = []
    for split in ("id", "ood"):
        sub = results[results.split == split]
        for column, label in (("oracle_accuracy", "oracle (true reward)"),
                              ("spurious_accuracy", "spurious-only"), ("chance", "chance")):
            rows.append([split.upper(), label] + [_cell(sub[sub.rho == r][column]) for r in rhos])
    return "Baselines [%] (same pairs)\n" + _table(header, rows)


def achieved_rho_lines(results: pd.DataFrame) -> str:
    """The achieved correlation of every drawn training set."""
    train = results[results.split == "train"].drop_duplicates(["rho", "seed"])
    parts = [f"  rho={r.rho:g} seed={r.seed}: achieved {r.rho_achieved:+.4f} (n={r.n})"
             for r in train.itertuples()]
    worst = float(np.max(np.abs(train["rho_achieved"] - train["rho"]))) if len(train) else float("nan")
    return "Achieved training rho:\n" + "\n".join(parts) + f"\n  largest |achieved - target| = {worst:.4f}"
