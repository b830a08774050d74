"""What an intervention sweep says, computed from its tidy results (accuracies in percent).

curves              accuracy per strategy x budget: mean, sd over seeds, n
paired_differences  each strategy minus observational, seed by seed (same base set, same tests)
labels_to_half      labels needed to recover half of the loss: half the way from the base set's
                    accuracy back to the model trained without the confounding (rho0)
reading             one sentence: the winner at the largest budget and by how much, with its SE
format_report       the CLI's tables
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalpref.interventions.strategies import REFERENCES, RHO0, labels

HEADLINE = {"exp1": "ood", "exp2": "inconsistent"}
OBSERVATIONAL = "observational"


def _rows(results: pd.DataFrame, split: str) -> pd.DataFrame:
    rows = results[results["split"] == split].copy()
    rows["accuracy"] = 100 * rows["accuracy"].astype(float)
    return rows


def _keys(results: pd.DataFrame) -> list[str]:
    """Group by architecture too when the sweep trained several (the reweighting reference is
    the same architecture with the remedy's weights)."""
    several = "architecture" in results and results["architecture"].nunique() > 1
    return (["architecture"] if several else []) + ["strategy", "budget"]


def _ordered(frame: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order the results list strategies (registry order, references last)."""
    order = {name: i for i, name in enumerate(pd.unique(results["strategy"]))}
    by = [c for c in ("architecture", "strategy", "budget") if c in frame]
    return frame.sort_values(by, key=lambda c: c.map(order) if c.name == "strategy" else c).reset_index(drop=True)


def curves(results: pd.DataFrame, split: str) -> pd.DataFrame:
    """[strategy, budget, mean, sd, n]: accuracy (%) on `split` over seeds."""
    grouped = _rows(results, split).groupby(_keys(results))["accuracy"]
    frame = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    frame["sd"] = frame["sd"].fillna(0.0)
    return _ordered(frame, results)


def paired_differences(results: pd.DataFrame, split: str, against: str = OBSERVATIONAL) -> pd.DataFrame:
    """[strategy, budget, diff, se, n]: mean over seeds of (strategy - `against`) in points at the
    same budget and seed; references (budget 0) are compared with the base set. se = sd / sqrt(n)."""
    rows = _rows(results, split)
    keys = [k for k in _keys(results) if k != "strategy"]
    reference = rows[rows["strategy"] == against].set_index(keys + ["seed"])["accuracy"]
    others = rows[rows["strategy"] != against]
    if others.empty or reference.empty:
        return pd.DataFrame(columns=["strategy", "budget", "diff", "se", "n"])
    matched = reference.reindex(pd.MultiIndex.from_frame(others[keys + ["seed"]])).to_numpy()
    others = others.assign(diff=others["accuracy"].to_numpy() - matched).dropna(subset=["diff"])
    grouped = others.groupby(_keys(results))["diff"]
    frame = grouped.agg(diff="mean", sd="std", n="count").reset_index()
    frame["se"] = (frame["sd"] / np.sqrt(frame["n"])).fillna(0.0)
    return _ordered(frame.drop(columns="sd"), results)


def labels_to_half(results: pd.DataFrame, split: str) -> pd.DataFrame:
    """[strategy, labels, base, rho0, target]: the budget at which a strategy's mean accuracy
    first reaches half the way from the base set (budget 0) back to the rho0 model, linearly
    interpolated between budgets; NaN where it is not reached (or there is no loss to recover)."""
    table = curves(results, split)
    keys = [k for k in _keys(results) if k not in ("strategy", "budget")]
    out = []
    for key, part in table.groupby(keys) if keys else [((), table)]:
        rho0 = part.loc[part["strategy"] == RHO0, "mean"]
        strategies = [s for s in pd.unique(part["strategy"]) if s not in REFERENCES]
        base = part.loc[(part["budget"] == 0) & part["strategy"].isin(strategies), "mean"]
        base_value = float(base.iloc[0]) if len(base) else np.nan
        rho0_value = float(rho0.iloc[0]) if len(rho0) else np.nan
        target = base_value + (rho0_value - base_value) / 2
        for name in strategies:
            curve = part[part["strategy"] == name].sort_values("budget")
            labels_needed = np.nan
            if np.isfinite(target) and rho0_value > base_value:
                labels_needed = _first_crossing(curve["budget"].to_numpy(float), curve["mean"].to_numpy(), target)
            row = {"strategy": name, "labels": labels_needed, "base": base_value, "rho0": rho0_value, "target": target}
            out.append(({"architecture": key[0] if isinstance(key, tuple) else key} if keys else {}) | row)
    columns = (["architecture"] if keys else []) + ["strategy", "labels", "base", "rho0", "target"]
    return pd.DataFrame(out, columns=columns)


def _first_crossing(budgets: np.ndarray, means: np.ndarray, target: float) -> float:
    """The first budget where the piecewise-linear curve reaches `target` (NaN: never)."""
    if means[0] >= target:
        return float(budgets[0])
    for (b0, m0), (b1, m1) in zip(zip(budgets, means), zip(budgets[1:], means[1:])):
        if m0 < target <= m1:
            return float(b0 + (target - m0) / (m1 - m0) * (b1 - b0))
    return float("nan")


SPLIT_WORDS = {"ood": "OOD", "inconsistent": "inconsistent", "id": "ID", "consistent": "consistent"}


def reading(results: pd.DataFrame, split: str) -> str:
    """One plain sentence: which strategy is best at the largest budget, by how much against
    observational (paired, with its standard error), and what the base set and rho0 reach."""
    table = curves(results, split)
    paired = paired_differences(results, split)
    if "architecture" in table:  # several architectures: read the first one
        first = table["architecture"].iloc[0]
        table, paired = table[table["architecture"] == first], paired[paired["architecture"] == first]
    experiment = str(results["experiment"].iloc[0])
    names = labels(experiment)
    strategies = [s for s in pd.unique(table["strategy"]) if s not in REFERENCES]
    budget = int(table["budget"].max())
    at = table[(table["budget"] == budget) & table["strategy"].isin(strategies)].set_index("strategy")["mean"]
    if budget == 0 or at.empty:
        return "No budget above 0 was trained: every strategy is the base set."
    winner = str(at.idxmax())
    words = SPLIT_WORDS.get(split, split)
    base = float(table.loc[(table["budget"] == 0) & table["strategy"].isin(strategies), "mean"].iloc[0])
    rho0 = table.loc[table["strategy"] == RHO0, "mean"]
    tail = f"; the base set alone scores {base:.1f}%"
    if len(rho0):
        tail += f" and the model trained without the confounding {float(rho0.iloc[0]):.1f}%"
    head = f"With {budget:,} extra labels, {names.get(winner, winner)} reaches the highest {words} accuracy, {at[winner]:.1f}%"
    if winner == OBSERVATIONAL or OBSERVATIONAL not in strategies:
        others = at.drop(winner)
        if others.empty:
            return head + tail + "."
        runner = str(others.idxmax())
        diff, se = _paired(paired, runner, budget)
        return f"{head}; the best intervention, {names.get(runner, runner)}, is {diff:+.1f} ± {se:.1f} points against it{tail}."
    diff, se = _paired(paired, winner, budget)
    clear = "a clear margin" if se > 0 and abs(diff) > 2 * se else "within two standard errors"
    return f"{head}, {diff:+.1f} ± {se:.1f} points against observational on the same base sets ({clear}){tail}."


def _paired(paired: pd.DataFrame, name: str, budget: int) -> tuple[float, float]:
    row = paired[(paired["strategy"] == name) & (paired["budget"] == budget)]
    return (float(row["diff"].iloc[0]), float(row["se"].iloc[0])) if len(row) else (float("nan"), float("nan"))


def accuracy_table(results: pd.DataFrame, split: str) -> str:
    """Strategies x budgets, 'mean ± sd' (%), references as their own rows at budget 0."""
    table = curves(results, split)
    table["cell"] = [f"{m:.1f} ± {s:.1f}" for m, s in zip(table["mean"], table["sd"])]
    wide = table.pivot_table(index=_index(table), columns="budget", values="cell", aggfunc="first", sort=False)
    return _text(wide.fillna(""), "budget")


def paired_table(results: pd.DataFrame, split: str) -> str:
    """Strategies x budgets, 'diff ± se' points against observational on the same seeds."""
    table = paired_differences(results, split)
    table = table[table["budget"] > 0] if not table.empty else table
    if table.empty:
        return "(no strategy besides observational at a budget above 0)"
    table = table.assign(cell=[f"{d:+.1f} ± {s:.1f}" for d, s in zip(table["diff"], table["se"])])
    wide = table.pivot_table(index=_index(table), columns="budget", values="cell", aggfunc="first", sort=False)
    return _text(wide, "budget")


def half_table(results: pd.DataFrame, split: str) -> str:
    table = labels_to_half(results, split)
    if table.empty:
        return "(no strategy)"
    parts = table.groupby("architecture", sort=False) if "architecture" in table else [(None, table)]
    lines = []
    for arch, part in parts:
        first = part.iloc[0]
        lines.append(
            (f"{arch}: " if arch is not None else "")
            + f"half the loss: from the base set's {first['base']:.1f}% half the way to the rho0 model's "
            f"{first['rho0']:.1f}% = {first['target']:.1f}%"
        )
        for _, row in part.iterrows():
            value = "not reached" if not np.isfinite(row["labels"]) else f"{row['labels']:,.0f} labels"
            lines.append(f"  {row['strategy']:<16} {value}")
    return "\n".join(lines)


def _index(table: pd.DataFrame) -> list[str]:
    return [c for c in ("architecture", "strategy") if c in table]


def _text(wide: pd.DataFrame, columns_name: str) -> str:
    wide.columns = [f"{c:,}" for c in wide.columns]
    return f"({columns_name} across)\n" + wide.to_string()


def format_report(results: pd.DataFrame) -> str:
    """The CLI's report: accuracy, paired differences, labels to half and the reading, on the
    headline split (OOD / inconsistent)."""
    experiment = str(results["experiment"].iloc[0])
    split = HEADLINE[experiment]
    words = SPLIT_WORDS[split]
    return "\n\n".join(
        [
            f"{words} accuracy % (mean ± sd over seeds) by strategy and extra labels",
            accuracy_table(results, split),
            f"paired difference against observational, {words} accuracy points (mean ± SE over seeds)",
            paired_table(results, split),
            half_table(results, split),
            reading(results, split),
        ]
    )
