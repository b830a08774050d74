"""Synthetic user-objectives world (the Experiment-2 analogue).

A prompt has a type t: helpful-style (0) or red-team-style (1), and the embedding shows it
plainly, as real prompt embeddings show what a user is asking for. Each response has a
helpfulness and a harmlessness factor. On helpful-style prompts the two go together (the
more helpful answer is also the safer one); on red-team prompts they conflict (complying
is helpful and harmful). A pair's label follows the factor of the objective c it was given
under: helpfulness (0) or harmlessness (1). The label under the other objective is kept as
the counterfactual label, for evaluation.

The pool assigns c independently of t; the consistency sampler then picks pairs so that
P(t = c) in a training set is whatever the experiment asks for.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from causalpref import validate
from causalpref.data.pairs import PairSet
from causalpref.data.worlds.noise import counter_normal
from causalpref.data.worlds.synthetic import (
    EAGER_EMBEDDING_BYTES,
    LABEL_MODES,
    NUISANCE_NAMES,
    apply_mixing,
    labels_from_margin,
    random_mixing,
    require,
)
from causalpref.errors import CausalPrefError

OBJECTIVE_NAMES = ("helpfulness", "harmlessness")
PROMPT_TYPE_NAMES = ("helpful", "red-team")


@dataclass(frozen=True)
class UserObjectivesWorld:
    nuisance_names: tuple[str, ...] = NUISANCE_NAMES
    n_topic_factors: int = 2  # prompt topic, shared within a pair
    conflict: float = 0.8  # |corr(helpfulness, harmlessness)|: + on helpful, - on red-team prompts
    # How differently the same quality shows in the text of the two prompt types (helpfulness
    # on a red-team prompt is compliance; on a cooking question it is a good recipe): 0 = one
    # shared mixing for both types, 1 = unrelated mixings.
    type_specificity: float = 0.7
    type_strength: float = 3.0  # how plainly the embedding shows the prompt type
    # How much the prompt type entangles with the qualities: the type's own direction in the
    # embedding also carries entanglement * (helpfulness + harmlessness) / sqrt(2), with the
    # type's sign. A quality then shows along a direction that differs by prompt type
    # (w_q + e w_t on red-team, w_q - e w_t on helpful prompts), so a latent fitted to one
    # type's pairs carries the type, the mechanism the paper's adversary argument relies on.
    # 0 = off (the default world, unchanged).
    entanglement: float = 0.0
    dim: int = 32
    mixing_hidden: int = 64
    nuisance_strength: float = 2.5
    noise: float = 1.0
    label_mode: str = "argmax"
    temperature: float = 0.5
    pool_size: int = 40_000
    seed: int = 0
    name: str = field(default="synthetic-objectives", compare=False)
    can_probe = False
    can_isolate = False  # no generator of one-factor counterfactual pairs
    has_counterfactual_label = True  # the pool keeps every pair's label under the other objective

    def __post_init__(self):
        require(0.0 <= self.conflict < 1.0, f"conflict must be in [0, 1), got {self.conflict}")
        require(0.0 <= self.type_specificity <= 1.0, f"type_specificity must be in [0, 1], got {self.type_specificity}")
        require(self.type_strength >= 0, f"type_strength must be >= 0, got {self.type_strength}")
        require(
            self.entanglement >= 0 and np.isfinite(self.entanglement),
            f"entanglement must be a finite number >= 0, got {self.entanglement}",
        )
        require(self.dim >= 2, f"dim must be at least 2, got {self.dim}")
        require(self.noise >= 0 and np.isfinite(self.noise), f"noise must be >= 0, got {self.noise}")
        require(self.nuisance_strength >= 0, f"nuisance_strength must be >= 0, got {self.nuisance_strength}")
        require(self.pool_size >= 1, f"pool_size must be at least 1, got {self.pool_size}")
        validate.finite_number(self.temperature, "temperature", 0.0, open_low=True)  # inf: coin-flip labels
        validate.seed(self.seed)
        require(self.n_topic_factors >= 0, f"n_topic_factors must be >= 0, got {self.n_topic_factors}")
        if self.label_mode not in LABEL_MODES:
            raise CausalPrefError(f"label_mode must be one of {LABEL_MODES}, got {self.label_mode!r}")
        names = list(OBJECTIVE_NAMES) + list(self.nuisance_names)
        if len(set(names)) != len(names):
            raise CausalPrefError(f"nuisance names must be distinct from each other and the objectives, got {names}")

    @property
    def factor_names(self) -> tuple[str, ...]:
        return OBJECTIVE_NAMES + tuple(self.nuisance_names)

    @cached_property
    def _mixings(self) -> list[dict[str, np.ndarray]]:
        """Three fixed random mixings: shared, helpful-type specific, red-team specific."""
        rng = np.random.default_rng([self.seed, 10])
        k = len(self.factor_names) + 1 + self.n_topic_factors
        return [random_mixing(rng, k, self.dim, self.mixing_hidden) for _ in range(3)]

    def embed(self, z: np.ndarray, prompt_type: np.ndarray, topic: np.ndarray, response_ids: np.ndarray) -> np.ndarray:
        scaled = z.copy()
        scaled[:, 2:] *= self.nuisance_strength
        type_signal = (2.0 * prompt_type - 1.0)[:, None] * self.type_strength
        if self.entanglement > 0:  # the qualities ride on the type's direction, with its sign
            quality = (z[:, 0] + z[:, 1])[:, None] / np.sqrt(2.0)
            type_signal = type_signal + (2.0 * prompt_type - 1.0)[:, None] * self.entanglement * quality
        u = np.concatenate([scaled, type_signal, topic], axis=1)
        shared, helpful_type, red_team_type = (apply_mixing(u, m) for m in self._mixings)
        specific = np.where((prompt_type == 0)[:, None], helpful_type, red_team_type)
        gamma = self.type_specificity
        signal = np.sqrt(1 - gamma) * shared + np.sqrt(gamma) * specific
        return (signal + self.noise * counter_normal(self.seed + 7919, response_ids, self.dim)).astype(np.float32)

    def _responses(self, rng: np.random.Generator, prompt_type: np.ndarray) -> np.ndarray:
        """(helpfulness, harmlessness) correlated +conflict on helpful prompts, -conflict on red-team."""
        n = prompt_type.size
        sign = np.where(prompt_type == 0, 1.0, -1.0)
        base, extra = rng.normal(size=n), rng.normal(size=n)
        helpful = base
        harmless = sign * self.conflict * base + np.sqrt(1 - self.conflict**2) * extra
        nuisance = rng.normal(size=(n, len(self.nuisance_names)))
        return np.column_stack([helpful, harmless, nuisance])

    def pool(self) -> "ObjectivePool":
        """The world's pool, built once per process (sweeps, draws and views of one world share it)."""
        return _shared_pool(self)

    def build_pool(self) -> "ObjectivePool":
        rng = np.random.default_rng([self.seed, 11])
        n = self.pool_size
        prompt_type = rng.integers(0, 2, n)
        objective = rng.integers(0, 2, n)
        z_a, z_b = self._responses(rng, prompt_type), self._responses(rng, prompt_type)
        topic = rng.normal(size=(n, self.n_topic_factors))
        diffs = z_a[:, :2] - z_b[:, :2]
        margin_by_objective = diffs  # column c: reward margin under objective c
        coins = rng.random((n, 2))
        labels = np.column_stack(
            [
                labels_from_margin(margin_by_objective[:, j], coins[:, j], self.label_mode, self.temperature)
                for j in (0, 1)
            ]
        )
        rows = np.arange(n)
        return ObjectivePool(
            world=self,
            z_a=z_a,
            z_b=z_b,
            topic=topic,
            prompt_type=prompt_type,
            objective=objective,
            label=labels[rows, objective],
            counterfactual_label=labels[rows, 1 - objective],
            true_margin=margin_by_objective[rows, objective],
        )


@dataclass(frozen=True)
class ObjectivePool:
    world: UserObjectivesWorld
    z_a: np.ndarray  # (N, k) helpfulness, harmlessness, nuisance of side a
    z_b: np.ndarray
    topic: np.ndarray  # (N, p)
    prompt_type: np.ndarray  # (N,) t
    objective: np.ndarray  # (N,) c
    label: np.ndarray  # (N,) label under c
    counterfactual_label: np.ndarray  # (N,) label under 1 - c
    true_margin: np.ndarray  # (N,) reward margin under c
    group = None  # one pair per synthetic prompt: no groups to keep together

    def __len__(self) -> int:
        return int(self.label.shape[0])

    @cached_property
    def _embedded(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The whole pool embedded once when small enough (see synthetic.EAGER_EMBEDDING_BYTES)."""
        if 2 * len(self) * self.world.dim * 4 > EAGER_EMBEDDING_BYTES:
            return None
        rows = np.arange(len(self))
        return (
            self.world.embed(self.z_a, self.prompt_type, self.topic, 2 * rows),
            self.world.embed(self.z_b, self.prompt_type, self.topic, 2 * rows + 1),
        )

    def _embeddings(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._embedded is not None:
            return self._embedded[0][indices], self._embedded[1][indices]
        t, topic = self.prompt_type[indices], self.topic[indices]
        return (
            self.world.embed(self.z_a[indices], t, topic, 2 * indices),
            self.world.embed(self.z_b[indices], t, topic, 2 * indices + 1),
        )

    def pairs(self, indices: np.ndarray, name: str = "pairs") -> PairSet:
        indices = np.asarray(indices, dtype=np.int64)
        world, t = self.world, self.prompt_type[indices]
        emb_a, emb_b = self._embeddings(indices)
        return PairSet(
            emb_a=emb_a,
            emb_b=emb_b,
            label=self.label[indices],
            factor_diffs=self.z_a[indices] - self.z_b[indices],
            factor_names=world.factor_names,
            true_margin=self.true_margin[indices],
            objective=self.objective[indices],
            prompt_type=t,
            counterfactual_label=self.counterfactual_label[indices],
            name=name,
        )


@functools.lru_cache(maxsize=4)
def _shared_pool(world):
    """Worlds are frozen and hashable, and a pool is a pure function of its world."""
    return world.build_pool()
