"""The adversary's measurements (issue 16): which stabiliser makes the game converge, the lambda
curve, and the default vs the entangled user-objectives world. Every run is an Exp2Spec
through the result cache, at the interactive size with 5 seeds; the tables here summarise
them, and run/adversary_report.py writes them into docs/results.md.

The score of a game option: |discriminator accuracy - 50 %| + its spread over seeds, in
points, on validation pairs. 50 % is what is achievable where c is removable from z_hat;
the heads get c as an input, so z_hat never needs it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from causalpref.data.worlds import UserObjectivesWorld
from causalpref.run.cached import run_cached
from causalpref.run.specs import Exp2Spec

SEEDS = (0, 1, 2, 3, 4)
GAME_RHOS = (0.9, 1.0)
# The paper's game, which each option changes: reversal, constant lambda, 1 discriminator
# step, one learning rate, the discriminator as wide as a head.
PAPER_GAME = {"encoder_loss": "reversal", "schedule": "constant", "disc_steps": 1, "disc_lr": 0.0, "disc_hidden": -1}
# stabilisers from the domain-adversarial literature, each alone, then some combinations
GAME_OPTIONS: dict[str, dict] = {
    "paper": {},
    "dann schedule": {"schedule": "dann"},
    "5 disc steps": {"disc_steps": 5},
    "disc lr x3": {"disc_lr": 3e-3},
    "disc width 128": {"disc_hidden": 128},
    "confusion": {"encoder_loss": "confusion"},
    "confusion + 5 disc steps": {"encoder_loss": "confusion", "disc_steps": 5},
    "dann + 5 disc steps": {"schedule": "dann", "disc_steps": 5},
    "dann + 5 disc steps + width 128": {"schedule": "dann", "disc_steps": 5, "disc_hidden": 128},
}
LAMBDAS = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0)
LAMBDA_RHOS = (0.8, 0.9)
WORLD_RHOS = (0.8, 0.9)
ENTANGLED = {"entanglement": 4.0, "conflict": 0.0}
# also the world where each prompt type expresses the qualities in its own way (specificity 1)
WORLDS = {
    "default": UserObjectivesWorld(),
    "entangled": UserObjectivesWorld(**ENTANGLED),
    "type-specific": UserObjectivesWorld(type_specificity=1.0),
}
ARCHITECTURES = ("base", "multihead", "adversarial", "decorrelated")


def game_spec(option: str, rho: float, world=None) -> Exp2Spec:
    spec = Exp2Spec(rhos=(rho,), seeds=SEEDS, models=("adversarial",), device="cpu")
    spec = replace(spec, world=world or spec.world)
    return spec.with_params("adversarial", **{**PAPER_GAME, **GAME_OPTIONS[option]})


def lambda_spec(lam: float, rhos=LAMBDA_RHOS) -> Exp2Spec:
    spec = Exp2Spec(rhos=tuple(rhos), seeds=SEEDS, models=("adversarial",), device="cpu")
    return spec.with_params("adversarial", adversary_lambda=lam)


def world_spec(world: str, models=ARCHITECTURES) -> Exp2Spec:
    return Exp2Spec(world=WORLDS[world], rhos=WORLD_RHOS, seeds=SEEDS, models=tuple(models), device="cpu")


def _mean_sd(values) -> tuple[float, float]:
    values = 100 * np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def per_seed(results: pd.DataFrame, model: str, rho: float, split: str) -> pd.Series:
    rows = results[(results["model"] == model) & np.isclose(results["rho"], rho) & (results["split"] == split)]
    return rows.sort_values("seed")["accuracy"]


def summary_row(results: pd.DataFrame, model: str, rho: float) -> dict:
    """Accuracies (%) of one model at one rho: mean and sd over seeds; NaN where not read."""
    row = {}
    for name, split in (
        ("inconsistent", "inconsistent"),
        ("consistent", "consistent"),
        ("disc", "discriminator_val"),
        ("probe", "probe_val"),
    ):
        values = per_seed(results, model, rho, split)
        row[name], row[f"{name}_sd"] = _mean_sd(values) if len(values) else (np.nan, np.nan)
    return row


def game_score(disc: float, disc_sd: float) -> float:
    return abs(disc - 50.0) + disc_sd


def game_table(cache=None, progress=None) -> pd.DataFrame:
    """One row per (option, rho): discriminator and probe accuracy, inconsistent and consistent
    accuracy (mean, sd over 5 seeds) and the score (lower is better)."""
    rows = []
    for option in GAME_OPTIONS:
        for rho in GAME_RHOS:
            sweep, _ = run_cached("exp2", game_spec(option, rho), cache, progress=progress)
            row = {"option": option, "rho": rho, **summary_row(sweep.results, "adversarial", rho)}
            row["score"] = game_score(row["disc"], row["disc_sd"])
            rows.append(row)
    return pd.DataFrame(rows)


def lambda_table(cache=None, lambdas=LAMBDAS, progress=None) -> pd.DataFrame:
    rows = []
    for lam in lambdas:
        sweep, _ = run_cached("exp2", lambda_spec(lam), cache, progress=progress)
        for rho in LAMBDA_RHOS:
            rows.append({"lambda": lam, "rho": rho, **summary_row(sweep.results, "adversarial", rho)})
    return pd.DataFrame(rows)


def worlds_table(cache=None, progress=None) -> pd.DataFrame:
    rows = []
    for world in WORLDS:
        sweep, _ = run_cached("exp2", world_spec(world), cache, progress=progress)
        for rho in WORLD_RHOS:
            for model in ARCHITECTURES:
                rows.append({"world": world, "rho": rho, "model": model, **summary_row(sweep.results, model, rho)})
    return pd.DataFrame(rows)


def lambda_curve_rows(sweeps: dict[float, pd.DataFrame], model: str = "adversarial") -> pd.DataFrame:
    """Per (lambda, rho) of sweeps given as {lambda: results}: the CLI's --lambda curve."""
    rows = []
    for lam, results in sweeps.items():
        for rho in sorted(results["rho"].unique()):
            rows.append({"lambda": lam, "rho": rho, **summary_row(results, model, rho)})
    return pd.DataFrame(rows)


def best_lambda(table: pd.DataFrame, rho: float) -> tuple[float, float, float]:
    """(best lambda by inconsistent accuracy at rho, its gain there over lambda = 0, its change
    on consistent pairs), in points."""
    at = table[np.isclose(table["rho"], rho)].set_index("lambda")
    best = float(at["inconsistent"].idxmax())
    zero = at.loc[0.0] if 0.0 in at.index else at.iloc[0]
    return (
        best,
        float(at.loc[best, "inconsistent"] - zero["inconsistent"]),
        float(at.loc[best, "consistent"] - zero["consistent"]),
    )


def pm(mean: float, sd: float) -> str:
    return "—" if np.isnan(mean) else f"{mean:.1f} ± {sd:.1f}"


def lambda_curve_text(results: pd.DataFrame) -> str:
    """The CLI's lambda curve: results of one sweep per lambda, with an 'adversary_lambda' column."""
    sweeps = {float(lam): part for lam, part in results.groupby("adversary_lambda", sort=True)}
    table = lambda_curve_rows(sweeps)
    lines = ["lambda curve of the adversarial model (accuracy %, mean ± sd over seeds)"]
    lines.append(
        f"{'lambda':>7}  {'rho':>4}  {'inconsistent':>13}  {'consistent':>13}  {'discriminator':>13}  {'probe':>13}"
    )
    for _, row in table.iterrows():
        cells = [pm(row[name], row[f"{name}_sd"]) for name in ("inconsistent", "consistent", "disc", "probe")]
        lines.append(f"{row['lambda']:>7g}  {row['rho']:>4g}  " + "  ".join(f"{c:>13}" for c in cells))
    lines.append(
        "discriminator: the co-trained adversary reading c from z_hat (validation pairs); probe: a fresh "
        "probe fitted on z_hat (what is left in it); chance 50 %"
    )
    for rho in sorted(table["rho"].unique()):
        best, gain, cost = best_lambda(table, rho)
        lines.append(
            f"rho {rho:g}: best lambda {best:g} on inconsistent pairs ({gain:+.1f} points over lambda 0), "
            f"{cost:+.1f} points on consistent pairs"
        )
    return "\n".join(lines)
