"""Where pairs come from: synthetic latent-factor worlds (the embedded default)."""

from causalpref.data.worlds.objectives import ObjectivePool, UserObjectivesWorld
from causalpref.data.worlds.synthetic import CorrelatedFactorsWorld, FactorPool

__all__ = ["CorrelatedFactorsWorld", "FactorPool", "ObjectivePool", "UserObjectivesWorld"]
