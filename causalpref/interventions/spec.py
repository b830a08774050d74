"""InterventionSpec: a base experiment at one rho, the label budgets and the strategies.

Everything that decides the numbers is here, so the spec is the unit of caching. The base
spec (an Exp1Spec or Exp2Spec) carries the world, seeds, split sizes, architectures,
weighting and optimiser; every strategy trains with them, so any architecture and weighting
combine with any strategy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from causalpref import validate
from causalpref.errors import CausalPrefError
from causalpref.interventions.strategies import availability, strategy_names
from causalpref.run.specs import Exp1Spec, Exp2Spec

DEFAULT_BUDGETS = (0, 50, 100, 200, 500, 1000)
DEFAULT_RHO = 0.9  # the interactive default for both experiments


@dataclass(frozen=True)
class InterventionSpec:
    base: Exp1Spec | Exp2Spec = field(default_factory=lambda: Exp1Spec(rhos=(DEFAULT_RHO,), device="auto"))
    budgets: tuple[int, ...] = DEFAULT_BUDGETS  # 0 (the base set alone) is always added
    strategies: tuple[str, ...] = ("observational", "uniform", "targeted", "isolated", "active")
    rounds: int = 4  # active: queries asked for in this many rounds, retraining between them
    isolated_share: float = 0.5  # isolated: the share of pairs that change the first factor

    def __post_init__(self):
        if not isinstance(self.base, (Exp1Spec, Exp2Spec)):
            raise CausalPrefError(f"base must be an Exp1Spec or Exp2Spec, got {type(self.base).__name__}")
        if len(self.base.rhos) != 1:
            raise CausalPrefError(f"an intervention sweep has one training rho, got {list(self.base.rhos)}")
        if self.base.check != "none":
            raise CausalPrefError(f"sanity checks do not apply to an intervention sweep (check {self.base.check!r})")
        budgets = tuple(self.budgets) if not isinstance(self.budgets, int) else (self.budgets,)
        for budget in budgets:
            if isinstance(budget, bool) or not isinstance(budget, int) or budget < 0:
                raise CausalPrefError(f"a budget is a whole number of labels >= 0, got {budget!r}")
        object.__setattr__(self, "budgets", tuple(sorted(set(budgets) | {0})))
        names = (self.strategies,) if isinstance(self.strategies, str) else tuple(self.strategies)
        known = strategy_names(self.experiment)
        unknown = [name for name in names if name not in known]
        if unknown or not names:
            raise CausalPrefError(
                f"unknown strategy {unknown[0] if unknown else '(none given)'!r} for {self.experiment}; "
                f"choose from {list(known)}"
            )
        if len(set(names)) != len(names):
            raise CausalPrefError(f"each strategy once, got {list(names)}")
        object.__setattr__(self, "strategies", tuple(n for n in known if n in names))  # registry order
        if isinstance(self.rounds, bool) or not isinstance(self.rounds, int) or self.rounds < 1:
            raise CausalPrefError(f"rounds must be a whole number >= 1, got {self.rounds!r}")
        validate.finite_number(self.isolated_share, "isolated_share", 0.0, 1.0)

    @property
    def experiment(self) -> str:
        return self.base.kind

    @property
    def rho(self) -> float:
        return float(self.base.rhos[0])


def default_spec(experiment: str = "exp1", **changes) -> InterventionSpec:
    """The interactive default: rho 0.9, budgets 0..1000, every strategy the world allows,
    3 seeds, the interactive sizes, Base. `changes` may name InterventionSpec fields, `rho`,
    or fields of the base spec (world, seeds, models, weighting, sizes, device, ...)."""
    own = {f.name for f in fields(InterventionSpec)}
    base_type = {"exp1": Exp1Spec, "exp2": Exp2Spec}.get(experiment)
    if base_type is None:
        raise CausalPrefError(f"unknown experiment {experiment!r}; choose from ['exp1', 'exp2']")
    explicit_rho = "rho" in changes
    rho = changes.pop("rho", DEFAULT_RHO)
    base_changes = {k: changes.pop(k) for k in list(changes) if k not in own}
    base = changes.pop("base", None)
    if base is None:
        base = base_type(rhos=(rho,), seeds=(0, 1, 2), models=("base",))
    elif explicit_rho:
        base = replace(base, rhos=(rho,))
    if base_changes:
        base = replace(base, **base_changes)
    if "strategies" not in changes:
        changes["strategies"] = tuple(name for name, why in availability(base).items() if why is None)
    return InterventionSpec(base=base, **changes)
