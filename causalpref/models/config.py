"""The sizes every architecture shares. What only one architecture needs (the heads' width,
the adversary's lambda) lives in that architecture's own params dataclass."""

from __future__ import annotations

from dataclasses import dataclass

from causalpref.validate import positive_int


@dataclass(frozen=True)
class ModelConfig:
    hidden: int = 512  # width of the hidden layers (paper: 512)
    latent: int = 64  # size of z_hat before the head(s) (paper: 64 in Exp. 1, 512 in Exp. 2)
    n_layers: int = 3  # linear layers in the MLP up to the latent (paper: 3)

    def __post_init__(self):
        for name in ("hidden", "latent", "n_layers"):
            positive_int(getattr(self, name), f"model {name}")
