"""Where pairs come from: synthetic latent-factor worlds (the embedded default)."""

from .objectives import ObjectivePool, UserObjectivesWorld
from .synthetic import CorrelatedFactorsWorld, FactorPool

__all__ = ["CorrelatedFactorsWorld", "FactorPool", "ObjectivePool", "UserObjectivesWorld"]
