"""Pick the compute device: CUDA when present, then Apple's MPS, else the CPU."""

from __future__ import annotations

import torch

from causalpref.errors import CausalPrefError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(requested: str = "auto") -> torch.device:
    if requested not in DEVICE_CHOICES and not requested.startswith("cuda:"):
        raise CausalPrefError(f"device must be one of {DEVICE_CHOICES} or cuda:N, got {requested!r}")
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise CausalPrefError(f"device {requested!r} was asked for but CUDA is not available here")
    if requested == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise CausalPrefError("device 'mps' was asked for but MPS is not available here")
    return torch.device(requested)


def describe_device(device: torch.device) -> str:
    """A short human name: 'CUDA: NVIDIA H100 80GB HBM3', 'CPU (2 threads)'."""
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    return f"CPU ({torch.get_num_threads()} threads)"
