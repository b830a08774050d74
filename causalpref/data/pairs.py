"""`PairSet`: the one shape every world, sampler and trainer agrees on.

A pair is two embedded responses (a, b) to the same prompt and a label saying whether a is
preferred. Worlds that know the latent factors also carry the factor differences
z(a) - z(b) and the true reward margin, so that metrics can report oracle and
spurious-only baselines and plots can place each pair in the (d1, d2) plane.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from causalpref.errors import CausalPrefError


@dataclass(frozen=True)
class PairSet:
    emb_a: np.ndarray  # (n, d) float32: embedding of (x, y_a)
    emb_b: np.ndarray  # (n, d) float32: embedding of (x, y_b)
    label: np.ndarray  # (n,) float32: 1.0 when a is preferred, else 0.0
    factor_diffs: np.ndarray | None = None  # (n, k): z(a) - z(b) per named factor
    factor_names: tuple[str, ...] = ()
    true_margin: np.ndarray | None = None  # (n,): r*(a) - r*(b), the world's true reward
    objective: np.ndarray | None = None  # (n,) int: the objective c the label was given under
    prompt_type: np.ndarray | None = None  # (n,) int: t, never shown to models
    counterfactual_label: np.ndarray | None = None  # (n,): the label under the other objective
    weight: np.ndarray | None = None  # (n,) >= 0: importance weight of each pair in training
    name: str = field(default="pairs", compare=False)

    def __post_init__(self):
        validate_pairs(self)

    def __len__(self) -> int:
        return int(self.label.shape[0])

    @property
    def dim(self) -> int:
        return int(self.emb_a.shape[1])

    def factor(self, name: str) -> np.ndarray:
        """Differences of one named factor, e.g. pairs.factor('truthfulness')."""
        if self.factor_diffs is None or name not in self.factor_names:
            raise CausalPrefError(f"{self.name}: no factor named {name!r}; known factors: {list(self.factor_names)}")
        return self.factor_diffs[:, self.factor_names.index(name)]

    def subset(self, indices: np.ndarray, name: str | None = None) -> "PairSet":
        def take(array):
            return None if array is None else array[indices]

        return PairSet(
            emb_a=self.emb_a[indices],
            emb_b=self.emb_b[indices],
            label=self.label[indices],
            factor_diffs=take(self.factor_diffs),
            factor_names=self.factor_names,
            true_margin=take(self.true_margin),
            objective=take(self.objective),
            prompt_type=take(self.prompt_type),
            counterfactual_label=take(self.counterfactual_label),
            weight=take(self.weight),
            name=name or self.name,
        )


def concat_pairs(sets: list[PairSet], name: str = "pairs") -> PairSet:
    """One PairSet holding the pairs of several, in order (optional fields kept when all have them)."""

    def join(field_name):
        parts = [getattr(s, field_name) for s in sets]
        return None if any(p is None for p in parts) else np.concatenate(parts)

    names = {s.factor_names for s in sets}
    if len(names) != 1:
        raise CausalPrefError(f"cannot join pair sets with different factors: {sorted(names)}")
    return PairSet(
        emb_a=join("emb_a"),
        emb_b=join("emb_b"),
        label=join("label"),
        factor_diffs=join("factor_diffs"),
        factor_names=sets[0].factor_names,
        true_margin=join("true_margin"),
        objective=join("objective"),
        prompt_type=join("prompt_type"),
        counterfactual_label=join("counterfactual_label"),
        weight=join("weight"),
        name=name,
    )


def validate_pairs(pairs: PairSet) -> None:
    """Check shapes, dtypes and values; raise CausalPrefError naming the field at fault."""
    where = pairs.name
    n = pairs.label.shape[0] if pairs.label.ndim == 1 else None
    if n is None:
        raise CausalPrefError(f"{where}: label must be 1-D, got shape {pairs.label.shape}")
    if n == 0:
        raise CausalPrefError(f"{where}: empty pair set (0 pairs)")
    for field_name in ("emb_a", "emb_b"):
        emb = getattr(pairs, field_name)
        if emb.ndim != 2 or emb.shape[0] != n:
            raise CausalPrefError(f"{where}: {field_name} must have shape ({n}, d), got {emb.shape}")
        _check_finite(emb, f"{where}: {field_name}")
    if pairs.emb_a.shape != pairs.emb_b.shape:
        raise CausalPrefError(f"{where}: emb_a and emb_b differ in shape: {pairs.emb_a.shape} vs {pairs.emb_b.shape}")
    if not np.all((pairs.label == 0) | (pairs.label == 1)):
        bad = int(np.flatnonzero((pairs.label != 0) & (pairs.label != 1))[0])
        raise CausalPrefError(f"{where}: label at row {bad} is {float(pairs.label[bad])}, expected 0 or 1")
    for field_name in ("true_margin", "objective", "prompt_type", "counterfactual_label", "weight"):
        value = getattr(pairs, field_name)
        if value is not None and value.shape != (n,):
            raise CausalPrefError(f"{where}: {field_name} must have shape ({n},), got {value.shape}")
    if pairs.weight is not None:
        _check_finite(pairs.weight, f"{where}: weight")
        if (pairs.weight < 0).any():
            raise CausalPrefError(f"{where}: weight at row {int(np.argmin(pairs.weight))} is negative")
    if pairs.factor_diffs is not None:
        if pairs.factor_diffs.shape != (n, len(pairs.factor_names)):
            raise CausalPrefError(
                f"{where}: factor_diffs must have shape ({n}, {len(pairs.factor_names)}) "
                f"for factors {list(pairs.factor_names)}, got {pairs.factor_diffs.shape}"
            )
        _check_finite(pairs.factor_diffs, f"{where}: factor_diffs")


def _check_finite(array: np.ndarray, what: str) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise CausalPrefError(f"{what} contains NaN or infinity (first at row {row})")
