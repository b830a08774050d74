"""Real preference data as a world: text pairs embedded by a local transformers model.

A `RealDataWorld` names a data file, its kind, the encoder and (for factor data) the true
reward weight a. Its pool holds every pair of the file with its embeddings (computed once
through the persistent embedding cache), its factor differences or its objective and
prompt type, and a group id per prompt/question: splits are drawn by group, never by
pair, so no question appears in both training and test data.

- factor data (TruthfulQA dual labels, UltraFeedback ratings, generic response tables):
  labels follow the paper's Experiment 1 — the response with the higher a*z1 + (1 - a)*z2
  wins, ties by a seeded coin;
- objective data (relabelled HH-RLHF, generic pair tables with objective/prompt_type):
  labels as given, for Experiment 2.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from causalpref import validate
from causalpref.data.kinds import data_kind, kinds_for
from causalpref.data.pairs import PairSet
from causalpref.data.worlds.synthetic import labels_from_margin
from causalpref.errors import CausalPrefError

FACTOR_KINDS = kinds_for("exp1")  # data kinds with factor differences: Experiment 1
OBJECTIVE_KINDS = kinds_for("exp2")  # data kinds with an objective and a prompt type: Experiment 2


def file_fingerprint(path: str | Path) -> str:
    """sha256 of a data file's bytes: part of every cache key built on it."""
    path = Path(path)
    if not path.is_file():
        raise CausalPrefError(f"data file {path} does not exist (pass a local path; this tool never downloads)")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class RealDataWorld:
    kind: str  # truthfulqa | ultrafeedback | responses | relabeled-hh | pairs
    path: str
    fingerprint: str  # sha256 of the file: a changed file is a different world
    factors: tuple[str, ...] = ()  # factor columns (generic response tables) or UltraFeedback aspects
    model_dir: str | None = None  # local transformers model; None = the packaged all-MiniLM-L6-v2
    max_length: int = 256
    a: float = 0.25
    seed: int = 0
    name: str = field(default="real", compare=False)
    can_probe = False  # real text cannot be made to order: no decision-boundary probe

    def __post_init__(self):
        # a NaN weight would make every factor label a coin flip
        validate.finite_number(self.a, "a (true reward a*factor1 + (1 - a)*factor2)", 0.0, 1.0)
        validate.seed(self.seed)

    @classmethod
    def from_path(cls, kind: str, path: str | Path, **options) -> "RealDataWorld":
        if kind not in FACTOR_KINDS + OBJECTIVE_KINDS:
            raise CausalPrefError(f"unknown data kind {kind!r}; choose from {list(FACTOR_KINDS + OBJECTIVE_KINDS)}")
        path = Path(path).expanduser().resolve()
        return cls(kind=kind, path=str(path), fingerprint=file_fingerprint(path), name=f"{kind}:{path.name}", **options)

    @property
    def has_factors(self) -> bool:
        return self.kind in FACTOR_KINDS

    @cached_property
    def _text(self):
        from causalpref.data.loaders import load_dataset

        return load_dataset(self.path, kind=self.kind, **data_kind(self.kind).loader_options(self.factors))

    @property
    def factor_names(self) -> tuple[str, ...]:
        return tuple(self._text.factor_names)

    @property
    def skipped(self) -> dict[str, int]:
        """What the loader left out of the file, and why (counts): repeated rows, among others."""
        return dict(self._text.skipped)

    @cached_property
    def dim(self) -> int:
        return int(self.pool().emb_a.shape[1])

    def pool(self, progress=None) -> "RealPool":
        return _pool_of(self, progress)


_POOLS: dict[RealDataWorld, "RealPool"] = {}


def _pool_of(world: RealDataWorld, progress) -> "RealPool":
    if world not in _POOLS:
        _POOLS[world] = RealPool.build(world, progress)
    return _POOLS[world]


@dataclass(frozen=True, eq=False)
class RealPool:
    world: RealDataWorld
    emb_a: np.ndarray
    emb_b: np.ndarray
    label: np.ndarray
    factor_diffs: np.ndarray | None
    objective: np.ndarray | None
    prompt_type: np.ndarray | None
    group: np.ndarray

    @classmethod
    def build(cls, world: RealDataWorld, progress=None) -> "RealPool":
        from causalpref.data.embed import Encoder
        from causalpref.data.embed_cache import EmbeddingCache, embed_with_cache

        text = world._text
        if world.has_factors and (text.factor_diffs is None or text.factor_diffs.shape[1] < 2):
            raise CausalPrefError(
                f"{world.path}: Experiment 1 needs two factor scores per response, and this "
                f"file gives {0 if text.factor_diffs is None else text.factor_diffs.shape[1]} "
                "(a binarized UltraFeedback file has only chosen/rejected; use the per-aspect "
                "ratings file, or --world pairs)"
            )
        if not world.has_factors and (text.objective is None or text.prompt_type is None):
            raise CausalPrefError(
                f"{world.path}: Experiment 2 needs an objective and a prompt type per pair "
                "(relabelled HH-RLHF, or a pair table with objective and prompt_type columns)"
            )
        encoder = Encoder(world.model_dir, max_length=world.max_length)
        # Embed each distinct (prompt, response) once; pairs index into the unique rows.
        keys = list(zip(text.prompt, text.response_a)) + list(zip(text.prompt, text.response_b))
        unique, inverse = {}, np.empty(len(keys), dtype=np.int64)
        for i, key in enumerate(keys):
            inverse[i] = unique.setdefault(key, len(unique))
        prompts, responses = zip(*unique.keys())
        cache = EmbeddingCache(encoder.fingerprint, encoder.dim)
        vectors = embed_with_cache(encoder, list(prompts), list(responses), cache, progress=progress)
        n = len(text)
        emb_a, emb_b = vectors[inverse[:n]], vectors[inverse[n:]]
        if world.has_factors:
            margin = world.a * text.factor_diffs[:, 0] + (1 - world.a) * text.factor_diffs[:, 1]
            coin = np.random.default_rng([world.seed, 3]).random(n)
            label = labels_from_margin(margin, coin, "argmax", 1.0)
        else:
            label = text.label.astype(np.float32)
        return cls(
            world=world,
            emb_a=emb_a.astype(np.float32),
            emb_b=emb_b.astype(np.float32),
            label=label,
            factor_diffs=text.factor_diffs,
            objective=text.objective,
            prompt_type=text.prompt_type,
            group=np.asarray(text.group),
        )

    def __len__(self) -> int:
        return int(self.label.shape[0])

    @property
    def factor_names(self) -> tuple[str, ...]:
        return self.world.factor_names

    def diffs(self, name: str) -> np.ndarray:
        if self.factor_diffs is None or name not in self.factor_names:
            raise CausalPrefError(f"{self.world.name}: no factor named {name!r}; factors: {list(self.factor_names)}")
        return self.factor_diffs[:, self.factor_names.index(name)]

    def pairs(self, indices: np.ndarray, name: str = "pairs") -> PairSet:
        indices = np.asarray(indices, dtype=np.int64)

        def take(array):
            return None if array is None else array[indices]

        margin = None
        if self.factor_diffs is not None:
            d = self.factor_diffs[indices]
            margin = self.world.a * d[:, 0] + (1 - self.world.a) * d[:, 1]
        return PairSet(
            emb_a=self.emb_a[indices],
            emb_b=self.emb_b[indices],
            label=self.label[indices],
            factor_diffs=take(self.factor_diffs),
            factor_names=self.factor_names if self.factor_diffs is not None else (),
            true_margin=margin,
            objective=take(self.objective),
            prompt_type=take(self.prompt_type),
            name=name,
        )
