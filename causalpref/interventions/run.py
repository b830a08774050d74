"""Train every strategy x budget x seed of an InterventionSpec: one stacked sweep in waves.

1. Plan each seed (plan.py): its base set, test sets and reference set, and every
   non-active strategy's extra pairs, the same base and tests for every strategy.
2. Train in waves. Wave 1: the base set alone (budget 0, one model per seed, shared by every
   strategy) and the references. Active querying then asks for its pairs in `rounds` rounds:
   each round's pairs are the smallest-|margin| pool pairs under the model of the round
   before, and the model is retrained on base + everything asked so far (the next wave).
   Every other strategy's models wait for the last wave, so that models of equal training-set
   size train together. Within a wave, models of one architecture and one training-set size
   train as one stack (train/stacked.py); each model's seed fixes its initial weights and
   batch order, so a seed's models start from the same weights whatever the strategy.
3. Evaluate each final model on its seed's test sets: the plain sweep's rows, plus the
   strategy and the budget.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from causalpref.data.pairs import PairSet, concat_pairs
from causalpref.device import resolve_device
from causalpref.errors import CausalPrefError
from causalpref.interventions.plan import SeedPlan, check, plan_seed
from causalpref.interventions.spec import InterventionSpec
from causalpref.interventions.strategies import REFERENCES, REMEDY, REWEIGHTING, RHO0
from causalpref.models import build_model
from causalpref.run import backends
from causalpref.run.cache import ResultCache, spec_key
from causalpref.run.cached import store_tables, train_once
from causalpref.run.cells import Cell
from causalpref.run.sweep import EXPERIMENTS, RESULT_COLUMNS, Progress, Sweep, evaluate
from causalpref.stats import CHANCE
from causalpref.train.loop import reward_margins, train_reward_model
from causalpref.train.ragged import train_ragged
from causalpref.train.stacked import train_reward_models
from causalpref.train.weighting import apply_weighting
from causalpref.variants import variant_name

BASE = "base"  # the budget-0 model's own name before its rows are copied to every strategy
COLUMNS = ["strategy", "budget"] + RESULT_COLUMNS
TABLES = ("results", "added", "base", "history")


@dataclass
class Job:
    """One model to train: on `train`, selected on `val`; `final` models give result rows."""

    strategy: str
    budget: int
    seed: int
    arch: str
    weighting: str
    train: PairSet
    val: PairSet
    added: PairSet | None = None
    added_round: np.ndarray | None = None  # per added pair: the round it was asked for in (1 if not active)
    final: bool = True


@dataclass
class ActiveRun:
    """One active-querying trajectory: a seed, an architecture and a budget."""

    seed: int
    arch: str
    budget: int
    portions: list[int]  # pairs asked for per round
    picked: list[np.ndarray]  # pool indices asked for so far, per round


def portions(budget: int, rounds: int) -> list[int]:
    """The budget split into `rounds` near-equal rounds (rounds of 0 pairs dropped)."""
    return [len(p) for p in np.array_split(np.arange(budget), rounds) if len(p)]


def _joined(base: PairSet, extra: PairSet | None, name: str) -> PairSet:
    return base if extra is None else concat_pairs([base, extra], name=name)


def position_rows(pairs: PairSet, experiment: str) -> dict[str, np.ndarray]:
    """Where pairs sit in the latent picture: (d1, d2) or (prompt type, objective), and the label."""
    if experiment == "exp1":
        return {"d1": pairs.factor_diffs[:, 0], "d2": pairs.factor_diffs[:, 1], "label": pairs.label}
    return {"prompt_type": pairs.prompt_type, "objective": pairs.objective, "label": pairs.label}


def run_interventions(spec: InterventionSpec, progress: Progress | None = None, sequential: bool = False) -> Sweep:
    """Train and evaluate every strategy x budget x seed (x architecture) of `spec`.
    `sequential` trains one model after another with the plain loop (the benchmark's baseline)."""
    check(spec)
    base = spec.base
    device = resolve_device(base.device)
    experiment = EXPERIMENTS[spec.experiment](base, device)
    plans = {}
    for seed in base.seeds:
        if progress is not None:
            progress(0, 1, f"drawing the pairs of seed {seed}")
        plans[seed] = plan_seed(experiment, spec, seed)
    first, last, active = _first_jobs(spec, plans)
    total = len(first) + len(last) + sum(len(run.portions) for run in active)
    out = _Collector(spec, experiment, device, plans)
    done, wave, previous, memo = 0, first, {}, {}  # memo: the base models' margins, shared by round 1
    for _ in range(max((len(run.portions) for run in active), default=0) + 1):  # a wave per round
        asked = [next_active_job(run, previous, plans, spec, experiment, device, memo) for run in active]
        wave = wave + [job for job in asked if job is not None]
        if not any(len(run.picked) < len(run.portions) for run in active):
            wave, last = wave + last, []  # nothing more to wait for: train the rest with this wave
        trained = _train_wave(wave, spec, device, sequential, progress, done, total)
        done += len(wave)
        previous = {}
        for job, result in zip(wave, trained):
            if job.strategy in ("active", BASE):  # the models the next round asks with
                previous[job.seed, job.arch, job.budget if job.strategy == "active" else BASE] = result.model
            if job.final:
                out.add(job, result)
        wave = []
    return out.sweep()


def _first_jobs(spec, plans: dict[int, SeedPlan]):
    """(first wave, last wave, active runs): base and references first, the rest last."""
    base = spec.base
    first, last, active = [], [], []
    for arch in base.models:
        for seed, plan in plans.items():
            train, val = plan.cell.train, plan.cell.val
            first.append(Job(BASE, 0, seed, arch, base.weighting, train, val))
            first.append(Job(REWEIGHTING, 0, seed, arch, REMEDY[spec.experiment], train, val))
            first.append(Job(RHO0, 0, seed, arch, base.weighting, plan.reference, val))
            for (name, budget), extra in plan.extras.items():
                joined = _joined(train, extra.pairs, "train+extra")
                last.append(Job(name, budget, seed, arch, base.weighting, joined, val, extra.pairs))
            if "active" in spec.strategies:
                active += [
                    ActiveRun(seed, arch, budget, portions(budget, spec.rounds), [])
                    for budget in spec.budgets
                    if budget > 0
                ]
    return first, last, active


def next_active_job(run: ActiveRun, models: dict, plans, spec, experiment, device, memo=None) -> Job | None:
    """The next round's job of an active run, once the model of the round before is trained
    (the base model for round 1): it asks for the pairs that model is least sure about.
    `memo` keeps round 1's margins: every budget of a seed asks the same base model first."""
    if len(run.picked) >= len(run.portions):
        return None
    model = models.get((run.seed, run.arch, run.budget if run.picked else BASE))
    if model is None:
        return None
    plan = plans[run.seed]
    allowed = plan.allowed.copy()
    for indices in run.picked:
        allowed[indices] = False
    candidates = np.flatnonzero(allowed)
    key = (run.seed, run.arch) if not run.picked and memo is not None else None
    margins = memo.get(key) if key is not None else None
    if margins is None:
        margins = reward_margins(model, experiment.pool.pairs(candidates, name="candidates"), device)
        if key is not None:
            memo[key] = margins
    chosen = candidates[least_sure(margins, run.portions[len(run.picked)])]
    run.picked.append(np.sort(chosen))
    added = experiment.pool.pairs(np.concatenate(run.picked), name="active")
    rounds = np.concatenate([np.full(len(p), r + 1) for r, p in enumerate(run.picked)])
    final = len(run.picked) == len(run.portions)
    train = _joined(plan.cell.train, added, "train+active")
    return Job("active", run.budget, run.seed, run.arch, spec.base.weighting, train, plan.cell.val, added,
               added_round=rounds, final=final)  # fmt: skip


def least_sure(margins: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k smallest |margin| (ties in index order: deterministic)."""
    return np.argsort(np.abs(margins), kind="stable")[:k]


# Same-size stacks smaller than this are merged, per architecture, into one ragged stack
# (train/ragged.py): a few small models per step are bound by per-step overhead, which one
# larger stack shares; larger same-size stacks stay apart (padding would cost more).
RAGGED_BELOW = 8


def _train_wave(jobs, spec, device, sequential, progress, done, total):
    """Train a wave's models: one stack per (architecture, training-set size), small ones merged."""
    base = spec.base
    results = [None] * len(jobs)
    groups: dict[tuple[str, int], list[int]] = {}
    for i, job in enumerate(jobs):
        groups.setdefault((job.arch, len(job.train)), []).append(i)
    stacks: dict[tuple[str, int | None], list[int]] = {}
    for (arch, size), members in groups.items():
        small = len(members) < RAGGED_BELOW and not sequential
        stacks.setdefault((arch, None if small else size), []).extend(members)
    for (arch, size), members in stacks.items():
        weighted = [apply_weighting(jobs[i].weighting, jobs[i].train, jobs[i].seed)[0] for i in members]
        if any(w.weight is not None for w in weighted):  # a stack needs weights on all or none:
            weighted = [w if w.weight is not None else replace(w, weight=np.ones(len(w), np.float32)) for w in weighted]
        models = [
            build_model(arch, weighted[0].dim, base.model, jobs[i].seed, base.params_of(arch), base.uses_objective)
            for i in members
        ]
        seeds = [jobs[i].seed for i in members]
        vals = [jobs[i].val for i in members]
        if sequential:
            trained = [
                train_reward_model(m, t, v, base.train, s, device) for m, t, v, s in zip(models, weighted, vals, seeds)
            ]
        elif size is None and len({len(w) for w in weighted}) > 1 and not models[0].plays_game:
            trained = train_ragged(models, weighted, vals, base.train, seeds, device)
        else:
            trained = []
            for part in _by_size(weighted):  # a game-playing architecture: same-size stacks only
                trained_part = train_reward_models(
                    [models[j] for j in part], [weighted[j] for j in part], [vals[j] for j in part],
                    base.train, [seeds[j] for j in part], device,
                )  # fmt: skip
                trained += list(zip(part, trained_part))
            trained = [result for _, result in sorted(trained, key=lambda pair: pair[0])]
        for i, result in zip(members, trained):
            results[i] = result
        done += len(members)
        if progress is not None:
            what = f"{size:,} pairs" if size is not None else "sets of several sizes"
            progress(done, total, f"{len(members)} {arch} models on {what}")
    return results


def _by_size(sets) -> list[list[int]]:
    parts: dict[int, list[int]] = {}
    for j, pairs in enumerate(sets):
        parts.setdefault(len(pairs), []).append(j)
    return list(parts.values())


class _Collector:
    """Result rows and detail tables of the final models, in a fixed order."""

    def __init__(self, spec, experiment, device, plans):
        self.spec, self.experiment, self.device, self.plans = spec, experiment, device, plans
        self.rows, self.added, self.history = [], [], []

    def add(self, job: Job, result) -> None:
        spec, base = self.spec, self.spec.base
        cell = self.plans[job.seed].cell
        evaluated = Cell(
            train=job.train, val=job.val, evaluate={k: v for k, v in cell.evaluate.items() if not k.startswith("train")}
        )
        common = {
            "experiment": spec.experiment,
            "world": getattr(base.world, "description", base.world.name),
            "model": variant_name(job.arch, job.weighting),
            "rho": spec.rho,
            "seed": int(job.seed),
            "architecture": job.arch,
            "weighting": job.weighting,
            "chance": CHANCE,
            "best_epoch": result.best_epoch,
        }
        rows = evaluate(
            result.model, evaluated, common, self.experiment.spurious, job.arch, self.device,
            by_cell=getattr(self.experiment, "by_cell", ()),
        )  # fmt: skip
        names = spec.strategies if job.strategy == BASE else (job.strategy,)
        for name in names:  # the base model is every strategy's budget 0
            self.rows += [{"strategy": name, "budget": job.budget, **row} for row in rows]
            key = {"strategy": name, "budget": job.budget, "seed": int(job.seed), "model": common["model"]}
            self.history += [{**key, **record} for record in result.history]
        if job.added is not None:
            n = len(job.added)
            rounds = job.added_round if job.added_round is not None else np.ones(n, dtype=np.int64)
            key = {"strategy": job.strategy, "budget": job.budget, "seed": int(job.seed), "model": common["model"]}
            positions = position_rows(job.added, spec.experiment)
            self.added.append(pd.DataFrame({**{k: [v] * n for k, v in key.items()}, "round": rounds, **positions}))

    def sweep(self) -> Sweep:
        order = {name: i for i, name in enumerate(self.spec.strategies + REFERENCES)}
        results = pd.DataFrame(self.rows, columns=COLUMNS)
        results = results.sort_values(
            ["strategy", "budget", "seed", "model"], key=lambda c: c.map(order) if c.name == "strategy" else c,
            kind="stable",
        ).reset_index(drop=True)  # fmt: skip
        history = pd.DataFrame(self.history)
        history = history.sort_values(
            ["strategy", "budget", "seed", "model", "epoch"], key=lambda c: c.map(order) if c.name == "strategy" else c,
            kind="stable",
        ).reset_index(drop=True)  # fmt: skip
        added = pd.concat(self.added, ignore_index=True) if self.added else pd.DataFrame()
        if not added.empty:
            added = added.sort_values(
                ["strategy", "budget", "seed", "model"], key=lambda c: c.map(order) if c.name == "strategy" else c,
                kind="stable",
            ).reset_index(drop=True)  # fmt: skip
        base = pd.concat(
            [
                pd.DataFrame({"seed": seed, **position_rows(plan.cell.train, self.spec.experiment)})
                for seed, plan in self.plans.items()
            ],
            ignore_index=True,
        )
        return Sweep(results=results, details={"added": added, "base": base, "history": history})


# ---------------------------------------------------------------- through the result cache


def _keys(spec: InterventionSpec) -> dict[str, str]:
    """One key per table: the full spec with the device type it trains on (this backend's) in
    place of 'auto'; the backend itself is not in the key (both give the same rows)."""
    keyed = replace(spec, base=replace(spec.base, device=backends.device_type(spec.base)))
    return {table: spec_key(f"interventions/{table}", keyed) for table in TABLES}


def load_cached(spec: InterventionSpec, cache: ResultCache) -> Sweep | None:
    """The cached sweep, or None unless every one of its tables is there."""
    if not cache.enabled:
        return None
    frames = {}
    for table, key in _keys(spec).items():
        frame = cache.load(key)
        if frame is None:
            return None
        frames[table] = frame
    return Sweep(results=frames.pop("results"), details=frames)


def check_intervention_memory(spec: InterventionSpec, available: int | None = None) -> None:
    """One line before anything is drawn when the sweep's models and pairs will not fit: every
    strategy x budget x seed trains at once, each on the base set and its largest budget."""
    from causalpref.run.memory import check_memory
    from causalpref.run.progress import _dim

    models = len(spec.strategies) * len(spec.budgets) * len(spec.base.seeds) * len(spec.base.models)
    check_memory(spec.base, _dim(spec.base.world), max(1, models), available)


def _execute(spec: InterventionSpec, progress: Progress | None) -> Sweep:
    """The sweep on the chosen backend (run/backends.py): in this process, or as one Ray task."""
    choice = backends.current()
    if choice.name == "local":
        return run_interventions(spec, progress=progress)
    from causalpref.run import ray_backend

    return ray_backend.run_interventions_on_ray(spec, progress, choice)


def run_interventions_cached(
    spec: InterventionSpec, cache: ResultCache | None = None, progress: Progress | None = None
) -> tuple[Sweep, bool]:
    """(sweep, was_cached): load the sweep of `spec`, or run it and store every table. Asked for
    by several sessions (or the app and a CLI run on one cache), it trains once (run/flight.py)."""
    if not isinstance(spec, InterventionSpec):
        raise CausalPrefError(f"run_interventions_cached needs an InterventionSpec, got {type(spec).__name__}")
    if backends.current().name == "local":  # a Ray task checks its worker's memory
        check_intervention_memory(spec)
    cache = cache if cache is not None else ResultCache()
    return train_once(
        cache,
        _keys(spec)["results"],
        lambda: load_cached(spec, cache),
        lambda progress_: _execute(spec, progress_),
        lambda sweep: store_tables("interventions", spec, sweep, cache, _keys(spec)),
        progress,
    )
