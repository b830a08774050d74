"""Intervention strategies: which B extra pairs to label, one registry entry each.

A strategy names what it needs of the world (`needs`); `availability(spec)` says, for every
strategy of the spec's experiment, whether it can run on the chosen world and if not why, so
that the CLI and the page grey it out with the reason instead of skipping it silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from causalpref.errors import CausalPrefError


@dataclass(frozen=True)
class Strategy:
    name: str
    label: str
    description: str
    needs: str | None = None  # "factors" | "generator" | "label_other" | None (any world)


OBSERVATIONAL = Strategy(
    "observational", "Observational", "B more pairs drawn the way the base set was, at the same ρ (more of the same)"
)
UNIFORM = Strategy("uniform", "Uniform", "B pairs drawn uniformly at random from the unlabelled pool")
TARGETED = Strategy(
    "targeted",
    "Targeted",
    "B pairs from the under-covered quadrants d1·d2 < 0, where the two factors disagree: an intervention on "
    "the latent factors, which assumes they are known (on real data the file's factor labels are the oracle)",
    needs="factors",
)
ISOLATED = Strategy(
    "isolated",
    "Isolated",
    "B counterfactual pairs that differ in one causal factor only (same prompt, same nuisance factors), half "
    "per factor: needs a generator of responses",
    needs="generator",
)
ACTIVE = Strategy(
    "active",
    "Active",
    "B pairs the current model is least sure about (smallest |margin|) from the unlabelled pool, asked for in "
    "rounds with retraining between them: needs no knowledge of the factors",
)
RANDOMISED = Strategy(
    "randomised",
    "Randomised prompts",
    "B pairs whose prompt type is drawn independently of the objective (consistency rate 0.5)",
)
COUNTERFACTUAL = Strategy(
    "counterfactual",
    "Counterfactual relabel",
    "for B pairs already in training, the same pair labelled under the other objective",
    needs="label_other",
)

STRATEGIES: dict[str, tuple[Strategy, ...]] = {
    "exp1": (OBSERVATIONAL, UNIFORM, TARGETED, ISOLATED, ACTIVE),
    "exp2": (OBSERVATIONAL, RANDOMISED, COUNTERFACTUAL, ACTIVE),
}

# Zero-label references, trained beside the strategies (rows at budget 0 under these names).
REWEIGHTING = "reweighting"  # the experiment's reweighting remedy on the base set
RHO0 = "rho0"  # a model trained on a set of the same size without the confounding
REFERENCE_RHO = {"exp1": 0.0, "exp2": 0.5}  # "without the confounding": rho 0, consistency 0.5
REMEDY = {"exp1": "balanced", "exp2": "ipw"}  # the weighting the reweighting reference uses
REFERENCES = (REWEIGHTING, RHO0)


def reference_labels(experiment: str) -> dict[str, str]:
    return {
        REWEIGHTING: f"Reweighting ({REMEDY[experiment]}, no new label)",
        RHO0: f"Trained at ρ = {REFERENCE_RHO[experiment]:g}",
    }


def strategies_for(experiment: str) -> tuple[Strategy, ...]:
    if experiment not in STRATEGIES:
        raise CausalPrefError(f"unknown experiment {experiment!r}; choose from {list(STRATEGIES)}")
    return STRATEGIES[experiment]


def strategy_names(experiment: str) -> tuple[str, ...]:
    return tuple(s.name for s in strategies_for(experiment))


def strategy(experiment: str, name: str) -> Strategy:
    found = {s.name: s for s in strategies_for(experiment)}
    if name not in found:
        raise CausalPrefError(f"unknown strategy {name!r} for {experiment}; choose from {list(found)}")
    return found[name]


def labels(experiment: str) -> dict[str, str]:
    """Every name a results table may carry (strategies and references) -> its label."""
    return {s.name: s.label for s in strategies_for(experiment)} | reference_labels(experiment)


def _reason(needs: str | None, world) -> str | None:
    """None when the world has what a strategy needs, else the one-line reason."""
    if needs == "generator" and not world.can_isolate:
        return "isolated pairs need a generator; a data file has none"
    if needs == "label_other" and not world.has_counterfactual_label:
        return "the data maps no label under the other objective (label_other)"
    return None


def availability(spec) -> dict[str, str | None]:
    """Strategy name -> None (possible on the spec's world) or the reason it is not.
    `spec` is an InterventionSpec or a base Exp1Spec / Exp2Spec."""
    base = getattr(spec, "base", spec)
    return {s.name: _reason(s.needs, base.world) for s in strategies_for(base.kind)}
