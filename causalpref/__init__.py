"""causalpref: a laboratory for causal preference learning.

Reward models for AI alignment fail when latent factors of text are correlated or
confounded (Kobalczyk & van der Schaar, ICML 2025). This package builds synthetic and real
preference worlds, draws training sets with a chosen correlation or confounding, trains
reward models and reports honest, reproducible accuracies beside their baselines.
"""

from causalpref.errors import CausalPrefError

__version__ = "0.3.0"
__all__ = ["CausalPrefError", "__version__"]
