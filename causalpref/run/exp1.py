"""Experiment 1 as the sweep sees it: how a cell is drawn, what its baseline is, what is read
off each trained model. Train / val / ID test at the cell's rho, OOD test where the two
causal factors disagree (d1 * d2 < 0)."""

from __future__ import annotations

from dataclasses import replace

from causalpref.draw.splits import draw_exp1_splits
from causalpref.eval.inspect import boundary_probe, boundary_rows, factor_rows, implied_weight_rows
from causalpref.eval.metrics import non_dominant_factor, spurious_accuracy
from causalpref.run.cells import Cell, with_random_feature
from causalpref.run.specs import Exp1Spec


class CorrelationShift:
    name = "exp1"

    def __init__(self, spec: Exp1Spec, device):
        self.spec, self.device = spec, device
        self.pool = spec.world.pool()
        self.spurious_factor = non_dominant_factor(spec.world.factor_names, spec.world.a)
        self.probe = None
        if spec.world.can_probe:  # synthetic worlds can embed any (d1, d2): draw the boundary
            self.probe = boundary_probe(spec.world)
            if spec.check == "random_feature":  # the models read one more input column
                self.probe = replace(self.probe, pairs=with_random_feature(self.probe.pairs, seed=0))

    @staticmethod
    def detail_tables(spec) -> tuple[str, ...]:
        return ("implied", "factors") + (("boundary",) if spec.world.can_probe else ())

    def draw(self, rho: float, seed: int) -> Cell:
        splits = draw_exp1_splits(self.pool, seed, rho, self.spec.sizes)
        data = {name: self.pool.pairs(idx, name=name) for name, idx in splits.indices.items()}
        return Cell(
            train=data["train"],
            val=data["val"],
            evaluate={name: (data[name], splits.achieved_rho[name]) for name in data},
        )

    def spurious(self, pairs):
        """Ranking by the lighter causal factor alone: what latching onto the wrong factor scores."""
        return spurious_accuracy(pairs, self.spurious_factor)

    def inspect(self, model, cell: Cell, margins: dict) -> dict[str, list[dict]]:
        """`margins`: the model's margins on each evaluated split (computed once, by evaluate)."""
        tables = {
            "implied": implied_weight_rows(model, cell.evaluate["id"][0], self.device, margins.get("id")),
            "factors": factor_rows(model, cell.evaluate["ood"][0], self.device, margins.get("ood")),
        }
        if self.probe is not None:
            tables["boundary"] = boundary_rows(model, self.probe, self.device)
        return tables
