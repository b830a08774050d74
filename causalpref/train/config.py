"""The optimiser settings of a run: free of torch, so specs can be built (and the CLI's --help
answer) without loading it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from causalpref.errors import CausalPrefError


@dataclass(frozen=True)
class TrainConfig:
    lr: float = 1e-4  # Adam learning rate (paper: 1e-4)
    epochs: int = 10  # passes over the training set (paper: 10)
    batch_size: int = 64  # pairs per step (not stated in the paper)
    precision: str = "fp32"  # fp32; on CUDA also tf32 (TensorFloat-32 matmuls) or bf16 (autocast)

    def __post_init__(self):
        if not (np.isfinite(self.lr) and self.lr > 0):
            raise CausalPrefError(f"lr must be a positive number, got {self.lr!r}")
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise CausalPrefError(f"epochs must be a positive integer, got {self.epochs!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise CausalPrefError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if self.precision not in ("fp32", "tf32", "bf16"):
            raise CausalPrefError(f"precision must be fp32, tf32 or bf16, got {self.precision!r}")
