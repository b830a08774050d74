"""A cell: the data of one (rho, seed) of a sweep, and the sanity checks' versions of it."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from causalpref.data.pairs import PairSet
from causalpref.errors import CausalPrefError
from causalpref.eval.diagnostics import add_random_feature, half_subset, label_shuffle
from causalpref.run.specs import CHECKS


@dataclass
class Cell:
    """What to train on and what to evaluate on."""

    train: PairSet
    val: PairSet
    evaluate: dict[str, tuple[PairSet, float]]  # split name -> (pairs, achieved rho or consistency)


def sanity_seed(cell_seed: int, check: str, split: str) -> int:
    """One seed per (cell, check, split): a check's draws are reproducible and differ by split."""
    entropy = [cell_seed, CHECKS.index(check)] + list(split.encode())
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def with_random_feature(pairs: PairSet, seed: int) -> PairSet:
    """The pairs with one N(0, 1) column appended to emb_a and emb_b (independent draws)."""
    a_seed, b_seed = np.random.SeedSequence(seed).generate_state(2)
    return replace(
        pairs, emb_a=add_random_feature(pairs.emb_a, int(a_seed)), emb_b=add_random_feature(pairs.emb_b, int(b_seed))
    )


def apply_check(cell: Cell, check: str, cell_seed: int) -> Cell:
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
    if check not in CHECKS:
        raise CausalPrefError(f"check must be one of {list(CHECKS)}, got {check!r}")
    if check == "none":
        return cell
    changed: dict[int, PairSet] = {}

    def change(pairs: PairSet, split: str) -> PairSet:
        if id(pairs) not in changed:
            seed = sanity_seed(cell_seed, check, split)
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
    return Cell(train=train, val=val, evaluate=evaluate)
