"""Declarative experiment specs: everything that decides the numbers.

A spec (a frozen dataclass) names the world, the target correlations or consistency rates,
the seeds, the split sizes, the architectures and their own parameters, the training
weighting and the optimiser. It is the unit of caching: same spec + same engine code ->
same numbers. Every value is checked here, once, when the spec is made.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from causalpref import validate
from causalpref.data.worlds import CorrelatedFactorsWorld, UserObjectivesWorld
from causalpref.errors import CausalPrefError
from causalpref.models import ModelConfig, architecture, architecture_names, param_names
from causalpref.models.registry import check_params
from causalpref.train.config import TrainConfig
from causalpref.train.weighting import NONE, weighting, weighting_names

# The Correlation-shift slider's grid: the interactive sweep trains every value of it.
INTERACTIVE_RHOS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
# Sanity checks a spec can run instead of the plain experiment (run/cells.py applies them).
CHECKS = ("none", "placebo", "random_feature", "half_data")


@dataclass(frozen=True)
class SplitSizes:
    train: int = 2000
    val: int = 500
    id: int = 2000
    ood: int = 2000

    def __post_init__(self):
        for name, value in self.as_dict().items():
            validate.positive_int(value, f"split size {name}")

    def as_dict(self) -> dict[str, int]:
        return {"train": self.train, "val": self.val, "id": self.id, "ood": self.ood}

    def total_pairs(self) -> int:
        return self.train + self.val + self.id + self.ood


@dataclass(frozen=True)
class Exp2Sizes:
    train: int = 2000  # equal per objective (paper: 30,000)
    val: int = 500  # same rho (paper: 6,000)
    test: int = 2000  # pairs in each of the consistent and inconsistent test sets

    def __post_init__(self):
        for name, value in self.as_dict().items():
            validate.positive_int(value, f"split size {name}")

    def as_dict(self) -> dict[str, int]:
        return {"train": self.train, "val": self.val, "test": self.test}

    def total_pairs(self) -> int:
        return self.train + self.val + 2 * self.test


def _normalise_params(spec, given) -> tuple[tuple[str, Any], ...]:
    """(name, params) for exactly the spec's models, in their order: given ones checked, the
    rest at their defaults. Params of models not trained are dropped, so they never change a
    spec's cache key (a Base-only spec does not depend on the adversary's lambda)."""
    given = dict(given) if given else {}
    unknown = [name for name in given if name not in spec.models]
    for name in unknown:
        architecture(name)  # an unknown name gets the registry's message
    out = []
    for name in spec.models:
        params = given.get(name, architecture(name).params())
        check_params(name, params)
        out.append((name, params))
    return tuple(out)


class _SpecChecks:
    """What both specs check the same way."""

    kind: ClassVar[str]
    uses_objective: ClassVar[bool]

    def _check_common(self) -> None:
        if self.check not in CHECKS:
            raise CausalPrefError(f"check must be one of {list(CHECKS)}, got {self.check!r}")
        if not self.rhos:
            raise CausalPrefError("at least one rho is needed")
        # a value given twice would train and report the same cells twice: each counts once
        object.__setattr__(self, "rhos", tuple(dict.fromkeys(self.rhos)))
        object.__setattr__(self, "seeds", tuple(dict.fromkeys(self.seeds)))
        if not self.seeds:
            raise CausalPrefError("at least one seed is needed")
        for seed in self.seeds:
            validate.seed(seed)
        available = architecture_names(with_objective=self.uses_objective)
        models = (self.models,) if isinstance(self.models, str) else tuple(self.models)
        unknown = [m for m in models if m not in available]
        if unknown or not models:
            raise CausalPrefError(
                f"unknown model(s) {unknown or '(none given)'} for {self.kind}; choose from {list(available)}"
            )
        if len(set(models)) != len(models):
            raise CausalPrefError(f"each model once, got {list(models)}")
        object.__setattr__(self, "models", models)
        if self.weighting not in weighting_names(self.kind):
            weighting(self.weighting)  # an unknown name gets the registry's message
            raise CausalPrefError(
                f"weighting {self.weighting!r} does not apply to {self.kind}; choose from {list(weighting_names(self.kind))}"
            )
        object.__setattr__(self, "params", _normalise_params(self, self.params))

    def params_of(self, name: str):
        """The parameters of one of the spec's architectures."""
        return dict(self.params)[name]

    def with_params(self, name: str, **changes):
        """The spec with some parameters of one architecture changed."""
        params = dict(self.params)
        params[name] = replace(params[name], **changes)
        return replace(self, params=params)


@dataclass(frozen=True)
class Exp1Spec(_SpecChecks):
    """Experiment 1: limited latent positivity (correlated causal factors)."""

    kind: ClassVar[str] = "exp1"
    uses_objective: ClassVar[bool] = False

    world: CorrelatedFactorsWorld = field(default_factory=CorrelatedFactorsWorld)
    rhos: tuple[float, ...] = (0.0, 0.3, 0.6, 0.9)
    seeds: tuple[int, ...] = (0, 1, 2)
    sizes: SplitSizes = field(default_factory=SplitSizes)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(hidden=64, latent=16))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=1e-3, epochs=10, batch_size=64))
    models: tuple[str, ...] = ("base",)
    weighting: str = NONE  # how training pairs are weighted: see train/weighting.py
    params: Any = ()  # per architecture: {name: its params dataclass}; defaults for the rest
    device: str = "auto"
    check: str = "none"  # a sanity check instead of the plain run: see CHECKS

    def __post_init__(self):
        for rho in self.rhos:
            validate.correlation(rho)
        self._check_common()

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


@dataclass(frozen=True)
class Exp2Spec(_SpecChecks):
    """Experiment 2: confounding by user objectives (prompt type t vs objective c)."""

    kind: ClassVar[str] = "exp2"
    uses_objective: ClassVar[bool] = True

    world: UserObjectivesWorld = field(default_factory=UserObjectivesWorld)
    rhos: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    sizes: Exp2Sizes = field(default_factory=Exp2Sizes)
    # interactive: a first training of the User objectives page (54 models) in seconds on a
    # 2-core CPU, with the paper's ordering of the three architectures (docs/performance.md)
    model: ModelConfig = field(default_factory=lambda: ModelConfig(hidden=64, latent=32))
    train: TrainConfig = field(default_factory=lambda: TrainConfig(lr=1e-3, epochs=10, batch_size=64))
    models: tuple[str, ...] = ("base", "multihead", "adversarial")
    weighting: str = NONE
    params: Any = ()
    device: str = "auto"
    check: str = "none"

    def __post_init__(self):
        for rho in self.rhos:
            validate.consistency_rate(rho, low=0.5)
        self._check_common()

    @classmethod
    def paper_size(cls, **changes) -> "Exp2Spec":
        """The paper's sizes: 30k train, 6k val, ~46.5k test, d = 4096, hidden 512, z_hat 512,
        heads 512, Adam 1e-4."""
        models = changes.get("models", cls.models)
        wide = {
            name: replace(architecture(name).params(), head_hidden=512)
            for name in models
            if "head_hidden" in param_names(name)
        }
        spec = cls(
            world=UserObjectivesWorld(dim=4096, pool_size=200_000),
            sizes=Exp2Sizes(train=30_000, val=6_000, test=23_259),
            model=ModelConfig(hidden=512, latent=512),
            train=TrainConfig(lr=1e-4, epochs=10, batch_size=64),
            models=tuple(models),
            params=wide,
        )
        return replace(spec, **changes)


SPEC_TYPES = {spec.kind: spec for spec in (Exp1Spec, Exp2Spec)}

# Split sizes that the small real files bundled for development can supply at every rho,
# by (experiment, data kind): the interactive defaults ask for more pairs than they hold.
# Relabelled HH-RLHF (4,043 pairs) split by prompt supplies at most ~857/214/257 over
# rho 0..1 and seeds 0-9; these leave room (tests/test_views_data.py checks the file).
# HH-RLHF (4,666 pairs) split 60/10/30 by question: ~430 disagreeing test pairs at rho 0-0.8.
SMALL_DATA_SIZES = {
    ("exp2", "relabeled-hh"): Exp2Sizes(train=800, val=200, test=250),
    ("exp1", "hh-rlhf"): SplitSizes(train=1000, val=200, id=400, ood=400),
}


def sizes_for_data(experiment: str, data_kind: str, default):
    """The split sizes to start from for this data kind (the CLI's and the pages' one table)."""
    return SMALL_DATA_SIZES.get((experiment, data_kind), default)
