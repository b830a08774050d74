"""Declarative experiment specs -> tidy results.

A spec (a frozen dataclass) says everything that decides the numbers: the world, the
target correlations, the seeds, the split sizes, the model and the optimiser. Running it
gives one tidy table (one row per model x rho x seed x split) that the CLI prints and the
app plots. Same spec, same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch

from causalpref.device import resolve_device
from causalpref.errors import CausalPrefError
from causalpref.eval.metrics import (CHANCE, mean_margin, non_dominant_factor, oracle_accuracy,
                      pairwise_accuracy, spurious_accuracy)
from causalpref.draw.consistency import draw_objective_splits
from causalpref.models.architectures import MODEL_NAMES, ModelConfig, build_model
from causalpref.data.pairs import PairSet
from causalpref.draw.correlation import CorrelationSplits, draw_correlation_splits, pearson, sample_with_target_rho
from causalpref.train.loop import TrainConfig, discriminator_accuracy, reward_margins, train_reward_model
from causalpref.eval.diagnostics import (add_random_feature, half_subset, label_shuffle, reward_factor_correlations,
                          reweighting_target_balanced)
from causalpref.eval.propensity import cross_fitted_propensity, inverse_propensity_weights
from causalpref.eval.inspect import boundary_probe, boundary_rows, history_rows, implied_weight_rows, latent_rows
from causalpref.data.pairs import concat_pairs
from causalpref.train.stacked import train_reward_models
from causalpref.data.worlds import CorrelatedFactorsWorld, UserObjectivesWorld
from causalpref.data.worlds.real import group_split

RESULT_COLUMNS = ["experiment", "world", "model", "rho", "seed", "split", "accuracy", "n",
                  "rho_achieved", "margin", "oracle_accuracy", "spurious_accuracy", "chance",
                  "best_epoch"]
# "reweighted" is the Base model trained with importance weights (diagnostics.py,
# propensity.py): balanced quadrants in Experiment 1, inverse propensity in Experiment 2.
REWEIGHTED = "reweighted"
EXP1_MODELS = ("base", REWEIGHTED)
EXP2_MODELS = MODEL_NAMES + (REWEIGHTED,)
# The Correlation-shift slider's grid: the interactive sweep trains every value of it.
INTERACTIVE_RHOS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
# Sanity checks a spec can run instead of the plain experiment (see `apply_check`, sanity.py).
CHECKS = ("none", "placebo", "random_feature", "half_data")
FACTOR_COLUMNS = ["model", "rho", "seed", "factor", "correlation", "true_correlation"]


def _validate_check(check) -> None:
    if check not in CHECKS:
        raise CausalPrefError(f"check must be one of {list(CHECKS)}, got {check!r}")


@dataclass(frozen=True)
class SplitSizes:
    train: int = 2000
    val: int = 500
    id: int = 2000
    ood: int = 2000

    def as_dict(self) -> dict[str, int]:
        return {"train": self.train, "val": self.val, "id": self.id, "ood": self.ood}

    def total_pairs(self) -> int:
        return self.train + self.val + self.id + self.ood


@dataclass(frozen=True)
class Exp1Spec:
    """Experiment 1: limited latent positivity (correlated causal factors)."""
    world: CorrelatedFactorsWorld = field(default_factory=CorrelatedFactorsWorld)
    rhos: tuple[float, ...] = (0.0, 0.3, 0.6, 0.9)
    seeds: tuple[int, ...] = (0, 1, 2)
    sizes: SplitSizes = field(default_factory=SplitSizes)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(hidden=64, latent=16))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=1e-3, epochs=10, batch_size=64))
    models: tuple[str, ...] = ("base",)
    device: str = "auto"
    check: str = "none"        # a sanity check instead of the plain run: see CHECKS

    def __post_init__(self):
        _validate_check(self.check)
        for rho in self.rhos:
            if not (isinstance(rho, (int, float)) and np.isfinite(rho) and -1 <= rho <= 1):
                raise CausalPrefError(f"rho must be a number in [-1, 1], got {rho!r}")
        if not self.rhos:
            raise CausalPrefError("at least one rho is needed")
        if not self.seeds:
            raise CausalPrefError("at least one seed is needed")
        unknown = [m for m in self.models if m not in EXP1_MODELS]
        if unknown:
            raise CausalPrefError(f"unknown model(s) {unknown} for exp1; choose from {list(EXP1_MODELS)}")

    @classmethod
    def paper_size(cls, **changes) -> "Exp1Spec":
        """The paper's sizes: 15k/2k/15k/15k pairs, d = 4096, hidden 512, latent 64, Adam 1e-4."""
        spec = cls(
            world=CorrelatedFactorsWorld(dim=4096, pool_size=250_000),
            sizes=SplitSizes(train=15_000, val=2_000, id=15_000, ood=15_000),
            model=ModelConfig(hidden=512, latent=64),
            train=TrainConfig(lr=1e-4, epochs=10, batch_size=64),
        )
        return replace(spec, **changes)


def _cell_seed(spec_seed: int, rho: float) -> int:
    """One data seed per (seed, rho) cell, so every cell draws its own splits."""
    return int(np.random.SeedSequence([spec_seed, int(round((rho + 1) * 1000))]).generate_state(1)[0])


def draw_exp1_splits(pool, spec_seed: int, rho: float, sizes: SplitSizes):
    """The four splits of one (rho, seed) cell, drawn from the pool's first two factors.

    Pools with groups (real data: pairs of answers to one question) are split by group
    first — 60 % of the groups for training, 10 % for validation, 30 % for the tests — so
    that no question is seen in training and tested on."""
    d1, d2 = (pool.diffs(name) for name in pool.world.factor_names[:2])
    seed = _cell_seed(spec_seed, rho)
    group = getattr(pool, "group", None)
    if group is None:
        return draw_correlation_splits(d1, d2, sizes.as_dict(), rho, seed)
    parts = group_split(group, {"train": 0.6, "val": 0.1, "test": 0.3}, seed)
    indices, achieved = {}, {}
    split_seeds = np.random.SeedSequence(seed).spawn(4)
    for name, part, split_seed in (("train", "train", split_seeds[0]), ("val", "val", split_seeds[1]),
                                   ("id", "test", split_seeds[2])):
        try:
            draw = sample_with_target_rho(d1, d2, getattr(sizes, name), rho, split_seed, available=parts[part])
        except CausalPrefError as error:
            raise CausalPrefError(f"split {name!r} (drawn from {part} questions): {error}") from None
        indices[name], achieved[name] = draw.indices, draw.achieved_rho
    left = parts["test"] & (d1 * d2 < 0)
    left[indices["id"]] = False
    candidates = np.flatnonzero(left)
    if candidates.size < sizes.ood:
        raise CausalPrefError(f"split 'ood': cannot draw n={sizes.ood} pairs with d1*d2 < 0 from the test "
                              f"questions: only {candidates.size} remain")
    ood = np.sort(np.random.default_rng(split_seeds[3]).choice(candidates, sizes.ood, replace=False))
    indices["ood"], achieved["ood"] = ood, pearson(d1[ood], d2[ood])
    return CorrelationSplits(indices=indices, achieved_rho=achieved, target_rho=float(rho))


@dataclass
class _Cell:
    """The data of one (rho, seed) cell: what to train on and what to evaluate on."""
    train: PairSet
    val: PairSet
    evaluate: dict[str, tuple[PairSet, float]]   # split name -> (pairs, achieved rho)


def _sanity_seed(cell_seed: int, check: str, split: str) -> int:
    """One seed per (cell, check, split): a check's draws are reproducible and differ by split."""
    entropy = [cell_seed, CHECKS.index(check)] + list(split.encode())
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def with_random_feature(pairs: PairSet, seed: int) -> PairSet:
    """The pairs with one N(0, 1) column appended to emb_a and emb_b (independent draws)."""
    a_seed, b_seed = np.random.SeedSequence(seed).generate_state(2)
    return replace(pairs, emb_a=add_random_feature(pairs.emb_a, int(a_seed)),
                   emb_b=add_random_feature(pairs.emb_b, int(b_seed)))


def apply_check(cell: _Cell, check: str, cell_seed: int) -> _Cell:
    """The cell as a sanity check sees it ('none' returns the cell itself).

    placebo: the training and validation labels shuffled (all the supervision, so the
      best-validation checkpoint cannot pick up the real labels); evaluation keeps the real
      labels, so accuracy there should be at chance.
    random_feature: one N(0, 1) column added to the embeddings of every split.
    half_data: a seeded half of the training pairs; validation and test unchanged.
    A split met twice (Experiment 1 also evaluates on its train and val sets) is changed
    once, so it is evaluated as it was trained on — except under placebo, where evaluation
    means the real labels. Experiment 2's train_consistent / train_inconsistent rows stay
    subsets of the full training set.
    """
    _validate_check(check)
    if check == "none":
        return cell
    changed: dict[int, PairSet] = {}

    def change(pairs: PairSet, split: str) -> PairSet:
        if id(pairs) not in changed:
            seed = _sanity_seed(cell_seed, check, split)
            if check == "placebo":
                changed[id(pairs)] = replace(pairs, label=label_shuffle(pairs.label, seed))
            elif check == "random_feature":
                changed[id(pairs)] = with_random_feature(pairs, seed)
            else:
                changed[id(pairs)] = pairs.subset(half_subset(len(pairs), seed))
        return changed[id(pairs)]

    train = change(cell.train, "train")
    val = cell.val if check == "half_data" else change(cell.val, "val")
    evaluate = dict(cell.evaluate)
    if check != "placebo":
        for name, (pairs, achieved) in cell.evaluate.items():
            if check == "random_feature" or id(pairs) in changed:
                evaluate[name] = (change(pairs, name), achieved)
    return _Cell(train=train, val=val, evaluate=evaluate)


def factor_rows(model, pairs: PairSet, device) -> list[dict]:
    """ODIN's spurious-reliance read-out: corr(reward margin, factor difference) per factor,
    beside the same correlation of the world's true reward margin (NaN when unknown).

    The reference matters: on pairs whose causal factors disagree (the OOD split) even the
    true reward correlates negatively with the lighter causal factor. A nuisance factor's
    reference is about 0, so any clear correlation there is reliance on it. No rows when the
    pairs carry no named factor differences (real objective data)."""
    if pairs.factor_diffs is None or not pairs.factor_names:
        return []
    margin = reward_margins(model, pairs, device)
    frame = reward_factor_correlations(margin, pairs.factor_diffs, pairs.factor_names)
    truth = pairs.true_margin
    return [{"factor": name, "correlation": float(c),
             "true_correlation": float("nan") if truth is None else pearson(truth, pairs.factor_diffs[:, j])}
            for j, (name, c) in enumerate(zip(frame["factor"], frame["correlation"]))]


@dataclass
class Sweep:
    """What a sweep produces: the tidy results and the detail tables the dashboard draws.

    details: 'history' (per epoch: train_loss, val_accuracy) and 'factors' (correlation of
    the reward margin with each factor difference on the OOD / inconsistent test pairs;
    empty when the world names no factors) always; Experiment 1 adds 'boundary' (P(a
    preferred) over the (d1, d2) plane) and 'implied' (a_hat per model); Experiment 2 adds
    'latent' (2-D PCA of z_hat on test responses); the reweighted model adds 'weights'.
    Every detail row carries model, rho and seed.
    """
    results: pd.DataFrame
    details: dict[str, pd.DataFrame] = field(default_factory=dict)


def merge_sweeps(sweeps) -> Sweep:
    """One sweep of the results and detail tables of several (one per architecture)."""
    sweeps = list(sweeps)
    if not sweeps:
        raise CausalPrefError("no sweep to merge")
    names = {name for sweep in sweeps for name in sweep.details}
    return Sweep(results=pd.concat([s.results for s in sweeps], ignore_index=True),
                 details={name: pd.concat([s.details[name] for s in sweeps if name in s.details], ignore_index=True)
                          for name in sorted(names)})


def _cells_per_chunk(spec, device) -> int:
    """How many (rho, seed) cells to hold and train at once: bounded by a memory budget.

    A cell's pairs take (pairs x 2 x d x 4) bytes; CPUs get 3 GiB, a CUDA device half of
    its free memory. The paper's sizes on a CPU train a cell or two at a time.
    """
    cell_bytes = spec.sizes.total_pairs() * 2 * spec.world.dim * 4
    if device.type == "cuda":
        budget = torch.cuda.mem_get_info(device)[0] // 2
    else:
        budget = 3 * 2 ** 30
    return max(1, int(budget // max(cell_bytes, 1)))


def _sweep(spec, experiment: str, world, make_cell, spurious, uses_objective: bool, progress,
           sequential: bool = False, inspectors: dict | None = None, weigh=None) -> Sweep:
    """Train every (rho, seed, model) of a spec, many models at once, and return the tidy rows.

    Rows come out in (rho, seed, model) order whatever the chunking. `sequential` trains
    one model after another with the plain loop instead (the benchmarks' baseline).
    `spec.check` turns each cell into a sanity check's version of it (`apply_check`).
    """
    device = resolve_device(spec.device)
    cells = [(rho, seed) for rho in spec.rhos for seed in spec.seeds]
    chunk = 1 if sequential else _cells_per_chunk(spec, device)
    rows_of: dict[tuple[int, int], list[dict]] = {}
    inspectors = {"history": lambda model, cell, result: history_rows(result.history), **(inspectors or {})}
    detail_rows: dict[str, dict[tuple[int, int], list[dict]]] = {name: {} for name in inspectors}
    if REWEIGHTED in spec.models:
        detail_rows["weights"] = {}
    total, done = len(cells) * len(spec.models), 0
    for first in range(0, len(cells), chunk):
        part = list(enumerate(cells))[first:first + chunk]
        data = [apply_check(make_cell(rho, seed), spec.check, _cell_seed(seed, rho)) for _, (rho, seed) in part]
        dim = data[0].train.dim        # world.dim, plus one under the random-feature check
        for m, model_name in enumerate(spec.models):
            architecture = "base" if model_name == REWEIGHTED else model_name
            models = [build_model(architecture, dim, spec.model, seed, uses_objective=uses_objective)
                      for _, (_, seed) in part]
            seeds = [seed for _, (_, seed) in part]
            trains = [c.train for c in data]
            if model_name == REWEIGHTED:
                weighted = [weigh(c.train, seed) for c, seed in zip(data, seeds)]
                trains = [w for w, _ in weighted]
                for (i, (rho, seed)), (_, ess_share) in zip(part, weighted):
                    detail_rows["weights"][i, m] = [{"model": model_name, "rho": float(rho), "seed": int(seed),
                                                     "ess_share": ess_share}]
            if sequential:
                trained = [train_reward_model(model, t, c.val, spec.train, seed, device)
                           for model, t, c, seed in zip(models, trains, data, seeds)]
            else:
                def on_epoch(epoch, records, done=done, n=len(part), name=model_name):
                    if progress is not None:     # fractional progress inside a chunk
                        progress(done + n * epoch / spec.train.epochs, total, f"{name}: epoch {epoch}")
                trained = train_reward_models(models, trains, [c.val for c in data],
                                              spec.train, seeds, device, on_epoch=on_epoch)
            for (i, (rho, seed)), cell, result in zip(part, data, trained):
                common = {"experiment": experiment, "world": world.name, "model": model_name,
                          "rho": float(rho), "seed": int(seed), "chance": CHANCE,
                          "best_epoch": result.best_epoch}
                rows_of[i, m] = _evaluate(result.model, cell, common, spurious, device)
                key = {"model": model_name, "rho": float(rho), "seed": int(seed)}
                for name, inspect in inspectors.items():
                    detail_rows[name][i, m] = [{**key, **row} for row in inspect(result.model, cell, result)]
            done += len(part)
            if progress is not None:
                rho_text = ", ".join(sorted({f"{rho:g}" for _, (rho, _) in part}))
                progress(done, total, f"{model_name}: rho {rho_text} ({len(part)} models at once)")
    def in_order(by_key):
        return [row for key in sorted(by_key) for row in by_key[key]]

    details = {name: pd.DataFrame(in_order(rows)) for name, rows in detail_rows.items()}
    if "factors" in details and details["factors"].empty:   # a world without factors: keep the columns
        details["factors"] = pd.DataFrame(columns=FACTOR_COLUMNS)
    return Sweep(results=pd.DataFrame(in_order(rows_of), columns=RESULT_COLUMNS), details=details)


def _evaluate(model, cell: _Cell, common: dict, spurious, device) -> list[dict]:
    rows = []
    for split, (pairs, achieved) in cell.evaluate.items():
        margin = reward_margins(model, pairs, device)
        rows.append({**common, "split": split, "n": len(pairs), "rho_achieved": achieved,
                     "accuracy": pairwise_accuracy(margin, pairs.label),
                     "margin": mean_margin(margin, pairs.label),
                     "oracle_accuracy": oracle_accuracy(pairs), "spurious_accuracy": spurious(pairs)})
    for split, pairs in (("train", cell.train), ("val", cell.val)):
        accuracy = discriminator_accuracy(model, pairs, device)
        if accuracy is not None:
            rows.append({**common, "split": f"discriminator_{split}", "n": 2 * len(pairs),
                         "accuracy": accuracy, "chance": CHANCE})
    return rows


def run_exp1(spec: Exp1Spec, progress=None, sequential: bool = False) -> Sweep:
    """Train every (rho, seed) and evaluate on train/val/id/ood.

    `progress(done, total, message)` is called after each trained model.
    """
    world = spec.world
    pool = world.pool()
    spurious_factor = non_dominant_factor(world.factor_names, world.a)

    def make_cell(rho, seed):
        splits = draw_exp1_splits(pool, seed, rho, spec.sizes)
        data = {name: pool.pairs(idx, name=name) for name, idx in splits.indices.items()}
        return _Cell(train=data["train"], val=data["val"],
                     evaluate={name: (data[name], splits.achieved_rho[name]) for name in data})

    device = resolve_device(spec.device)
    inspectors = {
        "implied": lambda model, cell, result: implied_weight_rows(model, cell.evaluate["id"][0], device),
        "factors": lambda model, cell, result: factor_rows(model, cell.evaluate["ood"][0], device),
    }
    if hasattr(world, "probe_pairs"):      # synthetic worlds can embed any (d1, d2): draw the boundary
        probe = boundary_probe(world)
        if spec.check == "random_feature":     # the models read one more input column
            probe = replace(probe, pairs=with_random_feature(probe.pairs, seed=0))
        inspectors["boundary"] = lambda model, cell, result: boundary_rows(model, probe, device)
    def weigh(train, seed):     # remedy: weights that balance the four quadrants of (d1, d2)
        balanced = reweighting_target_balanced(train.factor_diffs[:, 0], train.factor_diffs[:, 1])
        return replace(train, weight=balanced.weights.astype(np.float32)), balanced.ess_share

    return _sweep(spec, "exp1", world, make_cell, lambda pairs: spurious_accuracy(pairs, spurious_factor),
                  uses_objective=False, progress=progress, sequential=sequential, inspectors=inspectors,
                  weigh=weigh)


@dataclass(frozen=True)
class Exp2Sizes:
    train: int = 2000     # equal per objective (paper: 30,000)
    val: int = 500        # same rho (paper: 6,000)
    test: int = 2000      # pairs in each of the consistent and inconsistent test sets

    def as_dict(self) -> dict[str, int]:
        return {"train": self.train, "val": self.val, "test": self.test}

    def total_pairs(self) -> int:
        return self.train + self.val + 2 * self.test


@dataclass(frozen=True)
class Exp2Spec:
    """Experiment 2: confounding by user objectives (prompt type t vs objective c)."""
    world: UserObjectivesWorld = field(default_factory=UserObjectivesWorld)
    rhos: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    sizes: Exp2Sizes = field(default_factory=Exp2Sizes)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(hidden=128, latent=64, head_hidden=64))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=1e-3, epochs=10, batch_size=64))
    models: tuple[str, ...] = MODEL_NAMES
    device: str = "auto"
    check: str = "none"        # a sanity check instead of the plain run: see CHECKS

    def __post_init__(self):
        _validate_check(self.check)
        if not self.rhos:
            raise CausalPrefError("at least one rho is needed")
        for rho in self.rhos:
            if not (isinstance(rho, (int, float)) and np.isfinite(rho) and 0.5 <= rho <= 1):
                raise CausalPrefError(f"consistency rate rho = P(t = c) must be a number in [0.5, 1], got {rho!r}")
        if not self.seeds:
            raise CausalPrefError("at least one seed is needed")
        unknown = [m for m in self.models if m not in EXP2_MODELS]
        if unknown or not self.models:
            raise CausalPrefError(f"unknown model(s) {unknown or '(none given)'} for exp2; "
                                  f"choose from {list(EXP2_MODELS)}")

    @classmethod
    def paper_size(cls, **changes) -> "Exp2Spec":
        """The paper's sizes: 30k train, 6k val, ~46.5k test, d = 4096, hidden 512, z_hat 512, Adam 1e-4."""
        spec = cls(world=UserObjectivesWorld(dim=4096, pool_size=200_000),
                   sizes=Exp2Sizes(train=30_000, val=6_000, test=23_259),
                   model=ModelConfig(hidden=512, latent=512, head_hidden=512),
                   train=TrainConfig(lr=1e-4, epochs=10, batch_size=64))
        return replace(spec, **changes)


def prompt_type_accuracy(pairs: PairSet) -> float | None:
    """Baseline of a model that reads the prompt type instead of the objective it is given:
    it ranks by the factor of objective t (perfect on consistent pairs, the counterfactual
    label's accuracy on inconsistent ones)."""
    if pairs.prompt_type is None or pairs.factor_diffs is None:
        return None
    by_type = np.where(pairs.prompt_type == 0, pairs.factor_diffs[:, 0], pairs.factor_diffs[:, 1])
    return pairwise_accuracy(by_type, pairs.label)


def run_exp2(spec: Exp2Spec, progress=None, sequential: bool = False) -> Sweep:
    """Train every (rho, seed, model); evaluate consistent / inconsistent, train split likewise."""
    world = spec.world
    pool = world.pool()
    if getattr(pool, "prompt_type", None) is None or getattr(pool, "objective", None) is None:
        raise CausalPrefError(f"Experiment 2 needs an objective and a prompt type per pair, and {world.name} "
                              "has none (use relabelled HH-RLHF, or a pair table with objective and prompt_type)")

    def make_cell(rho, seed):
        splits = draw_objective_splits(pool.prompt_type, pool.objective, spec.sizes.as_dict(), rho,
                                       _cell_seed(seed, rho))
        data = {name: pool.pairs(idx, name=name) for name, idx in splits.indices.items()}
        train = data["train"]
        evaluate = {}
        for name, keep in (("train_consistent", train.prompt_type == train.objective),
                           ("train_inconsistent", train.prompt_type != train.objective)):
            if keep.any():          # at rho = 1 there is no inconsistent training pair
                evaluate[name] = (train.subset(np.flatnonzero(keep), name), float(name == "train_consistent"))
        evaluate["val"] = (data["val"], splits.achieved_rho["val"])
        for name in ("consistent", "inconsistent"):
            evaluate[name] = (data[name], splits.achieved_rho[name])
        return _Cell(train=train, val=data["val"], evaluate=evaluate)

    device = resolve_device(spec.device)

    def latent(model, cell, result):
        consistent, inconsistent = cell.evaluate["consistent"][0], cell.evaluate["inconsistent"][0]
        half = np.arange(min(200, len(consistent), len(inconsistent)))
        return latent_rows(model, concat_pairs([consistent.subset(half), inconsistent.subset(half)]), device)

    def weigh(train, seed):     # remedy: inverse-propensity weights 1 / P(c | prompt), cross-fitted
        p = cross_fitted_propensity(train.emb_a, train.objective, seed=seed)
        weights, ess = inverse_propensity_weights(p, train.objective)
        return replace(train, weight=weights.astype(np.float32)), ess / len(train)

    return _sweep(spec, "exp2", world, make_cell, prompt_type_accuracy, uses_objective=True, progress=progress,
                  sequential=sequential, weigh=weigh, inspectors={
                      "latent": latent,
                      "factors": lambda model, cell, result: factor_rows(model, cell.evaluate["inconsistent"][0],
                                                                         device)})
