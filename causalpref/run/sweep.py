"""Train every (rho, seed, model) of a spec and return tidy tables: a straight loop.

For each chunk of (rho, seed) cells that fits in memory:
  1. draw each cell's splits (and apply the spec's sanity check, if any);
  2. for each architecture of the spec: build one seeded model per cell, weight the training
     pairs (the spec's weighting), train the chunk's models together, then evaluate each
     model on its cell's splits and read its detail tables off it.
Rows come out in (rho, seed, model) order whatever the chunking. Same spec, same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd
import torch

from causalpref.device import resolve_device
from causalpref.draw.splits import cell_seed
from causalpref.errors import CausalPrefError
from causalpref.eval.metrics import mean_margin, oracle_accuracy
from causalpref.models import architecture, build_model
from causalpref.run.cells import Cell, apply_check
from causalpref.run.exp1 import CorrelationShift
from causalpref.run.exp2 import UserObjectives
from causalpref.stats import CHANCE, pairwise_accuracy
from causalpref.train.loop import PairTensors, reward_margins, train_reward_model
from causalpref.train.stacked import train_reward_models
from causalpref.train.weighting import apply_weighting
from causalpref.variants import variant_name

EXPERIMENTS = {"exp1": CorrelationShift, "exp2": UserObjectives}
RESULT_COLUMNS = [
    "experiment",
    "world",
    "model",
    "architecture",
    "weighting",
    "rho",
    "seed",
    "split",
    "accuracy",
    "n",
    "rho_achieved",
    "margin",
    "oracle_accuracy",
    "spurious_accuracy",
    "chance",
    "best_epoch",
]
FACTOR_COLUMNS = ["model", "rho", "seed", "factor", "correlation", "true_correlation"]
# progress(done, total, message): `done` counts trained models and may be fractional inside a chunk
Progress = Callable[[float, int, str], None]


@dataclass
class Sweep:
    """What a sweep produces: the tidy results and the detail tables the pages draw.

    results: one row per model x rho x seed x split; 'model' names the architecture and the
    weighting together ("base", "base+ipw"), 'architecture' and 'weighting' apart.
    details: 'history' (per epoch: train_loss, val_accuracy) and 'factors' (correlation of
    the reward margin with each factor difference on the OOD / inconsistent test pairs;
    empty when the world names no factors) always; Experiment 1 adds 'implied' (a_hat) and,
    on worlds that can embed any (d1, d2), 'boundary'; Experiment 2 adds 'latent' (2-D PCA
    of z_hat on test responses) and, when a model plays the adversarial game, 'game' (its
    per-step trace: discriminator accuracy and loss, BTL loss, encoder gradient norms); a weighted spec adds 'weights' (their ESS share).
    Every detail row carries model, rho and seed.
    """

    results: pd.DataFrame
    details: dict[str, pd.DataFrame] = field(default_factory=dict)


def detail_tables(spec) -> tuple[str, ...]:
    """The tables a sweep of this spec produces, 'results' first."""
    weights = ("weights",) if spec.weighting != "none" else ()
    return ("results", "history") + EXPERIMENTS[spec.kind].detail_tables(spec) + weights


def merge_sweeps(sweeps) -> Sweep:
    """One sweep of the results and detail tables of several (one per architecture)."""
    sweeps = list(sweeps)
    if not sweeps:
        raise CausalPrefError("no sweep to merge")
    names = {name for sweep in sweeps for name in sweep.details}
    return Sweep(
        results=pd.concat([s.results for s in sweeps], ignore_index=True),
        details={
            name: pd.concat([s.details[name] for s in sweeps if name in s.details], ignore_index=True)
            for name in sorted(names)
        },
    )


CPU_CHUNK_BYTES = 3 * 2**30


def cells_per_chunk(spec, device) -> int:
    """How many (rho, seed) cells to hold and train at once: bounded by a memory budget.

    A cell's pairs take (pairs x 2 x d x 4) bytes; CPUs get 3 GiB, a CUDA device half of
    its free memory. The paper's sizes on a CPU train a cell or two at a time."""
    cell_bytes = spec.sizes.total_pairs() * 2 * spec.world.dim * 4
    budget = torch.cuda.mem_get_info(device)[0] // 2 if device.type == "cuda" else CPU_CHUNK_BYTES
    return max(1, int(budget // max(cell_bytes, 1)))


def sweep_cells(spec) -> list[tuple[float, int]]:
    """The (rho, seed) cells of a sweep, in the order rows come out."""
    return [(rho, seed) for rho in spec.rhos for seed in spec.seeds]


def chunk_count(spec, per_chunk: int) -> int:
    """How many chunks a sweep of `spec` trains, `per_chunk` cells at a time."""
    return -(-len(sweep_cells(spec)) // per_chunk)


Rows = dict[tuple[int, int], list[dict]]


def run_sweep(spec, progress: Progress | None = None, sequential: bool = False, chunks=None) -> Sweep:
    """Train and evaluate every (rho, seed, model) of `spec`.

    `sequential` trains one model after another with the plain loop instead of stacking
    them (the benchmarks' baseline). `chunks` (a run/chunks.py ChunkStore) keeps each finished
    chunk and supplies the ones an earlier, interrupted run of the same sweep finished."""
    device = resolve_device(spec.device)
    experiment = EXPERIMENTS[spec.kind](spec, device)
    per_chunk = 1 if sequential else cells_per_chunk(spec, device)
    results: Rows = {}
    details: dict[str, Rows] = {t: {} for t in detail_tables(spec)[1:]}
    total, done = len(sweep_cells(spec)) * len(spec.models), 0

    for number in range(chunk_count(spec, per_chunk)):
        kept = chunks.load(number, per_chunk) if chunks is not None else None
        if kept is None:
            kept = run_chunk(spec, number, per_chunk, device, experiment, sequential, progress, done, total)
            if chunks is not None:
                chunks.store(number, per_chunk, *kept)
        # else: finished by an earlier run that was stopped later
        results.update(kept[0])
        for table, rows in kept[1].items():
            details[table].update(rows)
        done += len(chunk_of(spec, number, per_chunk)) * len(spec.models)
    return assemble_sweep(results, details)


def chunk_of(spec, number: int, per_chunk: int) -> list[tuple[int, tuple[float, int]]]:
    """Chunk `number`'s cells as (cell index, (rho, seed))."""
    first = number * per_chunk
    return list(enumerate(sweep_cells(spec)))[first : first + per_chunk]


def assemble_sweep(results: Rows, details: dict[str, Rows]) -> Sweep:
    """The sweep's tables from every chunk's rows, in (rho, seed, model) order."""

    def in_order(by_key):
        return [row for key in sorted(by_key) for row in by_key[key]]

    frames = {table: pd.DataFrame(in_order(rows)) for table, rows in details.items()}
    if frames["factors"].empty:  # a world without factors: keep the columns
        frames["factors"] = pd.DataFrame(columns=FACTOR_COLUMNS)
    return Sweep(results=pd.DataFrame(in_order(results), columns=RESULT_COLUMNS), details=frames)


def run_chunk(
    spec,
    number: int,
    per_chunk: int,
    device,
    experiment=None,
    sequential: bool = False,
    progress: Progress | None = None,
    done: float = 0,
    total: int = 0,
) -> tuple[Rows, dict[str, Rows]]:
    """Train chunk `number` of the sweep (its cells together, one stack per architecture) and
    return its rows: results and detail tables keyed by (cell index, model index). The same
    function runs in-process and on a Ray worker (run/ray_backend.py): same chunk, same rows."""
    experiment = experiment if experiment is not None else EXPERIMENTS[spec.kind](spec, device)
    chunk = chunk_of(spec, number, per_chunk)
    total = total or len(sweep_cells(spec)) * len(spec.models)
    results: Rows = {}
    details: dict[str, Rows] = {t: {} for t in detail_tables(spec)[1:]}
    data = []
    for _, (rho, seed) in chunk:
        data.append(apply_check(experiment.draw(rho, seed), spec.check, cell_seed(seed, rho)))
        if progress is not None:  # drawing can take a while the first time (the pool is built)
            progress(done, total, f"drawing the pairs of ρ = {rho:g}, seed {seed}")
    seeds = [seed for _, (_, seed) in chunk]
    for m, name in enumerate(spec.models):
        model_name = variant_name(name, spec.weighting)
        models = [
            build_model(
                name, data[0].train.dim, spec.model, seed, spec.params_of(name), uses_objective=spec.uses_objective
            )
            for seed in seeds
        ]
        weighted = [apply_weighting(spec.weighting, cell.train, seed) for cell, seed in zip(data, seeds)]
        trains = [train for train, _ in weighted]
        trained = _train(
            models,
            trains,
            [c.val for c in data],
            spec,
            seeds,
            device,
            sequential,
            progress,
            done,
            total,
            model_name,
        )
        for (i, (rho, seed)), cell, result, (_, weights) in zip(chunk, data, trained, weighted):
            key = {"model": model_name, "rho": float(rho), "seed": int(seed)}
            common = {
                "experiment": spec.kind,
                # a data file's world says its mapping and preference rule: runs differ by them
                "world": getattr(spec.world, "description", spec.world.name),
                **key,
                "architecture": name,
                "weighting": spec.weighting,
                "chance": CHANCE,
                "best_epoch": result.best_epoch,
            }
            margins = {}
            results[i, m] = evaluate(
                result.model,
                cell,
                common,
                experiment.spurious,
                name,
                device,
                margins,
                by_cell=getattr(experiment, "by_cell", ()),
            )
            tables = {"history": result.history, **experiment.inspect(result.model, cell, margins)}
            if result.trace:  # an adversarial game's per-step trace
                tables["game"] = result.trace
            if weights is not None:
                tables["weights"] = [{"ess_share": weights.ess_share, "no_op": weights.no_op}]
            for table, rows in tables.items():
                details[table][i, m] = [{**key, **row} for row in rows]
        done += len(chunk)
        if progress is not None:
            rho_text = ", ".join(sorted({f"{rho:g}" for _, (rho, _) in chunk}))
            progress(done, total, f"{model_name}: rho {rho_text} ({len(chunk)} models at once)")
    return results, details


def _train(models, trains, vals, spec, seeds, device, sequential, progress, done, total, name):
    if sequential:
        return [
            train_reward_model(model, train, val, spec.train, seed, device)
            for model, train, val, seed in zip(models, trains, vals, seeds)
        ]

    def on_epoch(epoch, records):  # fractional progress inside a chunk
        if progress is not None:
            progress(done + len(models) * epoch / spec.train.epochs, total, f"{name}: epoch {epoch}")

    return train_reward_models(models, trains, vals, spec.train, seeds, device, on_epoch=on_epoch)


def evaluate(
    model,
    cell: Cell,
    common: dict,
    spurious,
    architecture_name: str,
    device,
    margins: dict | None = None,
    by_cell: tuple[str, ...] = (),
) -> list[dict]:
    """One row per evaluated split, then one per read-out of the architecture and split.
    `margins`, when given, receives the model's margins on each split (for the read-outs);
    the splits named in `by_cell` also get a row per (prompt type t, objective c) cell, named
    e.g. 'inconsistent t=0 c=1', scored from the same margins."""
    rows = []
    margins = {} if margins is None else margins
    for split, (pairs, achieved) in cell.evaluate.items():
        margin = margins[split] = reward_margins(model, pairs, device)
        parts = [(split, np.arange(len(pairs)))]
        if split in by_cell and pairs.prompt_type is not None and pairs.objective is not None:
            for t, c in sorted(set(zip(pairs.prompt_type.tolist(), pairs.objective.tolist()))):
                keep = np.flatnonzero((pairs.prompt_type == t) & (pairs.objective == c))
                parts.append((f"{split} t={t} c={c}", keep))
        for name, keep in parts:
            subset = pairs if len(keep) == len(pairs) else pairs.subset(keep, name)
            rows.append(
                {
                    **common,
                    "split": name,
                    "n": len(subset),
                    "rho_achieved": achieved,
                    "accuracy": pairwise_accuracy(margin[keep], subset.label),
                    "margin": mean_margin(margin[keep], subset.label),
                    "oracle_accuracy": oracle_accuracy(subset),
                    "spurious_accuracy": spurious(subset),
                }
            )
    for readout, read in architecture(architecture_name).readouts.items():
        for split, pairs in (("train", cell.train), ("val", cell.val)):
            if pairs.objective is None:
                continue
            data = PairTensors(pairs, device)
            rows.append(
                {
                    **common,
                    "split": f"{readout}_{split}",
                    "n": 2 * len(pairs),
                    "accuracy": read(model.to(device), data.emb_a, data.emb_b, data.objective),
                }
            )
    return rows
