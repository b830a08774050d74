"""Experiment 2 as the sweep sees it: train / val at consistency rate rho = P(t = c), tests on
consistent (t = c) and inconsistent (t != c) pairs, the training set's two halves evaluated too."""

from __future__ import annotations

import numpy as np

from causalpref.data.pairs import concat_pairs
from causalpref.draw.splits import draw_exp2_splits
from causalpref.errors import CausalPrefError
from causalpref.eval.inspect import factor_rows, latent_rows
from causalpref.eval.metrics import prompt_type_accuracy
from causalpref.models import architecture
from causalpref.run.cells import Cell
from causalpref.run.specs import Exp2Spec


class UserObjectives:
    name = "exp2"
    # test splits also scored per (prompt type, objective) cell: a pooled number can hide two
    # opposite failures (a model right on t=0, c=1 and wrong on t=1, c=0 reads as middling)
    by_cell = ("consistent", "inconsistent")

    def __init__(self, spec: Exp2Spec, device):
        self.spec, self.device = spec, device
        self.pool = spec.world.pool()
        if self.pool.prompt_type is None or self.pool.objective is None:
            raise CausalPrefError(
                f"Experiment 2 needs an objective and a prompt type per pair, and {spec.world.name} has none "
                "(use relabelled HH-RLHF, or a pair table with objective and prompt_type)"
            )

    @staticmethod
    def detail_tables(spec) -> tuple[str, ...]:
        # 'game': the adversarial game's per-step trace (train/game.py), when a model plays one
        game = ("game",) if any(architecture(name).plays_game for name in spec.models) else ()
        return ("latent", "factors") + game

    def draw(self, rho: float, seed: int) -> Cell:
        splits = draw_exp2_splits(self.pool, seed, rho, self.spec.sizes)
        data = {name: self.pool.pairs(idx, name=name) for name, idx in splits.indices.items()}
        train = data["train"]
        evaluate = {}
        for name, keep in (
            ("train_consistent", train.prompt_type == train.objective),
            ("train_inconsistent", train.prompt_type != train.objective),
        ):
            if keep.any():  # at rho = 1 there is no inconsistent training pair
                evaluate[name] = (train.subset(np.flatnonzero(keep), name), float(name == "train_consistent"))
        evaluate["val"] = (data["val"], splits.achieved_rho["val"])
        for name in ("consistent", "inconsistent"):
            evaluate[name] = (data[name], splits.achieved_rho[name])
        return Cell(train=train, val=data["val"], evaluate=evaluate)

    def spurious(self, pairs):
        """A model that reads the prompt type instead of the objective it is given."""
        return prompt_type_accuracy(pairs)

    def inspect(self, model, cell: Cell, margins: dict) -> dict[str, list[dict]]:
        """`margins`: the model's margins on each evaluated split (computed once, by evaluate)."""
        consistent, inconsistent = cell.evaluate["consistent"][0], cell.evaluate["inconsistent"][0]
        half = np.arange(min(200, len(consistent), len(inconsistent)))
        both = concat_pairs([consistent.subset(half), inconsistent.subset(half)])
        return {
            "latent": latent_rows(model, both, self.device),
            "factors": factor_rows(model, inconsistent, self.device, margins.get("inconsistent")),
        }
