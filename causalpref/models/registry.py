"""One registry of reward-model architectures: everything the rest of the lab needs to know
about an architecture is in its entry, and every list of models (CLI choices, tables, plots,
page selectors, lessons, the cache) is derived from here.

Adding an architecture is one class plus one `register(Architecture(...))` call.
"""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from causalpref.errors import CausalPrefError
from causalpref.models.config import ModelConfig

# (model, emb_a, emb_b, objective) -> a number read off the trained model, on tensors of one pair set
Readout = Callable[..., float]


@dataclass(frozen=True)
class Lazy:
    """A function named by module and name, imported on first call: an entry can name its torch
    builder without importing torch, so listing architectures stays instant."""

    module: str
    name: str

    def __call__(self, *args, **kwargs):
        return getattr(importlib.import_module(self.module), self.name)(*args, **kwargs)


@dataclass(frozen=True)
class Architecture:
    name: str  # the key used in specs, CSVs, URLs and the CLI
    label: str  # what people read: legends, selectors, tables
    short: str  # a column header in the paper's table layouts
    colour: str  # plot colour (hex)
    markdown_colour: str  # the nearest of Streamlit's markdown colours (blue, green, orange, ...)
    params: type  # a frozen dataclass of this architecture's own parameters, all with defaults
    # (d_in, shared config, params, uses_objective) -> model; uses_objective says whether pairs carry c
    build: Callable[[int, ModelConfig, Any, bool], Any]  # returns a torch module
    needs_objective: bool  # True: it routes by the objective c, so it only runs where pairs carry c
    description: str = ""
    # extra numbers read off a trained model, written as results rows "<name>_train" / "<name>_val"
    readouts: dict[str, Readout] = field(default_factory=dict)
    # True: trained by train/game.py's adversarial game, whose per-step trace is a detail table 'game'
    plays_game: bool = False

    def __post_init__(self):
        if not dataclasses.is_dataclass(self.params):
            raise CausalPrefError(f"architecture {self.name!r}: params must be a dataclass type")


ARCHITECTURES: dict[str, Architecture] = {}


def register(architecture: Architecture) -> Architecture:
    """Add an architecture (its name must be new)."""
    if architecture.name in ARCHITECTURES:
        raise CausalPrefError(f"an architecture named {architecture.name!r} is registered already")
    if "+" in architecture.name or not architecture.name:
        raise CausalPrefError(f"architecture name {architecture.name!r}: a non-empty name without '+'")
    ARCHITECTURES[architecture.name] = architecture
    return architecture


def unregister(name: str) -> None:
    ARCHITECTURES.pop(name, None)


def architecture(name: str) -> Architecture:
    if name not in ARCHITECTURES:
        raise CausalPrefError(f"unknown model {name!r}; choose from {list(ARCHITECTURES)}")
    return ARCHITECTURES[name]


def architecture_names(with_objective: bool = True) -> tuple[str, ...]:
    """The registered names, in registration order; without objectives only those that need none."""
    return tuple(name for name, a in ARCHITECTURES.items() if with_objective or not a.needs_objective)


def param_names(name: str) -> tuple[str, ...]:
    """The names of an architecture's own parameters (e.g. ('head_hidden', 'adversary_lambda'))."""
    return tuple(f.name for f in dataclasses.fields(architecture(name).params))


def default_params(name: str):
    return architecture(name).params()


def check_params(name: str, params) -> None:
    expected = architecture(name).params
    if type(params) is not expected:
        raise CausalPrefError(f"params of {name!r} must be a {expected.__name__}, got {type(params).__name__}")


def build_model(name: str, d_in: int, config: ModelConfig, seed: int = 0, params=None, uses_objective: bool = False):
    """Build with seeded initial weights, leaving torch's global generator untouched."""
    import torch

    arch = architecture(name)
    params = arch.params() if params is None else params
    check_params(name, params)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return arch.build(d_in, config, params, uses_objective)
