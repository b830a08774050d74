"""Sanity checks of an experiment, each beside its expected outcome and a plain reading.

At one training rho, the spec is run four times through the result cache (see
`experiments.apply_check`): as it is ('none', the reference), with the training and
validation labels shuffled ('placebo'), with one random N(0, 1) feature added to every
embedding ('random_feature') and on a seeded half of the training pairs ('half_data').
Every variant uses the same seeds, so the same data draws and the same test pairs.

Verdict rules, in accuracy points over the k seeds of the spec. Each check is judged on
its mean over seeds, with a band of three standard errors, 3 * sigma / sqrt(k):

- placebo: expected at chance. As expected when |mean accuracy - 50| <= 3 sigma / sqrt(k),
  sigma = max(the seed SD of the accuracy, 3, b), b = 100 * sqrt(0.25 / n) the SD of one
  seed's accuracy at chance from its n test pairs alone.
- random_feature: expected no change. As expected when |mean difference| <= 3 sigma /
  sqrt(k), the difference taken seed by seed against the reference (same seed, same data
  draws), sigma = max(the seed SD of that difference, 2, sqrt(2) * b).
- half_data: expected a small drop. As expected when -(5 + t) <= mean difference <= t, t the
  random-feature band: losing more than 5 points beyond seed noise means the full training
  set was barely enough; clearly gaining from less data would be odd.

Why these numbers: two or three seeds cannot estimate a seed SD (with 3 seeds it often
comes out far too small), so sigma has a floor. The placebo floor of 3 points is the
measured seed-to-seed spread of placebo models (2.5 to 4.1 points over 10 seeds in both
default worlds, 2,000 test pairs; their means sat 48.4 to 51.1 %); the floor of 2 points
for a difference is the typical seed SD of a trained default model. Three standard errors,
not two, because a report judges 8 to 24 cells at once: a verdict of "unexpected" should be
rare by chance alone, and then it is worth a look (it is still not proof of a bug).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import pandas as pd

from causalpref.errors import CausalPrefError
from causalpref.run.cache import ResultCache
from causalpref.run.cached import load_cached, run_cached
from causalpref.run.specs import SPEC_TYPES
from causalpref.run.sweep import Sweep
from causalpref.variants import variant_name

CHECK_ORDER = ("none", "placebo", "random_feature", "half_data")
EXPECTED = {"none": "reference", "placebo": "chance (50 %)", "random_feature": "no change", "half_data": "a small drop"}
TITLES = {
    "none": "Reference (no check)",
    "placebo": "Placebo (training and validation labels shuffled)",
    "random_feature": "Random feature (one N(0, 1) column added to every embedding)",
}
REPORT_SPLITS = {"exp1": ("id", "ood"), "exp2": ("consistent", "inconsistent")}
COLUMNS = [
    "check",
    "model",
    "split",
    "accuracy",
    "sd",
    "n_seeds",
    "n",
    "difference",
    "difference_sd",
    "tolerance",
    "expected",
    "verdict",
]
CHANCE_POINTS = 50.0
PLACEBO_FLOOR = 3.0  # least seed SD of a placebo model's accuracy (measured: 2.5 to 4.1 points)
CHANGE_FLOOR = 2.0  # least seed SD of a difference between two trained models
HALF_DROP = 5.0  # points beyond noise that still count as a "small" drop


@dataclass
class SanityReport:
    kind: str
    world: str
    rho: float
    seeds: tuple[int, ...]
    models: tuple[str, ...]
    train_pairs: int
    table: pd.DataFrame  # COLUMNS, one row per (check, model, split); accuracies in %
    readings: dict[str, str]  # check -> one plain sentence with the numbers
    cached: dict[str, bool]  # check -> loaded from the result cache
    seconds: float


def _spread(values) -> float:
    values = pd.Series(values, dtype=float)
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _per_seed(kind: str, sweeps: dict, models: tuple[str, ...]) -> pd.DataFrame:
    """Accuracy in % per (check, model, split, seed), with the test-set size n."""
    frames = []
    for check, sweep in sweeps.items():
        results = sweep.results
        for model in models:
            for split in REPORT_SPLITS[kind]:
                part = results[(results.model == model) & (results.split == split)]
                if part.empty:
                    raise CausalPrefError(f"sanity check {check!r}: no {split!r} accuracy for model {model!r}")
                frames.append(
                    pd.DataFrame(
                        {
                            "check": check,
                            "model": model,
                            "split": split,
                            "seed": part["seed"],
                            "accuracy": 100 * part["accuracy"],
                            "n": part["n"],
                        }
                    )
                )
    return pd.concat(frames, ignore_index=True)


def _judge(per_seed: pd.DataFrame) -> pd.DataFrame:
    """One row per (check, model, split): mean, seed SD, paired difference, band, verdict."""
    reference = per_seed[per_seed.check == "none"].set_index(["model", "split", "seed"])["accuracy"]
    rows = []
    for (check, model, split), part in per_seed.groupby(["check", "model", "split"], sort=False):
        k, n = len(part), int(part["n"].iloc[0])
        paired = part["accuracy"].to_numpy() - reference.loc[[(model, split, s) for s in part["seed"]]].to_numpy()
        chance_sd = 100 * math.sqrt(0.25 / n)
        row = {
            "check": check,
            "model": model,
            "split": split,
            "accuracy": float(part["accuracy"].mean()),
            "sd": _spread(part["accuracy"]),
            "n_seeds": k,
            "n": n,
            "difference": float(paired.mean()),
            "difference_sd": _spread(paired),
            "expected": EXPECTED[check],
        }
        if check == "none":
            row.update(tolerance=float("nan"), verdict="reference")
        elif check == "placebo":
            row["tolerance"] = 3 * max(row["sd"], PLACEBO_FLOOR, chance_sd) / math.sqrt(k)
            ok = abs(row["accuracy"] - CHANCE_POINTS) <= row["tolerance"]
        else:
            row["tolerance"] = 3 * max(row["difference_sd"], CHANGE_FLOOR, math.sqrt(2) * chance_sd) / math.sqrt(k)
            if check == "random_feature":
                ok = abs(row["difference"]) <= row["tolerance"]
            else:
                ok = -(HALF_DROP + row["tolerance"]) <= row["difference"] <= row["tolerance"]
        if check != "none":
            row["verdict"] = "as expected" if ok else "unexpected"
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _reading(check: str, rows: pd.DataFrame, train_pairs: int) -> str:
    """One sentence: what was done, the numbers, and what they mean."""

    def listing(value):
        return "; ".join(
            f"{model} {', '.join(f'{r.split} {value(r)}' for r in part.itertuples())}"
            for model, part in rows.groupby("model", sort=False)
        )

    if check == "none":
        return (
            f"{TITLES[check]}: accuracy {listing(lambda r: f'{r.accuracy:.1f} % (sd {r.sd:.1f})')}; "
            "the other checks are read against these numbers."
        )
    unexpected = rows[rows.verdict == "unexpected"]
    odd = ", ".join(f"{r.model} {r.split}" for r in unexpected.itertuples())
    if check == "placebo":
        numbers = listing(lambda r: f"{r.accuracy:.1f} %")
        if unexpected.empty:
            return (
                f"{TITLES[check]}: accuracy {numbers}, all within tolerance of 50 % chance — as expected: "
                "the models learn nothing from shuffled labels, so no label leaks into the evaluation."
            )
        return (
            f"{TITLES[check]}: accuracy {numbers} — unexpected for {odd}, beyond tolerance of 50 % chance: "
            "look for the real labels leaking into training, the checkpoint choice or the evaluation."
        )
    numbers = listing(lambda r: f"{r.difference:+.1f}")
    if check == "random_feature":
        if unexpected.empty:
            return (
                f"{TITLES[check]}: accuracy moved by {numbers} points against the reference, within seed "
                "noise — as expected: the models ignore a feature unrelated to the labels."
            )
        return (
            f"{TITLES[check]}: accuracy moved by {numbers} points — unexpected for {odd}, more than seed "
            "noise: the models react to an input that carries no signal, so differences of this size "
            "elsewhere are not to be trusted."
        )
    title = f"Half data ({train_pairs // 2} of {train_pairs} training pairs, a seeded half)"
    if unexpected.empty:
        return (
            f"{title}: accuracy changed by {numbers} points — as expected, at most a "
            "small drop: the full training set is comfortably enough at this size."
        )
    gained = (unexpected.difference > 0).any()
    why = (
        "less data did clearly better, which points to unstable training rather than a data limit"
        if gained
        else "a drop this large means the full training set was barely enough and the results are data-limited"
    )
    return f"{title}: accuracy changed by {numbers} points — unexpected for {odd}: {why}."


def _from_the_full_sweep(kind: str, spec, rho: float, cache) -> Sweep | None:
    """The rows at `rho` of the spec's own sweep when the result cache holds it: each cell draws
    its data from its own (seed, rho), so they are the reference models a one-rho run trains."""
    if spec.check != "none" or not any(math.isclose(rho, r) for r in spec.rhos):
        return None
    full = load_cached(kind, spec, cache if cache is not None else ResultCache())
    if full is None:
        return None

    def at(frame: pd.DataFrame) -> pd.DataFrame:
        rows = frame[[math.isclose(r, rho) for r in frame["rho"].astype(float)]] if "rho" in frame else frame
        return rows.reset_index(drop=True)

    return Sweep(results=at(full.results), details={name: at(frame) for name, frame in full.details.items()})


def run_sanity_checks(kind: str, spec, rho: float, cache=None, progress=None) -> SanityReport:
    """Run the four variants of `spec` at training rho `rho` (its seeds and models), through
    the result cache, and judge each check against the reference (rules: module docstring).

    `progress(done, total, message)` is passed on to each variant's sweep, with done/total
    counted over all four variants.
    """
    if kind not in REPORT_SPLITS:
        raise CausalPrefError(f"unknown experiment {kind!r}; choose from {list(REPORT_SPLITS)}")
    if not isinstance(spec, SPEC_TYPES[kind]):
        raise CausalPrefError(f"{kind} needs a {SPEC_TYPES[kind].__name__}, got {type(spec).__name__}")
    started = time.perf_counter()
    sweeps, cached = {}, {}
    for i, check in enumerate(CHECK_ORDER):
        variant = replace(spec, rhos=(rho,), check=check)  # the spec validates rho
        if check == "none":
            found = _from_the_full_sweep(kind, spec, rho, cache)
            if found is not None:  # the reference models are the spec's own, trained already
                sweeps[check], cached[check] = found, True
                continue

        def step(done, total, message, i=i, check=check):
            if progress is not None:
                progress(i * total + done, len(CHECK_ORDER) * total, f"{check}: {message}")

        sweeps[check], cached[check] = run_cached(kind, variant, cache, progress=step)
    models = tuple(variant_name(m, spec.weighting) for m in spec.models)
    table = _judge(_per_seed(kind, sweeps, models))
    train_pairs = spec.sizes.train
    readings = {check: _reading(check, table[table.check == check], train_pairs) for check in CHECK_ORDER}
    return SanityReport(
        kind=kind,
        world=spec.world.name,
        rho=float(rho),
        seeds=tuple(spec.seeds),
        models=models,
        train_pairs=train_pairs,
        table=table,
        readings=readings,
        cached=cached,
        seconds=time.perf_counter() - started,
    )


def format_sanity(report: SanityReport) -> str:
    """The report as text for the CLI: the table, the rules, then one reading per check."""
    seeds = f"{len(report.seeds)} seed{'s' if len(report.seeds) != 1 else ''}"
    lines = [
        f"Sanity checks — {report.kind} on {report.world}, training rho = {report.rho:g}, {seeds}, "
        f"models {', '.join(report.models)}",
        f"  {'check':<15}{'model':<13}{'split':<14}{'acc %':>7}{'sd':>6}{'vs none':>9}{'tol':>6}"
        f"  {'expected':<15}verdict",
    ]
    for r in report.table.itertuples():
        difference = "" if r.check == "none" else f"{r.difference:+.1f}"
        tolerance = "" if r.check == "none" else f"{r.tolerance:.1f}"
        lines.append(
            f"  {r.check:<15}{r.model:<13}{r.split:<14}{r.accuracy:7.1f}{r.sd:6.1f}{difference:>9}"
            f"{tolerance:>6}  {r.expected:<15}{r.verdict}"
        )
    lines += [
        "  tol = 3 standard errors of the mean over seeds (seed SD floored at 3 points for placebo, 2 for"
        " a difference); as expected: placebo |acc - 50| <= tol, random feature |vs none| <= tol,"
        " half data -(5 + tol) <= vs none <= tol",
        "",
    ]
    lines += [f"- {report.readings[check]}" for check in CHECK_ORDER]
    return "\n".join(lines)
