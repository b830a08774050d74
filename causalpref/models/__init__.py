"""Reward-model architectures and their registry.

Importing this package registers the paper's three architectures, in this order:
Base, Multihead, Adversarial. See registry.py for what an entry holds.
"""

from causalpref.models.adversarial import (
    AdversarialParams,
    AdversarialReward,
    build_adversarial,
    discriminator_accuracy,
)
from causalpref.models.base import BaseParams, BaseReward, RewardModel, build_base
from causalpref.models.config import ModelConfig
from causalpref.models.multihead import MultiheadParams, MultiheadReward, build_multihead
from causalpref.models.registry import (
    ARCHITECTURES,
    Architecture,
    architecture,
    architecture_names,
    build_model,
    default_params,
    param_names,
    register,
    unregister,
)

register(
    Architecture(
        name="base",
        label="Base",
        short="Base",
        colour="#1f77b4",
        markdown_colour="blue",
        params=BaseParams,
        build=build_base,
        needs_objective=False,
        description="[embedding, c] -> 3-layer GELU MLP -> reward; reads c as one more input",
    )
)
register(
    Architecture(
        name="multihead",
        label="Multihead",
        short="Multi",
        colour="#2ca02c",
        markdown_colour="green",
        params=MultiheadParams,
        build=build_multihead,
        needs_objective=True,
        description="embedding -> shared MLP g -> z_hat -> one head f_c per objective",
    )
)
register(
    Architecture(
        name="adversarial",
        label="Adversarial",
        short="Adv",
        colour="#e6b800",
        markdown_colour="orange",
        params=AdversarialParams,
        build=build_adversarial,
        needs_objective=True,
        description="Multihead + a discriminator that must not read c from z_hat (gradient reversal, lambda)",
        readouts={"discriminator": discriminator_accuracy},
    )
)

__all__ = [
    "ARCHITECTURES",
    "AdversarialParams",
    "AdversarialReward",
    "Architecture",
    "BaseParams",
    "BaseReward",
    "ModelConfig",
    "MultiheadParams",
    "MultiheadReward",
    "RewardModel",
    "architecture",
    "architecture_names",
    "build_model",
    "default_params",
    "param_names",
    "register",
    "unregister",
]
