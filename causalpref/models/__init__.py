"""Reward-model architectures and their registry.

Importing this package registers the paper's three architectures, in this order:
Base, Multihead, Adversarial; then Decorrelated, this lab's own (Multihead with z_hat made
independent of c by an HSIC penalty, no adversary). See registry.py for what an entry holds.
"""

from causalpref.models.config import ModelConfig
from causalpref.models.params import AdversarialParams, BaseParams, DecorrelatedParams, MultiheadParams
from causalpref.models.registry import (
    ARCHITECTURES,
    Architecture,
    Lazy,
    architecture,
    architecture_names,
    build_model,
    default_params,
    param_names,
    register,
    unregister,
)

# The torch modules load when a model is first built or named (see __getattr__ below).
_TORCH_NAMES = {
    "AdversarialReward": "causalpref.models.adversarial",
    "build_adversarial": "causalpref.models.adversarial",
    "discriminator_accuracy": "causalpref.models.adversarial",
    "BaseReward": "causalpref.models.base",
    "RewardModel": "causalpref.models.base",
    "build_base": "causalpref.models.base",
    "MultiheadReward": "causalpref.models.multihead",
    "DecorrelatedReward": "causalpref.models.decorrelated",
    "build_decorrelated": "causalpref.models.decorrelated",
    "build_multihead": "causalpref.models.multihead",
}


def __getattr__(name):
    if name in _TORCH_NAMES:
        import importlib

        return getattr(importlib.import_module(_TORCH_NAMES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


register(
    Architecture(
        name="base",
        label="Base",
        short="Base",
        colour="#1f77b4",
        markdown_colour="blue",
        params=BaseParams,
        build=Lazy("causalpref.models.base", "build_base"),
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
        build=Lazy("causalpref.models.multihead", "build_multihead"),
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
        build=Lazy("causalpref.models.adversarial", "build_adversarial"),
        needs_objective=True,
        description="Multihead + a discriminator that must not read c from z_hat (gradient reversal, lambda)",
        # beside the discriminator, a fresh probe: what is left in z_hat for anyone to read
        readouts={
            "discriminator": Lazy("causalpref.models.adversarial", "discriminator_accuracy"),
            "probe": Lazy("causalpref.eval.inspect", "probe_accuracy"),
        },
        plays_game=True,
    )
)
register(
    Architecture(
        name="decorrelated",
        label="Decorrelated",
        short="Decor",
        colour="#4b0082",  # indigo: clear of the other models, PALETTE and SEED_COLOURS (tests/test_plots.py)
        markdown_colour="violet",
        params=DecorrelatedParams,
        build=Lazy("causalpref.models.decorrelated", "build_decorrelated"),
        needs_objective=True,
        description="Multihead + an HSIC penalty making z_hat independent of c (no adversary)",
        readouts={"probe": Lazy("causalpref.eval.inspect", "probe_accuracy")},
    )
)

__all__ = [
    "ARCHITECTURES",
    "AdversarialParams",
    "AdversarialReward",
    "Architecture",
    "BaseParams",
    "BaseReward",
    "DecorrelatedParams",
    "DecorrelatedReward",
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
