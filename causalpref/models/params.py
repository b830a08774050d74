"""Each architecture's own parameters: frozen dataclasses with defaults, free of torch, so
that listing architectures and their options (the CLI's --help, the pages' controls) never
loads torch."""

from __future__ import annotations

from dataclasses import dataclass

from causalpref.errors import CausalPrefError
from causalpref.validate import finite_number, non_negative_int, positive_int


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


# The encoder's side of the adversarial game (train/game.py):
# - reversal: the paper's gradient reversal, the encoder maximises the discriminator's BCE;
# - confusion: the encoder pushes the discriminator's output towards 1/2 (uniform), which
#   has a fixed point where the discriminator is at chance instead of overshooting past it.
ENCODER_LOSSES = ("reversal", "confusion")
# lambda over training progress p in [0, 1]: constant, or DANN's ramp 2 / (1 + exp(-10 p)) - 1
SCHEDULES = ("constant", "dann")


@dataclass(frozen=True)
class AdversarialParams:
    head_hidden: int = 32  # hidden width of each head; 0 = linear (paper: 512)
    adversary_lambda: float = 1.0  # the adversary's weight in the encoder's loss (paper: 1.0)
    encoder_loss: str = "reversal"  # see ENCODER_LOSSES (paper: reversal)
    schedule: str = "constant"  # see SCHEDULES (paper: constant)
    # discriminator updates per encoder update (paper: 1). 5: the option whose discriminator
    # ends nearest chance with the smallest spread over seeds (docs/results.md, adversary-game)
    disc_steps: int = 5
    disc_lr: float = 0.0  # the discriminator's own Adam learning rate; 0 = the run's lr (paper)
    disc_hidden: int = -1  # the discriminator's hidden width; -1 = head_hidden (paper), 0 = linear

    def __post_init__(self):
        non_negative_int(self.head_hidden, "adversarial head_hidden")
        finite_number(self.adversary_lambda, "adversary lambda", low=0.0)
        choice(self.encoder_loss, ENCODER_LOSSES, "adversarial encoder_loss")
        choice(self.schedule, SCHEDULES, "adversarial schedule")
        positive_int(self.disc_steps, "adversarial disc_steps")
        finite_number(self.disc_lr, "adversarial disc_lr", low=0.0)
        if self.disc_hidden != -1:
            non_negative_int(self.disc_hidden, "adversarial disc_hidden (-1 = head_hidden)")

    @property
    def discriminator_width(self) -> int:
        return self.head_hidden if self.disc_hidden == -1 else self.disc_hidden


@dataclass(frozen=True)
class DecorrelatedParams:
    head_hidden: int = 32  # hidden width of each head; 0 = linear
    # weight of the HSIC penalty between z_hat and c in the loss (models/decorrelated.py)
    decorrelation: float = 10.0

    def __post_init__(self):
        non_negative_int(self.head_hidden, "decorrelated head_hidden")
        finite_number(self.decorrelation, "decorrelated decorrelation", low=0.0)


def choice(value, options, name: str) -> str:
    if value not in options:
        raise CausalPrefError(f"{name} must be one of {list(options)}, got {value!r}")
    return value
