"""Each architecture's own parameters: frozen dataclasses with defaults, free of torch, so
that listing architectures and their options (the CLI's --help, the pages' controls) never
loads torch."""

from __future__ import annotations

from dataclasses import dataclass

from causalpref.validate import finite_number, non_negative_int


@dataclass(frozen=True)
class BaseParams:
    """Base has no parameters of its own."""


@dataclass(frozen=True)
class MultiheadParams:
    # Hidden width of each objective head; 0 = linear. The paper's "1-layer MLP with hidden
    # 512"; the interactive default is smaller for speed (paper_size() sets 512).
    head_hidden: int = 32

    def __post_init__(self):
        non_negative_int(self.head_hidden, "multihead head_hidden")


@dataclass(frozen=True)
class AdversarialParams:
    head_hidden: int = 32  # hidden width of each head and of the discriminator; 0 = linear (paper: 512)
    adversary_lambda: float = 1.0  # gradient-reversal strength (paper: 1.0)

    def __post_init__(self):
        non_negative_int(self.head_hidden, "adversarial head_hidden")
        finite_number(self.adversary_lambda, "adversary lambda", low=0.0)
