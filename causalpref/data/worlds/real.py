"""Real preference data as a world: text pairs embedded by a local transformers model.

A `RealDataWorld` names a data file (or a folder of files, a saved `datasets` folder, a hub
name), its kind, how its columns map, the encoder, and the rule that says which response is
truly preferred. Its text pool (`text_pool`: no vectors) holds what the samplers need — factor
differences or objective and prompt type, and a group id per prompt — so every check of a
run (sizes, feasible rho, consistency) happens before the first text is embedded. Its pool
adds the embeddings (computed once through the persistent embedding cache). Splits are drawn
by prompt group, never by pair.

The preference rule is explicit:
- factor data (TruthfulQA dual labels, UltraFeedback ratings, response tables): the response
  with the higher a*factor1 + (1 - a)*factor2 wins (ties by a seeded coin), where the user
  names the factors' order and a (`--prefer FACTOR`: a = 1; `--weights F1=W F2=W`);
- labelled pairs (pair tables, TRL preference data, HH-RLHF, ...): the file's label; for
  Experiment 1 the second factor is measured from the text (`measure`: length, formatting,
  refusal, see data/measures.py), so d1 = which response is preferred (+1 / -1) and
  d2 = measure(a) - measure(b);
- objective data (relabelled HH-RLHF, pair tables with objective/prompt_type): labels as
  given, for Experiment 2.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from causalpref import validate
from causalpref.data.columns import ColumnMap, DataSource
from causalpref.data.kinds import DATA_KINDS, data_kind, factor_kinds, kinds_for
from causalpref.data.pairs import PairSet
from causalpref.data.worlds.synthetic import labels_from_margin
from causalpref.errors import CausalPrefError

FACTOR_KINDS = factor_kinds()  # factor scores per response: Experiment 1 with a stated preference rule
EXP1_KINDS = kinds_for("exp1")  # every kind: labelled pairs feed Experiment 1 with a measured factor
OBJECTIVE_KINDS = kinds_for("exp2")  # kinds whose pairs may carry an objective and a prompt type
PREFERRED = "preferred"  # the first factor of a labelled pair file in Experiment 1


def file_fingerprint(path: str | Path) -> str:
    """sha256 of a data file's bytes (of a folder: of its files' names and bytes): part of
    every cache key built on it."""
    path = Path(path)
    if path.is_dir():
        digest = hashlib.sha256()
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(file.relative_to(path)).encode() + b"\0" + file_fingerprint(file).encode())
        return digest.hexdigest()
    if not path.is_file():
        raise CausalPrefError(f"data file {path} does not exist (pass a local path; this tool never downloads)")
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class RealDataWorld:
    kind: str  # a registered data kind (data/kinds.py)
    path: str  # a file, a folder of files, a saved dataset folder, or hub:NAME
    fingerprint: str  # sha256 of the data: a changed file is a different world
    factors: tuple[str, ...] = ()  # factor data: the factors in the rule's order (first = weight a)
    model_dir: str | None = None  # local transformers model; None = the packaged all-MiniLM-L6-v2
    max_length: int = 256
    a: float | None = None  # factor data: true reward a*factor1 + (1 - a)*factor2; None = not stated
    seed: int = 0
    measure: str | None = None  # labelled pairs in Experiment 1: the factor measured from the text
    columns: ColumnMap = field(default_factory=ColumnMap)  # the file's fields mapped (--columns)
    split: str | None = None  # a saved DatasetDict's or hub data set's split
    split_shares: tuple[float, float, float] = (0.6, 0.1, 0.3)  # Experiment 1: prompt groups per train/val/test
    tol: float = 0.02  # Experiment 1: how close a drawn set's rho must come to its target
    name: str = field(default="real", compare=False)
    can_probe = False  # real text cannot be made to order: no decision-boundary probe
    can_isolate = False  # nor can a pair that differs in one factor only

    def __post_init__(self):
        if self.kind not in DATA_KINDS:
            raise CausalPrefError(f"unknown data kind {self.kind!r}; choose from {list(DATA_KINDS)}")
        if self.a is not None:  # a NaN weight would make every factor label a coin flip
            validate.finite_number(self.a, "a (true reward a*factor1 + (1 - a)*factor2)", 0.0, 1.0)
        validate.seed(self.seed)
        shares = tuple(self.split_shares)
        if len(shares) != 3:
            raise CausalPrefError(f"split shares: expected three (train val test), got {list(shares)}")
        for name, share in zip(("train", "val", "test"), shares):
            validate.finite_number(share, f"split share of {name} (--split-shares)", 0.0, 1.0, open_low=True)
        object.__setattr__(self, "split_shares", tuple(float(x) for x in shares))
        validate.finite_number(self.tol, "rho tolerance (--tol)", 0.0, 0.5, open_low=True)
        if self.measure is not None:
            from causalpref.data.measures import measure_label

            measure_label(self.measure)  # an unknown name fails here, before any reading
            if self.a is None:  # the label is factor 1 and the whole preference; the measure is spurious
                object.__setattr__(self, "a", 1.0)
            if self.has_factors:
                raise CausalPrefError(
                    f"{self.path}: a measured factor ({self.measure}) is for labelled pairs; {self.kind} data "
                    "has factor scores: name two of its factors (a response table may also name a "
                    "measured factor among --factors)"
                )

    @classmethod
    def from_path(cls, kind: str, path: str | Path, **options) -> "RealDataWorld":
        from causalpref.data.hf import looks_like_hub_name, split_suffix

        text, split = split_suffix(str(path))
        split = options.pop("split", None) or split
        local = Path(text).expanduser()
        if not local.exists() and looks_like_hub_name(text):
            where, fingerprint = text, f"hub:{text}:{split}"
        else:
            where = str(local.resolve())
            fingerprint = file_fingerprint(where)
        world = cls(
            kind=kind, path=where, fingerprint=fingerprint, split=split, name=f"{kind}:{Path(text).name}", **options
        )
        return world

    @property
    def has_counterfactual_label(self) -> bool:
        """Whether the file maps a label under the other objective (label_other) for its pairs."""
        return self.text.label_other is not None

    @property
    def has_factors(self) -> bool:
        """Whether the data holds factor scores per response (else labelled pairs)."""
        return self.kind in FACTOR_KINDS

    @property
    def source(self) -> DataSource:
        return DataSource(self.path, self.columns, self.split)

    @cached_property
    def _text(self):
        from causalpref.data.loaders import load_dataset

        options = data_kind(self.kind).loader_options(self.factors)  # counts measured factors too
        if "factors" in options:
            options["factors"] = list(self._loader_factors())
        text = load_dataset(self.source, kind=self.kind, **options)
        measured = [f for f in self.factors if f not in text.factor_names and self.kind == "responses"]
        if measured:  # a response table may name measured factors among its factor columns
            text = _add_measured(text, measured, self.model_dir)
        if self.has_factors and self.factors:
            text = _ordered_factors(text, self.factors)
        if self.measure is not None:
            text = _with_measure(text, self.measure, self.model_dir)
        return text

    def _loader_factors(self) -> tuple[str, ...]:
        """The factor names the loader reads (a response table's measured factors are computed here)."""
        if self.kind != "responses":
            return self.factors
        from causalpref.data.measures import MEASURES

        return tuple(f for f in self.factors if f not in MEASURES) or self.factors

    @property
    def text(self):
        """The file's pairs as text (`TextPairs`), factors ordered and measured as the rule says."""
        return self._text

    @property
    def factor_names(self) -> tuple[str, ...]:
        return tuple(self._text.factor_names)

    @property
    def skipped(self) -> dict[str, int]:
        """What the loader left out of the file, and why (counts): repeated rows, among others."""
        return dict(self._text.skipped)

    @property
    def rule(self) -> str:
        """Which response is truly preferred, in words (printed before a run, written with its results)."""
        if self.measure is not None:
            from causalpref.data.measures import measure_label

            return (
                f"true preference = the file's label (factor 1, '{PREFERRED}'); factor 2 = "
                f"{measure_label(self.measure)}, measured from the text, not part of the preference"
            )
        if self.has_factors:
            names = self.factor_names[:2] if "_text" in self.__dict__ or self.factors else self.factors[:2]
            if self.a is None or len(names) < 2:
                return "true preference not stated"
            f1, f2 = names
            if self.a == 1.0:
                return f"true preference = {f1} (weight 1); {f2} is spurious (weight 0)"
            if self.a == 0.0:
                return f"true preference = {f2} (weight 1); {f1} is spurious (weight 0)"
            return f"true reward = {self.a:g}·{f1} + {1 - self.a:g}·{f2}"
        return "true preference = the file's label"

    @property
    def description(self) -> str:
        """The world in one line for a results table: the file, its mapping and the rule."""
        parts = [self.name]
        if self.split:
            parts.append(f"split {self.split}")
        if self.columns:
            parts.append(f"columns {self.columns.describe()}")
        parts.append(self.rule)
        return " · ".join(parts)

    @cached_property
    def dim(self) -> int:
        return int(self.pool().emb_a.shape[1])

    def text_pool(self) -> "TextPool":
        """Everything the samplers need, without embeddings: checks run on it before embedding."""
        return TextPool.build(self)

    def pool(self, progress=None) -> "RealPool":
        return _pool_of(self, progress)


def _ordered_factors(text, factors: tuple[str, ...]):
    """The text pairs with their factor columns in the rule's order (named factors first)."""
    from dataclasses import replace

    names = list(text.factor_names)
    missing = [f for f in factors if f not in names]
    if missing:
        raise CausalPrefError(f"{text.source}: no factor {missing[0]!r}; its factors are {names}")
    order = [names.index(f) for f in factors] + [k for k, f in enumerate(names) if f not in factors]
    return replace(text, factor_diffs=text.factor_diffs[:, order], factor_names=tuple(names[k] for k in order))


def _with_measure(text, measure: str, model_dir):
    """Labelled pairs as Experiment-1 factors: d1 = +1 when a is preferred, else -1;
    d2 = measure(a) - measure(b)."""
    from dataclasses import replace

    if text.label is None:
        raise CausalPrefError(f"{text.source}: a measured factor needs a preference label per pair; this data has none")
    d1 = 2.0 * text.label.astype(np.float64) - 1.0
    d2 = _measured_diff(text, measure, model_dir)
    return replace(text, factor_diffs=np.column_stack([d1, d2]), factor_names=(PREFERRED, measure))


def _measured_diff(text, measure: str, model_dir) -> np.ndarray:
    from causalpref.data.measures import measure_texts

    return measure_texts(measure, text.response_a, model_dir) - measure_texts(measure, text.response_b, model_dir)


def _add_measured(text, measures: list[str], model_dir):
    """Factor-score pairs with measured factors appended as more factor columns."""
    from dataclasses import replace

    from causalpref.data.measures import MEASURES

    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise CausalPrefError(
            f"{text.source}: factor {unknown[0]!r} is neither a column of the file nor a measured factor "
            f"({', '.join(MEASURES)})"
        )
    columns = [text.factor_diffs] + [_measured_diff(text, m, model_dir)[:, None] for m in measures]
    return replace(text, factor_diffs=np.hstack(columns), factor_names=text.factor_names + tuple(measures))


_POOLS: dict[RealDataWorld, "RealPool"] = {}


def _pool_of(world: RealDataWorld, progress) -> "RealPool":
    if world not in _POOLS:
        _POOLS[world] = RealPool.build(world, progress)
    return _POOLS[world]


def has_pool(world: RealDataWorld) -> bool:
    """Whether this process holds the pool of `world` (built or adopted)."""
    return world in _POOLS


def adopt_pool(pool: "RealPool") -> None:
    """Use a pool built elsewhere as its world's pool: a Ray worker receives the driver's
    (run/ray_backend.py) instead of reading the file and loading the encoder again."""
    _POOLS[pool.world] = pool


@dataclass(frozen=True, eq=False)
class TextPool:
    """What the samplers need of a real world, without embeddings: labels, factor differences
    or objective and prompt type, and groups. Built in seconds, so every check runs on it first."""

    world: RealDataWorld
    label: np.ndarray
    factor_diffs: np.ndarray | None
    objective: np.ndarray | None
    prompt_type: np.ndarray | None
    group: np.ndarray
    counterfactual_label: np.ndarray | None

    @classmethod
    def build(cls, world: RealDataWorld) -> "TextPool":
        text = world.text
        if world.has_factors:
            have = 0 if text.factor_diffs is None else text.factor_diffs.shape[1]
            if have < 2:
                raise CausalPrefError(
                    f"{world.path}: Experiment 1 needs two factor scores per response, and this file gives "
                    f"{have}; name two factor columns (--factors), or use a labelled pair file with a "
                    "measured factor (--factors length_words)"
                )
            if world.a is None:
                raise CausalPrefError(
                    f"{world.path}: say which response is truly preferred: --prefer FACTOR (one factor "
                    f"decides, the other is spurious) or --weights {text.factor_names[0]}=W "
                    f"{text.factor_names[1]}=W; factors: {list(text.factor_names)}"
                )
            margin = world.a * text.factor_diffs[:, 0] + (1 - world.a) * text.factor_diffs[:, 1]
            coin = np.random.default_rng([world.seed, 3]).random(len(text))
            label = labels_from_margin(margin, coin, "argmax", 1.0)
        else:
            label = text.label.astype(np.float32)
        return cls(
            world=world,
            label=label,
            factor_diffs=text.factor_diffs,
            objective=text.objective,
            prompt_type=text.prompt_type,
            group=np.asarray(text.group),
            counterfactual_label=text.label_other,
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

    def true_margin(self, indices) -> np.ndarray | None:
        if self.factor_diffs is None:
            return None
        d = self.factor_diffs[indices]
        a = 1.0 if self.world.a is None else self.world.a  # labelled pairs: factor 1 is the preference
        return a * d[:, 0] + (1 - a) * d[:, 1]


@dataclass(frozen=True, eq=False)
class RealPool(TextPool):
    emb_a: np.ndarray = None
    emb_b: np.ndarray = None

    @classmethod
    def build(cls, world: RealDataWorld, progress=None) -> "RealPool":
        from dataclasses import fields

        texts = TextPool.build(world)  # every check that needs no vectors, first
        emb_a, emb_b = embed_pairs(world, progress)
        return cls(**{f.name: getattr(texts, f.name) for f in fields(TextPool)}, emb_a=emb_a, emb_b=emb_b)

    def pairs(self, indices: np.ndarray, name: str = "pairs") -> PairSet:
        indices = np.asarray(indices, dtype=np.int64)

        def take(array):
            return None if array is None else array[indices]

        return PairSet(
            emb_a=self.emb_a[indices],
            emb_b=self.emb_b[indices],
            label=self.label[indices],
            factor_diffs=take(self.factor_diffs),
            factor_names=self.factor_names if self.factor_diffs is not None else (),
            true_margin=self.true_margin(indices),
            objective=take(self.objective),
            prompt_type=take(self.prompt_type),
            counterfactual_label=take(self.counterfactual_label),
            name=name,
        )


def embed_pairs(world: RealDataWorld, progress=None, embed=None) -> tuple[np.ndarray, np.ndarray]:
    """The embeddings of every pair's two responses (with their prompt), float32; each distinct
    (prompt, response) is embedded once, and only what the embedding cache lacks. `embed` is
    how (default: data/embed_cache.py `embed_with_cache`, in this process; `embed --backend
    ray` passes run/ray_embed.py `embed_on_ray`, same arguments)."""
    from causalpref.data.embed import Encoder
    from causalpref.data.embed_cache import EmbeddingCache, embed_with_cache

    text = world.text
    encoder = Encoder(world.model_dir, max_length=world.max_length)
    keys = list(zip(text.prompt, text.response_a)) + list(zip(text.prompt, text.response_b))
    unique, inverse = {}, np.empty(len(keys), dtype=np.int64)
    for i, key in enumerate(keys):
        inverse[i] = unique.setdefault(key, len(unique))
    prompts, responses = zip(*unique.keys())
    cache = EmbeddingCache(encoder.fingerprint, encoder.dim)
    embed = embed if embed is not None else embed_with_cache
    vectors = embed(encoder, list(prompts), list(responses), cache, progress=progress)
    n = len(text)
    return vectors[inverse[:n]].astype(np.float32), vectors[inverse[n:]].astype(np.float32)
