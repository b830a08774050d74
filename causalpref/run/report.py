"""Plain-text tables in the paper's layout, our numbers beside the paper's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from causalpref import paper
from causalpref.variants import variant_order, variant_short


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
    world = str(results["world"].iloc[0]) if len(results) else ""
    for model in variant_order(results["model"].unique()):
        by_model = results[results["model"] == model]
        reference = paper.shows_reference("exp1", world, model)
        acc = {(split, rho): g["accuracy"] for (split, rho), g in by_model.groupby(["split", "rho"])}
        for split, label in (("id", "ID"), ("ood", "OOD")):
            rows.append([label, f"{model}"] + [_cell(acc.get((split, r), pd.Series(dtype=float))) for r in rhos])
            if reference:
                rows.append(["", "paper"] + [_paper_cell(paper.TABLE1[split].get(round(r, 2))) for r in rhos])
        gaps = []
        for r in rhos:
            id_acc = by_model[(by_model.split == "id") & (by_model.rho == r)].set_index("seed")["accuracy"]
            ood_acc = by_model[(by_model.split == "ood") & (by_model.rho == r)].set_index("seed")["accuracy"]
            gaps.append(_cell(id_acc - ood_acc))
        rows.append(["ID−OOD gap", f"{model}"] + gaps)
        if reference:
            rows.append(["", "paper"] + [_paper_gap(r) for r in rhos])
        rows.append(["train", f"{model}"] + [_cell(acc.get(("train", r), pd.Series(dtype=float))) for r in rhos])
    title = f"Experiment 1 — test accuracy [%], mean ± std over {n_seeds} seed(s)"
    note = (
        f"\n'paper' rows: {paper.PROVENANCE['TABLE1']}, a reference for the synthetic default, not a target."
        if any(paper.shows_reference("exp1", world, m) for m in results["model"].unique())
        else ""
    )
    return title + "\n" + _table(header, rows) + note


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
        for column, label in (
            ("oracle_accuracy", "oracle (true reward)"),
            ("spurious_accuracy", "spurious-only"),
            ("chance", "chance"),
        ):
            rows.append([split.upper(), label] + [_cell(sub[sub.rho == r][column]) for r in rhos])
    return "Baselines [%] (same pairs)\n" + _table(header, rows)


def achieved_rho_lines(results: pd.DataFrame) -> str:
    """The achieved correlation of every drawn training set."""
    train = results[results.split == "train"].drop_duplicates(["rho", "seed"])
    parts = [f"  rho={r.rho:g} seed={r.seed}: achieved {r.rho_achieved:+.4f} (n={r.n})" for r in train.itertuples()]
    worst = float(np.max(np.abs(train["rho_achieved"] - train["rho"]))) if len(train) else float("nan")
    return "Achieved training rho:\n" + "\n".join(parts) + f"\n  largest |achieved - target| = {worst:.4f}"


def weights_lines(weights: pd.DataFrame | None) -> str:
    """A weighting's price: the effective sample size share of its weights per rho; a weighting
    that cannot change anything (no disagreeing pairs to up-weight) says so instead."""
    if weights is None or weights.empty:
        return ""
    parts = []
    for rho, rows in weights.groupby("rho"):
        if "no_op" in rows and rows["no_op"].astype(bool).all():
            parts.append(
                f"  rho={rho:g}: no effect — the training set has no pairs whose factors disagree, "
                "so there is nothing to up-weight"
            )
        else:
            share = rows["ess_share"]
            parts.append(f"  rho={rho:g}: {100 * share.mean():.1f}% (lowest seed {100 * share.min():.1f}%)")
    return (
        "Weighted models: effective sample size of the weights, share of the training pairs "
        "(100% = unweighted):\n" + "\n".join(parts)
    )


def _exp2_layout(
    results: pd.DataFrame, splits: tuple[str, str], paper_table: dict, title: str, readout: str = ""
) -> str:
    """Table 2/3 layout: one row per rho, inconsistent then consistent per model; then, for
    each model with a discriminator, its accuracy reading c from z_hat on the `readout` split
    ('disc'), so that every Adversarial number has it beside it."""
    models = variant_order(results["model"].unique())
    world = str(results["world"].iloc[0]) if len(results) else ""
    with_disc = [m for m in models if readout and ((results.model == m) & (results.split == readout)).any()]
    header = ["rho", "source"] + [
        f"{variant_short(m)} {'inc' if 'inconsistent' in s else 'con'}" for s in splits for m in models
    ]
    header += [f"{variant_short(m)} disc" for m in with_disc]
    shows = {m: paper.shows_reference("exp2", world, m) for m in models}
    rows = []
    for rho in sorted(results["rho"].unique()):
        ours, theirs = [f"{rho:g}", "ours"], ["", "paper"]
        for position, split in enumerate(splits):
            for model in models:
                cell = results[(results.rho == rho) & (results.model == model) & (results.split == split)]
                ours.append(_cell(cell["accuracy"]))
                entry = paper_table.get(round(rho, 2), {}).get(model) if shows[model] else None
                value = None if entry is None else entry[position]
                theirs.append("—" if value is None else f"{value:.1f}")
        for model in with_disc:
            cell = results[(results.rho == rho) & (results.model == model) & (results.split == readout)]
            ours.append(_cell(cell["accuracy"]))
            theirs.append("—")
        rows += [ours, theirs] if any(shows.values()) else [ours]
    n_seeds = results["seed"].nunique()
    return f"{title}, mean ± std over {n_seeds} seed(s)\n" + _table(header, rows)


def exp2_tables(results: pd.DataFrame) -> str:
    """Table 2 (test) and Table 3 (train at the selected checkpoint) layouts, beside the paper."""
    test = _exp2_layout(
        results,
        ("inconsistent", "consistent"),
        paper.TABLE2,
        "Experiment 2 — test accuracy [%] (inc: t != c, con: t = c, disc: discriminator reads c, validation)",
        readout="discriminator_val",
    )
    train = _exp2_layout(
        results,
        ("train_inconsistent", "train_consistent"),
        paper.TABLE3,
        "Experiment 2 — training accuracy [%] at the selected checkpoint (disc: on training pairs)",
        readout="discriminator_train",
    )
    world = str(results["world"].iloc[0]) if len(results) else ""
    note = (
        f"\n\n'paper' rows: {paper.PROVENANCE['TABLE2']} and {paper.PROVENANCE['TABLE3']}; references for "
        "the synthetic default, not targets."
        if any(paper.shows_reference("exp2", world, m) for m in results["model"].unique())
        else ""
    )
    return test + "\n\n" + train + note


def exp2_baselines(results: pd.DataFrame) -> str:
    """Prompt-type-only, oracle and chance on the test sets; the adversary's accuracy."""
    rhos = sorted(results["rho"].unique())
    header = ["what", "split"] + [f"rho={r:g}" for r in rhos]
    rows = []
    for split in ("consistent", "inconsistent"):
        sub = results[results.split == split]
        for column, label in (
            ("spurious_accuracy", "reads prompt type"),
            ("oracle_accuracy", "oracle"),
            ("chance", "chance"),
        ):
            rows.append([label, split] + [_cell(sub[sub.rho == r][column]) for r in rhos])
    for readout, what in (("discriminator", "adversary reads c"), ("probe", "fresh probe reads c")):
        splits = (f"{readout}_train", f"{readout}_val")
        for model in variant_order(results[results.split.isin(splits)]["model"].unique()):
            for split in splits:
                sub = results[(results.split == split) & (results.model == model)]
                rows.append(
                    [f"{model}: {what}", split.split("_")[1]] + [_cell(sub[sub.rho == r]["accuracy"]) for r in rhos]
                )
    return (
        "Baselines [%] (same pairs). 'reads prompt type' ranks by the factor of objective t instead "
        "of c;\nthe adversary near 50 means the encoder beat its own discriminator; a fresh probe fitted "
        "on z_hat says\nwhether c is gone from it (near 50) or still there.\n" + _table(header, rows)
    )


def achieved_consistency_lines(results: pd.DataFrame) -> str:
    train = results[results.split.isin(["train_consistent", "train_inconsistent"])]
    counts = train.pivot_table(index=["rho", "seed"], columns="split", values="n", aggfunc="first").fillna(0)
    parts = []
    for (rho, seed), row in counts.iterrows():
        n_con, n_inc = row.get("train_consistent", 0), row.get("train_inconsistent", 0)
        parts.append(
            f"  rho={rho:g} seed={seed}: achieved P(t = c) = {n_con / (n_con + n_inc):.4f} (n={int(n_con + n_inc)})"
        )
    return "Achieved training consistency rate:\n" + "\n".join(parts)
