"""One registry of real-data kinds: how each is loaded, which experiment it feeds and which
of its loader's options a user may set. The CLI choices, the Data page, the world and the
loader dispatch all read it.

Adding a kind is one loader function and one `register(DataKind(...))` entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from causalpref.errors import CausalPrefError


@dataclass(frozen=True)
class DataKind:
    name: str  # "truthfulqa", "relabeled-hh", ...
    label: str  # what people read
    loader: Callable  # (path, **options) -> TextPairs
    # True: factor scores per response (Experiment 1 with a stated preference rule); False: labelled
    # pairs (Experiment 1 with a factor measured from the text, Experiment 2 where objectives are given)
    scores: bool
    objectives: bool = False  # whether its pairs may carry an objective and a prompt type (Experiment 2)
    # the loader keyword that takes the user's factor names ("factors" for response tables, "aspects" for
    # UltraFeedback's ratings), and how many the user must name (0: the loader has defaults)
    factor_option: str | None = None
    factors_needed: int = 0

    def loader_options(self, factors: tuple[str, ...]) -> dict:
        """The loader keywords for the user's factor names (none when the kind takes none)."""
        if self.factor_option is None or not factors:
            if self.factors_needed and len(factors) < self.factors_needed:
                raise CausalPrefError(
                    f"{self.label} needs at least {self.factors_needed} factor columns "
                    f"(--factors NAME NAME on the command line), got {list(factors)}"
                )
            return {}
        if len(factors) < max(self.factors_needed, 1):
            raise CausalPrefError(
                f"{self.label} needs at least {self.factors_needed} factor columns, got {list(factors)}"
            )
        return {self.factor_option: list(factors) if self.factor_option == "factors" else tuple(factors)}


DATA_KINDS: dict[str, DataKind] = {}


def register(kind: DataKind) -> DataKind:
    if kind.name in DATA_KINDS:
        raise CausalPrefError(f"a data kind named {kind.name!r} is registered already")
    DATA_KINDS[kind.name] = kind
    return kind


def data_kind(name: str) -> DataKind:
    if name not in DATA_KINDS:
        raise CausalPrefError(f"unknown data kind {name!r}; choose from {list(DATA_KINDS)}")
    return DATA_KINDS[name]


def kinds_for(experiment: str) -> tuple[str, ...]:
    """The kinds that can feed an experiment, in registration order: every kind feeds
    Experiment 1 (factor scores, or a label and a factor measured from the text); Experiment 2
    needs an objective and a prompt type per pair."""
    if experiment == "exp1":
        return tuple(DATA_KINDS)
    return tuple(name for name, kind in DATA_KINDS.items() if kind.objectives)


def factor_kinds() -> tuple[str, ...]:
    """The kinds with factor scores per response (the rest hold labelled pairs)."""
    return tuple(name for name, kind in DATA_KINDS.items() if kind.scores)


def _register_built_ins() -> None:
    from causalpref.data import loaders, trl

    for kind in (
        DataKind("truthfulqa", "TruthfulQA with truthful/informative labels", loaders.load_truthfulqa_dual, True),
        DataKind(
            "ultrafeedback",
            "UltraFeedback (per-aspect ratings)",
            loaders.load_ultrafeedback,
            True,
            factor_option="aspects",
        ),
        DataKind(
            "responses",
            "a per-response table with factor columns",
            loaders.load_response_table,
            True,
            factor_option="factors",
            factors_needed=2,
        ),
        DataKind("relabeled-hh", "relabelled HH-RLHF", loaders.load_relabeled_hh, False, objectives=True),
        DataKind(
            "pairs",
            "a per-pair table (prompt, response_a, response_b, label)",
            loaders.load_pair_table,
            False,
            objectives=True,
        ),
        DataKind("preference", "TRL preference data (chosen, rejected)", trl.load_preference, False, objectives=True),
        DataKind("hh-rlhf", "HH-RLHF dialogues (chosen, rejected)", loaders.load_hh_rlhf, False),
        DataKind("unpaired", "TRL unpaired preference data (prompt, completion, label)", trl.load_unpaired, False),
        DataKind("ratings", "a rating table, one row per response", trl.load_ratings, False),
    ):
        register(kind)


_register_built_ins()
