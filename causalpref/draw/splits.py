"""Which pairs a (rho, seed) cell trains and tests on, for each experiment.

Every cell has its own data seed (`cell_seed`), so different rho draw different splits for
the same spec seed, and the same (rho, seed) draws the same splits in every run.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from causalpref.draw.consistency import _prompt_parts, consistency_counts, draw_objective_splits
from causalpref.draw.correlation import CorrelationSplits, draw_correlation_splits, sample_with_target_rho
from causalpref.draw.groups import group_split
from causalpref.errors import CausalPrefError
from causalpref.stats import pearson


def cell_seed(spec_seed: int, rho: float) -> int:
    """One data seed per (seed, rho) cell, so every cell draws its own splits."""
    return int(np.random.SeedSequence([spec_seed, int(round((rho + 1) * 1000))]).generate_state(1)[0])


EXP1_PARTS = {"train": 0.6, "val": 0.1, "test": 0.3}  # default shares of the groups (questions) per part
DEFAULT_TOL = 0.02  # how close a drawn set's correlation must come to the target


def drawing_of(pool) -> tuple[dict[str, float], float]:
    """(group shares per part, rho tolerance) of a pool's world: a data file may set both
    (small sets need other shares or a looser tolerance); synthetic worlds use the defaults."""
    shares = getattr(pool.world, "split_shares", None)
    parts = EXP1_PARTS if shares is None else dict(zip(("train", "val", "test"), shares))
    return parts, getattr(pool.world, "tol", DEFAULT_TOL)


def draw_exp1_splits(pool, spec_seed: int, rho: float, sizes):
    """The four splits of one (rho, seed) cell, drawn from the pool's first two factors.

    Pools with groups (real data: pairs of answers to one question) are split by group
    first — by default 60 % of the groups for training, 10 % for validation, 30 % for the
    tests (`--split-shares`) — so that no question is seen in training and tested on."""
    d1, d2 = (pool.diffs(name) for name in pool.world.factor_names[:2])
    seed = cell_seed(spec_seed, rho)
    group = pool.group
    parts, tol = drawing_of(pool)
    if group is None:
        return draw_correlation_splits(d1, d2, sizes.as_dict(), rho, seed, tol=tol)
    try:
        return _draw_grouped_exp1(d1, d2, group, seed, rho, sizes, parts, tol)
    except CausalPrefError:
        check = check_exp1_sizes(d1, d2, group, sizes, (rho,), (spec_seed,), parts)
        if check.fits:
            raise
        raise CausalPrefError(check.too_few(f"at ρ = {rho:g}")) from None


def _draw_grouped_exp1(d1, d2, group, seed, rho, sizes, parts_shares, tol):
    parts = group_split(group, parts_shares, seed)
    indices, achieved = {}, {}
    split_seeds = np.random.SeedSequence(seed).spawn(4)
    for name, part, split_seed in (
        ("train", "train", split_seeds[0]),
        ("val", "val", split_seeds[1]),
        ("id", "test", split_seeds[2]),
    ):
        try:
            draw = sample_with_target_rho(d1, d2, getattr(sizes, name), rho, split_seed, available=parts[part], tol=tol)
        except CausalPrefError as error:
            raise CausalPrefError(f"split {name!r} (drawn from {part} questions): {error}") from None
        indices[name], achieved[name] = draw.indices, draw.achieved_rho
    left = parts["test"] & (d1 * d2 < 0)
    left[indices["id"]] = False
    candidates = np.flatnonzero(left)
    if candidates.size < sizes.ood:
        raise CausalPrefError(
            f"split 'ood': cannot draw n={sizes.ood} pairs with d1*d2 < 0 from the test "
            f"questions: only {candidates.size} remain; set a smaller --n-ood or a larger test share (--split-shares)"
        )
    ood = np.sort(np.random.default_rng(split_seeds[3]).choice(candidates, sizes.ood, replace=False))
    indices["ood"], achieved["ood"] = ood, pearson(d1[ood], d2[ood])
    return CorrelationSplits(indices=indices, achieved_rho=achieved, target_rho=float(rho))


def draw_exp2_splits(pool, spec_seed: int, rho: float, sizes):
    """Train / val at consistency rate rho and the consistent / inconsistent test sets of one cell."""
    try:
        return draw_objective_splits(
            pool.prompt_type, pool.objective, sizes.as_dict(), rho, cell_seed(spec_seed, rho), group=pool.group
        )
    except CausalPrefError:
        if pool.prompt_type is None or pool.objective is None:
            raise
        check = check_exp2_sizes(pool.prompt_type, pool.objective, sizes, (rho,), pool.group, (spec_seed,))
        if check.fits:
            raise
        raise CausalPrefError(check.too_few(f"at ρ = {rho:g}")) from None


# ------------------------------------------------------------ which split sizes a pool can supply
# Counting only (the pairs each split may come from), so that a too-small file is told before
# anything is embedded or trained, with the sizes that would fit.

SPLIT_WORDS = {"train": "training", "val": "validation", "id": "ID", "ood": "OOD"}


def sizes_text(sizes) -> str:
    """'2,000 training, 500 validation and 2 × 2,000 test pairs' (Experiment 2's test is two sets)."""
    items = [
        f"2 × {n:,} test" if name == "test" else f"{n:,} {SPLIT_WORDS[name]}" for name, n in sizes.as_dict().items()
    ]
    return f"{', '.join(items[:-1])} and {items[-1]} pairs"


@dataclass(frozen=True)
class SizeCheck:
    pairs: int  # in the pool
    wanted: Any  # the split sizes asked for (SplitSizes or Exp2Sizes)
    largest: Any  # `wanted` when it fits, else the largest sizes up to it that fit; None: none fit
    groups: int | None = None  # questions the pairs are split by (Experiment 1), if any

    @property
    def data(self) -> str:
        """'50 pairs over 5 questions'."""
        over = "" if self.groups is None else f" over {self.groups:,} questions"
        return f"{self.pairs:,} pairs{over}"

    @property
    def fits(self) -> bool:
        return self.largest == self.wanted

    def too_few(self, where: str) -> str:
        """The error: what was asked, how many pairs there are, what would fit, and the options
        that change it."""
        text = f"cannot draw {sizes_text(self.wanted)} {where}: the data has {self.data}"
        options = " ".join(f"--n-{name}" for name in self.wanted.as_dict())
        change = f"; set smaller sizes ({options})"
        if self.groups is not None:
            change += " or other group shares (--split-shares TRAIN VAL TEST)"
        if self.largest is None:
            return f"{text}, too few for splits of any size{change}"
        return f"{text}, enough for at most {sizes_text(self.largest)}{change}"


def _scaled_down(sizes, fits, least: int):
    """`sizes` if they fit, else scaled down (same proportions, each at least `least`) to the
    largest that fit; None when even the least do not."""

    def scaled(f):
        return replace(sizes, **{k: max(least, int(v * f)) for k, v in sizes.as_dict().items()})

    if fits(sizes):
        return sizes
    if not fits(scaled(0.0)):
        return None
    lo, hi = 0.0, 1.0  # scaled(lo) fits, scaled(hi) does not
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fits(scaled(mid)) else (lo, mid)
    return scaled(lo)


def check_exp1_sizes(d1, d2, group, sizes, rhos, seeds, shares=None) -> SizeCheck:
    """Whether Experiment 1's grouped splits (`draw_exp1_splits`) can have `sizes` at every
    (rho, seed) cell: train and val within their parts' pairs, ID and OOD within the test
    part's, OOD within its pairs where the factors disagree. Necessary, not sufficient: a
    target rho may still be out of reach of few pairs. What fits is cut split by split (each
    split's own room), not in proportion: one scarce split does not shrink the others."""
    discordant = np.asarray(d1) * np.asarray(d2) < 0
    rooms = []
    for rho in rhos:
        for seed in seeds:
            parts = group_split(np.asarray(group), shares or EXP1_PARTS, cell_seed(seed, rho))
            test = parts["test"]
            rooms.append((parts["train"].sum(), parts["val"].sum(), test.sum(), (test & discordant).sum()))
    train, val, test, disc = (int(min(room)) for room in zip(*rooms))
    ood = min(sizes.ood, disc)
    room = {"train": min(sizes.train, train), "val": min(sizes.val, val), "id": min(sizes.id, test - ood), "ood": ood}
    largest = replace(sizes, **room) if min(room.values()) >= 2 else None
    return SizeCheck(int(discordant.size), sizes, largest, len(np.unique(group)))


def check_exp2_sizes(prompt_type, objective, sizes, rhos, group=None, seeds=(0,)) -> SizeCheck:
    """Whether Experiment 2's splits (`draw_exp2_splits`) can have `sizes` at every rho: each
    (prompt type, objective) cell holds the pairs that train, val and the two test sets take
    — within each split's own prompt groups when prompts have several pairs (`group`; the
    groups are divided as the draw divides them, per rho and seed)."""
    t, c = np.asarray(prompt_type), np.asarray(objective)

    def room(mask):
        return Counter(zip(t[mask].tolist(), c[mask].tolist()))

    everything = room(np.ones(t.size, bool))

    def fits(s):
        plans = {"train": (s.train, None), "val": (s.val, None), "test": (s.test, (1.0, 0.0))}
        for rho in rhos:
            for seed in seeds:
                parts = _prompt_parts(group, t.size, s.as_dict(), cell_seed(seed, rho))
                rooms = {"all": everything} if parts is None else {k: room(m) for k, m in parts.items()}
                need = {k: Counter() for k in rooms}
                for split, (n, targets) in plans.items():
                    where = "all" if parts is None else split
                    for target in targets or (rho,):
                        need[where].update(consistency_counts(n, target))
                if any(k > rooms[where][cell] for where in need for cell, k in need[where].items()):
                    return False
        return True

    # every split draws from the same four cells: what fits is the asked sizes in proportion
    return SizeCheck(int(t.size), sizes, _scaled_down(sizes, fits, least=2))
