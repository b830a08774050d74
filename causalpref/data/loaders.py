"""Loaders that turn real preference data files into `TextPairs`: pairs of responses as text.

Every loader reads a local file and returns one `TextPairs` (prompts, the two responses, a
label and/or factor differences, the objective c and prompt type t where the data has them,
and a group id per prompt). Embeddings are computed later, by another module.

Files
-----
The reader is chosen by the file's suffix: ``.jsonl`` / ``.ndjson`` (one JSON object per
line), ``.json`` (a list of objects), ``.csv`` (a header line, then one row per record), each
optionally gzipped (``.jsonl.gz``, ``.json.gz``, ``.csv.gz``), and ``.parquet`` (needs
pyarrow). Every bad input raises `CausalPrefError` with a one-line message naming the file,
the line (1-based; for CSV the line where the record starts, for a JSON list the line where
the object starts, for Parquet the row), the field, and what was expected.

Shapes
------
- ``hh-rlhf`` (`load_hh_rlhf`): ``{"chosen": "\\n\\nHuman: ...\\n\\nAssistant: ...", "rejected": ...}``.
- ``relabeled-hh`` (`load_relabeled_hh`): ``{"prompt", "responses": [r0, r1], "data_subset",
  "objective", "label"}`` (label indexes the preferred response).
- ``truthfulqa`` (`load_truthfulqa_dual`): one row per answer ``{"question", "answer",
  "truthful": 0|1, "informative": 0|1}``.
- ``ultrafeedback`` (`load_ultrafeedback`): either the fine-grained shape ``{"instruction",
  "completions": [{"response", "annotations": {aspect: {"Rating": "1".."5" | "N/A"}}}]}`` or the
  binarized shape ``{"prompt", "chosen", "rejected"}`` (strings or lists of role/content messages).
- Two generic shapes for your own data:

  * ``responses`` (`load_response_table`): a per-response table with columns ``prompt``,
    ``response`` and one numeric column per factor (names given by ``factors=``). Every pair of
    distinct responses to the same prompt becomes a pair, with factor differences
    ``factor(a) - factor(b)`` and no label (the experiment derives labels from the factors).
  * ``pairs`` (`load_pair_table`): a per-pair table with columns ``prompt``, ``response_a``,
    ``response_b``, ``label`` (0/1, 1 = a preferred) and optionally ``objective`` and
    ``prompt_type`` (0/1 or the words helpful/harmless) and ``group`` (any value; rows with the
    same value share a group; without it, rows with the same prompt do).

Conventions
-----------
- ``label`` is float32, 1.0 when response a is preferred. Where the source names a chosen and a
  rejected response (HH-RLHF, UltraFeedback binarized), a and b are chosen/rejected in a
  seeded random order per pair, so that position carries no signal. The coin is a hash of
  (seed, prompt, chosen, rejected): the same pair gets the same order whatever else the file
  holds or in which order.
- Factor data (TruthfulQA, UltraFeedback ratings, response tables) give every pair of distinct
  responses to one prompt once, in a seeded random order (the generator is seeded by the seed
  and the prompt's text), so the factor differences are symmetric around 0.
- ``objective`` and ``prompt_type`` are 0 for helpful, 1 for harmless.
- ``group``: pairs sharing a prompt (a question) share a group id, numbered by first
  appearance in the file. Split data by group, never by pair.
- ``max_rows=`` (every loader) reads only the first max_rows records: for quick looks and tests.

Offline only
------------
These loaders never download. A name that is not a local path but looks like a Hugging Face
hub name (``"Anthropic/hh-rlhf"``) raises `CausalPrefError` asking for a local copy, even when
the `datasets` package is installed and the network is up: fetch the data elsewhere (for
example ``datasets.load_dataset(name, split="test").to_json("test.jsonl")``) and pass the path.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import inspect
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from causalpref import validate
from causalpref.data.columns import DataSource, mapped_rows
from causalpref.errors import CausalPrefError

__all__ = [
    "TextPairs",
    "load_dataset",
    "load_hh_rlhf",
    "load_relabeled_hh",
    "load_truthfulqa_dual",
    "load_ultrafeedback",
    "load_response_table",
    "load_pair_table",
    "read_records",
    "named_in_errors",
]

HUMAN = "\n\nHuman:"
ASSISTANT = "\n\nAssistant:"
OBJECTIVE_CODES = {"helpful": 0, "harmless": 1}
TRUTHFULQA_FACTORS = ("truthful", "informative")


# --------------------------------------------------------------------------------------------
# The text-level pair type
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TextPairs:
    """Pairs of responses as text, before embedding."""

    prompt: list[str]  # the prompt (for dialogues: everything before the final assistant turn)
    response_a: list[str]
    response_b: list[str]
    label: np.ndarray | None  # (n,) float32, 1.0 when a is preferred; None when derived later from factors
    factor_diffs: np.ndarray | None  # (n, k) float64, factor(a) - factor(b)
    factor_names: tuple[str, ...]
    objective: np.ndarray | None  # (n,) int 0/1 (0 helpful, 1 harmless): the objective the label was given under
    prompt_type: np.ndarray | None  # (n,) int 0/1 (0 helpful, 1 harmless/red-team)
    group: np.ndarray  # (n,) int: pairs sharing a prompt/question share a group
    source: str  # file path or hub name
    skipped: dict[str, int] = field(default_factory=dict)  # what the loader left out, and why (counts)
    # (n,) float32 0/1: the label of the same pair under the other objective, where the file has it
    label_other: np.ndarray | None = None
    shape: str = ""  # the recognised shape of the file, in words ("" when not recorded)

    def __post_init__(self):
        where = self.source if isinstance(self.source, str) and self.source else "TextPairs"
        if not isinstance(self.source, str):
            raise CausalPrefError(
                f"{where}: source must be a string (a file path or hub name), got {type(self.source).__name__}"
            )
        texts = {}
        for name in ("prompt", "response_a", "response_b"):
            value = getattr(self, name)
            if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
                raise CausalPrefError(f"{where}: {name} must be a list of strings, got {type(value).__name__}")
            value = list(value)
            for i, text in enumerate(value):
                if not isinstance(text, str):
                    got = "None" if text is None else type(text).__name__
                    raise CausalPrefError(f"{where}: {name}[{i}] is {got}, expected a string")
            texts[name] = value
        n = len(texts["prompt"])
        if n == 0:
            raise CausalPrefError(f"{where}: no pairs (prompt is empty); expected at least one pair")
        for name, value in texts.items():
            if len(value) != n:
                raise CausalPrefError(
                    f"{where}: {name} has {len(value)} entries but prompt has {n}; expected equal lengths"
                )
            object.__setattr__(self, name, value)

        if self.label is not None:
            label = _as_array(self.label, "label", where, np.float32)
            _check_shape(label, (n,), "label", where)
            _check_finite(label, "label", where)
            bad = np.flatnonzero((label != 0) & (label != 1))
            if bad.size:
                raise CausalPrefError(f"{where}: label[{bad[0]}] is {float(label[bad[0]])}, expected 0 or 1")
            object.__setattr__(self, "label", label)

        names = self.factor_names
        if isinstance(names, str) or not all(isinstance(x, str) for x in names):
            raise CausalPrefError(f"{where}: factor_names must be a tuple of strings, got {names!r}")
        object.__setattr__(self, "factor_names", tuple(names))
        if self.factor_diffs is not None:
            diffs = _as_array(self.factor_diffs, "factor_diffs", where, np.float64)
            _check_shape(
                diffs, (n, len(self.factor_names)), "factor_diffs", where, f" for factors {list(self.factor_names)}"
            )
            _check_finite(diffs, "factor_diffs", where)
            object.__setattr__(self, "factor_diffs", diffs)
        elif self.factor_names:
            raise CausalPrefError(f"{where}: factor_names {list(self.factor_names)} given but factor_diffs is None")
        if self.label is None and self.factor_diffs is None:
            raise CausalPrefError(
                f"{where}: label and factor_diffs are both None; expected labels, factor differences or both"
            )

        if self.label_other is not None:
            other = _as_array(self.label_other, "label_other", where, np.float32)
            _check_shape(other, (n,), "label_other", where)
            bad = np.flatnonzero((other != 0) & (other != 1))
            if bad.size:
                raise CausalPrefError(f"{where}: label_other[{bad[0]}] is {float(other[bad[0]])}, expected 0 or 1")
            object.__setattr__(self, "label_other", other)
        for name in ("objective", "prompt_type"):
            value = getattr(self, name)
            if value is not None:
                value = _as_int_array(value, name, where)
                _check_shape(value, (n,), name, where)
                bad = np.flatnonzero((value != 0) & (value != 1))
                if bad.size:
                    raise CausalPrefError(
                        f"{where}: {name}[{bad[0]}] is {int(value[bad[0]])}, expected 0 (helpful) or 1 (harmless)"
                    )
                object.__setattr__(self, name, value)
        if self.group is None:
            raise CausalPrefError(f"{where}: group is None; expected an integer group id per pair")
        group = _as_int_array(self.group, "group", where)
        _check_shape(group, (n,), "group", where)
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "skipped", dict(self.skipped or {}))

    def __len__(self) -> int:
        return len(self.prompt)

    def __repr__(self) -> str:
        parts = [f"{len(self)} pairs", f"{self.n_groups} groups"]
        if self.label is not None:
            parts.append(f"a preferred {self.label.mean():.1%}")
        if self.factor_names:
            parts.append(f"factors {list(self.factor_names)}")
        if self.objective is not None:
            parts.append("objective")
        if self.prompt_type is not None:
            parts.append("prompt_type")
        return f"TextPairs({', '.join(parts)}, source={self.source!r})"

    @property
    def n_groups(self) -> int:
        return int(np.unique(self.group).size)

    def subset(self, indices) -> "TextPairs":
        """The pairs at `indices` (integer positions or a boolean mask of length n), in that order."""
        idx = np.asarray(indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise CausalPrefError(f"{self.source}: boolean mask has shape {idx.shape}, expected ({len(self)},)")
            idx = np.flatnonzero(idx)
        elif idx.size == 0:
            idx = idx.astype(np.int64)
        elif not np.issubdtype(idx.dtype, np.integer):
            raise CausalPrefError(
                f"{self.source}: subset indices must be integers or a boolean mask, got dtype {idx.dtype}"
            )
        idx = idx.reshape(-1)
        if idx.size and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise CausalPrefError(f"{self.source}: subset index out of range for {len(self)} pairs")

        def take(array):
            return None if array is None else array[idx]

        return TextPairs(
            prompt=[self.prompt[i] for i in idx],
            response_a=[self.response_a[i] for i in idx],
            response_b=[self.response_b[i] for i in idx],
            label=take(self.label),
            factor_diffs=take(self.factor_diffs),
            factor_names=self.factor_names,
            objective=take(self.objective),
            prompt_type=take(self.prompt_type),
            group=take(self.group),
            source=self.source,
            skipped=self.skipped,
            label_other=take(self.label_other),
            shape=self.shape,
        )

    def summary(self) -> dict[str, Any]:
        """Counts for a report: pairs, groups, label balance, (t, c) cells, factor-diff values."""
        out: dict[str, Any] = {"source": self.source, "pairs": len(self), "groups": self.n_groups}
        if self.label is not None:
            out["a_preferred"] = float(self.label.mean())
        if self.prompt_type is not None and self.objective is not None:
            names = ("helpful", "harmless")
            cells = Counter(zip(self.prompt_type.tolist(), self.objective.tolist()))
            out["t_c_counts"] = {f"{names[t]}->{names[c]}": k for (t, c), k in sorted(cells.items())}
        elif self.prompt_type is not None:
            out["prompt_type_counts"] = dict(sorted(Counter(self.prompt_type.tolist()).items()))
        if self.factor_diffs is not None:
            out["factor_diff_counts"] = {
                name: {float(v): int(k) for v, k in zip(*np.unique(self.factor_diffs[:, j], return_counts=True))}
                for j, name in enumerate(self.factor_names)
            }
        if self.skipped:
            out["skipped"] = dict(self.skipped)
        return out


def _as_array(value, name, where, dtype) -> np.ndarray:
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise CausalPrefError(f"{where}: {name} must be numeric ({exc})") from None


def _as_int_array(value, name, where) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == bool or np.issubdtype(array.dtype, np.integer):
        return array.astype(np.int64)
    if np.issubdtype(array.dtype, np.floating) and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        return array.astype(np.int64)
    raise CausalPrefError(f"{where}: {name} must hold integers, got dtype {array.dtype}")


def _check_shape(array, shape, name, where, extra="") -> None:
    if array.shape != shape:
        raise CausalPrefError(f"{where}: {name} must have shape {shape}{extra}, got {array.shape}")


def _check_finite(array, name, where) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        row = int(np.argwhere(bad)[0][0])
        raise CausalPrefError(f"{where}: {name} contains NaN or infinity (first at row {row})")


# --------------------------------------------------------------------------------------------
# Reading records: JSONL, JSON lists, CSV, Parquet (optionally gzipped)
# --------------------------------------------------------------------------------------------

# every suffix the readers take (the Data page's uploader takes exactly these)
SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".jsonl.gz", ".ndjson.gz", ".json.gz", ".csv.gz")
_HUB_NAME = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")
HUB_KINDS = {  # known hub names -> the kind whose loader reads their files
    "anthropic/hh-rlhf": "hh-rlhf",
    "trl-lib/ultrafeedback_binarized": "ultrafeedback",
    "huggingfaceh4/ultrafeedback_binarized": "ultrafeedback",
    "openbmb/ultrafeedback": "ultrafeedback",
    "truthfulqa/truthful_qa": "truthfulqa",
}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Row:
    """One record of a data file, with where it came from (for error messages)."""

    path: str
    unit: str  # "line" or "row"
    num: int  # 1-based line (JSONL, JSON, CSV) or row (Parquet)
    data: dict

    def where(self, field_name: str | None = None) -> str:
        text = f"{self.path}, {self.unit} {self.num}"
        return text if field_name is None else f"{text}, field {field_name!r}"

    def fail(self, field_name: str | None, problem: str) -> CausalPrefError:
        return CausalPrefError(f"{self.where(field_name)}: {problem}")

    def has(self, name: str) -> bool:
        return name in self.data

    def get(self, name: str, expected: str) -> Any:
        if name not in self.data:
            present = ", ".join(map(repr, self.data)) or "none"
            raise self.fail(name, f"missing; expected {expected} (fields present: {present})")
        return self.data[name]

    def text(self, name: str) -> str:
        return self.check_text(self.get(name, "a string"), name)

    def check_text(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            got = "null" if value is None else f"{type(value).__name__} {_short(value)}"
            raise self.fail(name, f"expected a string, got {got}")
        try:  # JSON may escape a lone surrogate ("\ud800"): the tokenizer would fail on it much later
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise self.fail(
                name,
                f"holds a lone UTF-16 surrogate {value[exc.start]!r} at character {exc.start}; "
                "expected valid Unicode text",
            ) from None
        return value

    def binary(self, name: str, value: Any = ...) -> int:
        value = self.get(name, "0 or 1") if value is ... else value
        code = _binary_code(value)
        if code is None:
            raise self.fail(name, f"expected 0 or 1, got {_short(value)}")
        return code

    def objective_code(self, name: str) -> int:
        value = self.get(name, "'helpful'/'harmless' or 0/1")
        if isinstance(value, str) and value.strip().lower() in OBJECTIVE_CODES:
            return OBJECTIVE_CODES[value.strip().lower()]
        code = _binary_code(value)
        if code is None:
            raise self.fail(name, f"expected 'helpful', 'harmless', 0 or 1, got {_short(value)}")
        return code

    def number(self, name: str) -> float:
        value = self.get(name, "a number")
        number = _to_float(value)
        if number is None:
            raise self.fail(name, f"expected a finite number, got {_short(value)}")
        return number


def _binary_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return int(value)
    if isinstance(value, (float, np.floating)) and value in (0.0, 1.0):
        return int(value)
    if isinstance(value, str) and value.strip() in ("0", "1", "0.0", "1.0"):
        return int(float(value))
    return None


def _to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if np.isfinite(number) else None


@dataclass
class Records:
    """The records of one file: `columns` for tables (CSV, Parquet), None for JSON."""

    path: str
    unit: str
    columns: tuple[str, ...] | None
    rows: Iterator[Row]
    close: Callable[[], None] = lambda: None

    def __iter__(self) -> Iterator[Row]:
        return self.rows

    def __enter__(self) -> "Records":
        return self

    def __exit__(self, *exc) -> None:
        self.rows.close()
        self.close()

    def require_columns(self, needed: Sequence[str], what: str) -> None:
        """For tables: fail up front, naming the missing column and listing the ones present."""
        if self.columns is None:
            return
        missing = [c for c in needed if c not in self.columns]
        if missing:
            self.close()
            where = f"{self.path}, line 1" if self.unit == "line" else f"{self.path}, header"
            raise CausalPrefError(
                f"{where}, field {missing[0]!r}: column missing; {what} needs columns {list(needed)}; "
                f"the columns present are {list(self.columns)}"
            )


def _resolve(path: str | os.PathLike) -> Path:
    """The local file `path` names; a hub name or a missing file is an error."""
    text = os.fspath(path)
    resolved = Path(text).expanduser()
    if resolved.is_file():
        return resolved
    if resolved.is_dir():
        raise CausalPrefError(
            f"{text}: is a folder with no data files and no saved Hugging Face dataset; "
            f"expected a data file ({', '.join(SUFFIXES)}), a folder of them, or a save_to_disk folder"
        )
    if _HUB_NAME.match(text) and not text.lower().endswith(SUFFIXES):
        from causalpref.data.hf import hub_name_help

        raise CausalPrefError(hub_name_help(text))
    raise CausalPrefError(f"{text}: no such file; expected the path of a local data file ({', '.join(SUFFIXES)})")


def _format_of(path: Path) -> tuple[str, bool]:
    name = path.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    for suffix, fmt in (
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".json", "json"),
        (".csv", "csv"),
        (".parquet", "parquet"),
    ):
        if name.endswith(suffix) and not (compressed and fmt == "parquet"):
            return fmt, compressed
    raise CausalPrefError(
        f"{path}: unknown file type {''.join(path.suffixes) or '(no suffix)'!r}; expected one of {', '.join(SUFFIXES)}"
    )


def read_records(path: str | os.PathLike, max_rows: int | None = None) -> Records:
    """The records of a data file, read lazily, each with its line (or row) number.

    An empty file (no records) raises `CausalPrefError` when iteration reaches its end.
    """
    if max_rows is not None and (
        not isinstance(max_rows, (int, np.integer)) or isinstance(max_rows, bool) or max_rows < 1
    ):
        raise CausalPrefError(f"max_rows must be a positive integer or None, got {max_rows!r}")
    records = _read_source(path, max_rows)
    columns = path.columns if isinstance(path, DataSource) else None
    if not columns:
        return records
    # a column mapping (--columns): every loader reads the mapped names
    where = f"{records.path}, {'header' if records.unit == 'row' else 'line 1'}"
    try:
        columns.check_columns(records.columns, where)
    except CausalPrefError:
        records.close()
        raise
    if records.columns is not None:
        sources = {source for _, source, _ in columns.entries}
        targets = tuple(target for target, _, _ in columns.entries)
        records.columns = tuple(c for c in records.columns if c not in sources and c not in targets) + targets
    records.rows = mapped_rows(records.rows, columns, path.dropped)
    return records


def _read_source(path, max_rows: int | None) -> Records:
    """The records of a local file, a saved Hugging Face dataset folder or (downloads allowed) a hub name."""
    from causalpref.data import hf

    source = os.fspath(path)
    split = path.split if isinstance(path, DataSource) else None
    given = Path(source).expanduser()
    if given.is_dir() and hf.is_saved_dataset(given):
        return hf.read_saved(given, split, max_rows)
    if not given.exists() and _HUB_NAME.match(source) and not source.lower().endswith(SUFFIXES):
        if hf.downloads_allowed():
            return hf.read_hub(source, split, max_rows)
    resolved = _resolve(path)
    fmt, compressed = _format_of(resolved)

    def open_text():
        try:
            if compressed:
                return gzip.open(resolved, "rt", encoding="utf-8", newline="" if fmt == "csv" else None)
            return open(resolved, "r", encoding="utf-8", newline="" if fmt == "csv" else None)
        except OSError as exc:
            raise CausalPrefError(f"{source}: cannot be opened ({exc.strerror or exc})") from None

    if fmt == "jsonl":
        return Records(source, "line", None, _limit(_jsonl_rows(source, open_text), max_rows))
    if fmt == "json":
        return Records(source, "line", None, _limit(_json_rows(source, open_text), max_rows))
    if fmt == "csv":
        handle = open_text()
        try:
            header, rows = _csv_rows(source, handle)
        except BaseException:
            handle.close()
            raise
        return Records(source, "line", header, _limit(rows, max_rows), handle.close)
    return _parquet_records(source, resolved, max_rows)


def _limit(rows: Iterator[Row], max_rows: int | None) -> Iterator[Row]:
    count = 0
    try:
        for row in rows:
            yield row
            count += 1
            if max_rows is not None and count >= max_rows:
                return
    finally:
        rows.close()  # closes the file at once, also when a loader stops early on an error


def _read_problem(source: str, unit: str, num: int, exc: BaseException) -> CausalPrefError:
    what = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else f"cannot be read ({type(exc).__name__}: {exc})"
    if isinstance(exc, EOFError):
        what = "the compressed file ends early (truncated gzip)"
    return CausalPrefError(f"{source}, {unit} {num}: {what}")


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict:
    """object_pairs_hook: a key given twice in one object is an error, not "the last one wins"."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return data


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys)


def _json_problem(source: str, num: int, exc: BaseException) -> CausalPrefError:
    """The one-line error of a duplicated key or of nesting too deep for Python's JSON parser."""
    if isinstance(exc, _DuplicateKey):
        return CausalPrefError(f"{source}, line {num}, field {exc.key!r}: key given twice in one JSON object")
    return CausalPrefError(f"{source}, line {num}: JSON nested too deeply to read; expected flat records")


def _jsonl_rows(source: str, open_text) -> Iterator[Row]:
    num, count = 0, 0
    with open_text() as handle:
        try:
            for num, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    data = _DECODER.decode(line)
                except json.JSONDecodeError as exc:
                    raise CausalPrefError(
                        f"{source}, line {num}: not valid JSON ({exc.msg} at column {exc.colno}); "
                        f"expected one JSON object per line"
                    ) from None
                except (_DuplicateKey, RecursionError) as exc:
                    raise _json_problem(source, num, exc) from None
                if not isinstance(data, dict):
                    raise CausalPrefError(
                        f"{source}, line {num}: expected a JSON object {{...}}, got {type(data).__name__} {_short(data)}"
                    )
                count += 1
                yield Row(source, "line", num, data)
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise _read_problem(source, "line", num + 1, exc) from None
    if count == 0:
        raise CausalPrefError(
            f"{source}, line 1: the file is empty (no JSON objects on any line); expected one JSON object per line"
        )


def _json_rows(source: str, open_text) -> Iterator[Row]:
    with open_text() as handle:
        try:
            text = handle.read()
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise _read_problem(source, "line", 1, exc) from None
    whitespace = re.compile(r"\s*")
    pos = whitespace.match(text, 0).end()
    if pos == len(text):
        raise CausalPrefError(f"{source}, line 1: the file is empty; expected a JSON list of objects [{{...}}, ...]")
    line_at = _LineCounter(text)
    if text[pos] != "[":
        raise CausalPrefError(
            f"{source}, line {line_at(pos)}: expected a JSON list of objects [{{...}}, ...], "
            f"found {text[pos]!r} (for one object per line, name the file .jsonl)"
        )
    pos = whitespace.match(text, pos + 1).end()
    count = 0
    while True:
        if pos < len(text) and text[pos] == "]":
            break
        num = line_at(pos)
        try:
            data, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise CausalPrefError(
                f"{source}, line {exc.lineno}: not valid JSON ({exc.msg} at column {exc.colno})"
            ) from None
        except (_DuplicateKey, RecursionError) as exc:
            raise _json_problem(source, num, exc) from None
        if not isinstance(data, dict):
            raise CausalPrefError(
                f"{source}, line {num}: expected a JSON object {{...}} in the list, got {type(data).__name__} {_short(data)}"
            )
        count += 1
        yield Row(source, "line", num, data)
        pos = whitespace.match(text, end).end()
        if pos < len(text) and text[pos] == ",":
            pos = whitespace.match(text, pos + 1).end()
        elif pos >= len(text) or text[pos] != "]":
            raise CausalPrefError(
                f"{source}, line {line_at(min(pos, len(text)))}: not valid JSON (expected ',' or ']' after an object)"
            )
    if count == 0:
        raise CausalPrefError(f"{source}, line {line_at(pos)}: the file holds an empty list; expected JSON objects")


class _LineCounter:
    """1-based line of a position in text, for increasing positions, in linear time overall."""

    def __init__(self, text: str):
        self.text, self.pos, self.line = text, 0, 1

    def __call__(self, pos: int) -> int:
        if pos < self.pos:
            self.pos, self.line = 0, 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _csv_rows(source: str, handle) -> tuple[tuple[str, ...], Iterator[Row]]:
    if csv.field_size_limit() < 2**30:
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # long responses exceed the 128 KiB default
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except (csv.Error, OSError, EOFError, UnicodeDecodeError) as exc:
        raise _read_problem(source, "line", 1, exc) from None
    if header is None or not any(h.strip() for h in header):
        raise CausalPrefError(
            f"{source}, line 1: the file is empty (no header line); expected a CSV header, then one row per record"
        )
    columns = tuple(h.strip() for h in header)
    duplicates = sorted(c for c, k in Counter(columns).items() if k > 1)
    if duplicates:
        raise CausalPrefError(f"{source}, line 1, field {duplicates[0]!r}: column named twice in the header")

    def rows() -> Iterator[Row]:
        start, count = reader.line_num + 1, 0
        with handle:
            try:
                for values in reader:
                    num, start = start, reader.line_num + 1
                    if not any(v.strip() for v in values):
                        continue
                    if len(values) != len(columns):
                        raise CausalPrefError(
                            f"{source}, line {num}: {len(values)} values but the header has {len(columns)} columns {list(columns)}"
                        )
                    count += 1
                    yield Row(source, "line", num, dict(zip(columns, values)))
            except (csv.Error, OSError, EOFError, UnicodeDecodeError) as exc:
                raise _read_problem(source, "line", start, exc) from None
        if count == 0:
            raise CausalPrefError(
                f"{source}, line 2: the file has a header but no data rows; expected one row per record"
            )

    return columns, rows()


def _parquet_records(source: str, resolved: Path, max_rows: int | None) -> Records:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise CausalPrefError(
            f"{source}: reading Parquet needs pyarrow (pip install pyarrow), or convert the file to .jsonl/.csv"
        ) from None
    try:
        parquet = pq.ParquetFile(resolved)
    except Exception as exc:  # pyarrow raises its own error types for bad files
        raise CausalPrefError(f"{source}: not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    columns = tuple(parquet.schema_arrow.names)

    def rows() -> Iterator[Row]:
        num = 0
        for batch in parquet.iter_batches(batch_size=1024):
            for data in batch.to_pylist():
                num += 1
                yield Row(source, "row", num, data)
        if num == 0:
            raise CausalPrefError(f"{source}, row 1: the file has no rows; expected one row per record")

    return Records(source, "row", columns, _limit(rows(), max_rows))


# --------------------------------------------------------------------------------------------
# Shared helpers for the loaders
# --------------------------------------------------------------------------------------------


def _coin(seed: int, *texts: str) -> bool:
    """A seeded fair coin that depends only on the texts: True means swap."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(str(int(seed)).encode())
    for text in texts:
        digest.update(b"\x00")
        digest.update(text.encode("utf-8", "surrogatepass"))
    return bool(digest.digest()[0] & 1)


def _rng_for(seed: int, key: str) -> np.random.Generator:
    """A generator seeded by the seed and a prompt's text: independent of file order."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return np.random.default_rng([int(seed), int.from_bytes(digest, "little")])


def _check_seed(seed) -> int:
    return validate.seed(seed)


def _group_ids(keys: Sequence[Any]) -> np.ndarray:
    ids: dict[Any, int] = {}
    return np.fromiter((ids.setdefault(k, len(ids)) for k in keys), dtype=np.int64, count=len(keys))


def _no_pairs(source: str, why: str) -> CausalPrefError:
    return CausalPrefError(f"{source}: no usable pairs: {why}")


def _within_prompt_pairs(
    groups: list[tuple[str, list[str], np.ndarray]],
    factor_names: tuple[str, ...],
    source: str,
    seed: int,
    max_pairs_per_prompt: int | None,
    skipped: Counter,
) -> dict[str, Any] | None:
    """Every pair of distinct responses per prompt (optionally a seeded sample), in seeded order.

    `groups` holds (prompt, responses, factor values (m, k)) per prompt, responses distinct.
    """
    prompts, resp_a, resp_b, diffs, group = [], [], [], [], []
    for g, (prompt, responses, values) in enumerate(groups):
        m = len(responses)
        if m < 2:
            skipped["prompts with fewer than 2 responses"] += 1
            continue
        rng = _rng_for(seed, prompt)
        i, j = np.triu_indices(m, 1)
        if max_pairs_per_prompt is not None and i.size > max_pairs_per_prompt:
            keep = np.sort(rng.choice(i.size, size=max_pairs_per_prompt, replace=False))
            skipped["pairs beyond the per-prompt cap"] += int(i.size - keep.size)
            i, j = i[keep], j[keep]
        swap = rng.random(i.size) < 0.5
        a, b = np.where(swap, j, i), np.where(swap, i, j)
        prompts.extend([prompt] * a.size)
        resp_a.extend(responses[k] for k in a)
        resp_b.extend(responses[k] for k in b)
        diffs.append(values[a] - values[b])
        group.append(np.full(a.size, g, dtype=np.int64))
    if not prompts:
        return None
    return dict(
        prompt=prompts,
        response_a=resp_a,
        response_b=resp_b,
        label=None,
        factor_diffs=np.concatenate(diffs).astype(np.float64),
        factor_names=factor_names,
        objective=None,
        prompt_type=None,
        group=np.concatenate(group),
        source=source,
    )


def _check_cap(value, name) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise CausalPrefError(f"{name} must be a positive integer or None, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------------------------
# 1. Anthropic HH-RLHF
# --------------------------------------------------------------------------------------------


def _prompt_type_code(value, source: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in OBJECTIVE_CODES:
        return OBJECTIVE_CODES[value.strip().lower()]
    code = _binary_code(value) if not isinstance(value, str) else None
    if code is None:
        raise CausalPrefError(f"{source}: prompt_type must be 0/'helpful', 1/'harmless' or None, got {value!r}")
    return code


def infer_prompt_type(path: str | os.PathLike) -> int | None:
    """0 for a path with a 'helpful...' folder (helpful-base), 1 for 'harmless...', None if neither.

    The deepest path component naming exactly one of the two words decides.
    """
    for part in reversed(Path(os.fspath(path)).parts):
        lower = part.lower()
        found = [word for word in OBJECTIVE_CODES if word in lower]
        if len(found) == 1:
            return OBJECTIVE_CODES[found[0]]
    return None


def split_dialogues(chosen: str, rejected: str) -> tuple[str, str, str] | None:
    """(prompt, chosen reply, rejected reply) of two dialogues that differ only in the final reply.

    The split is at the last "\\n\\nAssistant:" that both dialogues share (identical text up
    to and including it): a plain last-marker split would cut inside replies that themselves
    contain "\\n\\nAssistant:" (14 of the 4,666 HH-RLHF test pairs). None when the dialogues
    differ before their final assistant turn (no shared marker, or a reply that still holds a
    "\\n\\nHuman:" turn).
    """
    shared = len(os.path.commonprefix([chosen, rejected]))
    cut = chosen.rfind(ASSISTANT, 0, shared)
    if cut < 0:
        return None
    reply_a, reply_b = chosen[cut + len(ASSISTANT) :], rejected[cut + len(ASSISTANT) :]
    if HUMAN in reply_a or HUMAN in reply_b:
        return None
    return chosen[:cut].strip(), reply_a.strip(), reply_b.strip()


def _chosen_first(rows_out: dict[str, list], seed: int, prompt: str, chosen: str, rejected: str) -> None:
    swap = _coin(seed, prompt, chosen, rejected)
    rows_out["prompt"].append(prompt)
    rows_out["response_a"].append(rejected if swap else chosen)
    rows_out["response_b"].append(chosen if swap else rejected)
    rows_out["label"].append(0.0 if swap else 1.0)


def _chosen_rejected_pairs(out: dict[str, list], source: str, objective: int | None = None) -> TextPairs:
    """The pairs `_chosen_first` collected, grouped by prompt; `objective` (one for the whole
    file, also its prompt type) or none."""
    codes = None if objective is None else np.full(len(out["prompt"]), objective, dtype=np.int64)
    return TextPairs(
        prompt=out["prompt"],
        response_a=out["response_a"],
        response_b=out["response_b"],
        label=np.asarray(out["label"], dtype=np.float32),
        factor_diffs=None,
        factor_names=(),
        objective=codes,
        prompt_type=None if codes is None else codes.copy(),
        group=_group_ids(out["prompt"]),
        source=source,
    )


def load_hh_rlhf(path, prompt_type=None, seed: int = 0, *, max_rows: int | None = None) -> TextPairs:
    """Anthropic HH-RLHF rows ``{"chosen": dialogue, "rejected": dialogue}``.

    The prompt is the shared dialogue before the final assistant turn (see `split_dialogues`);
    a and b are the chosen and rejected replies in a seeded random order per pair (label 1.0
    when a is the chosen one). `prompt_type` (0/'helpful', 1/'harmless') defaults to the one
    the path names (helpful-base -> 0, harmless-base -> 1), else None. The objective is the
    prompt type: HH raters of each split judged replies under that split's objective
    (more helpful, or less harmful). Pairs with the same prompt share a group.
    """
    seed = _check_seed(seed)
    source = os.fspath(path)
    t = _prompt_type_code(prompt_type, source)
    if t is None:
        t = infer_prompt_type(source)
    out: dict[str, list] = {"prompt": [], "response_a": [], "response_b": [], "label": []}
    with read_records(path, max_rows) as records:
        for row in records:
            chosen, rejected = row.text("chosen"), row.text("rejected")
            split = split_dialogues(chosen, rejected)
            if split is None:
                if ASSISTANT not in chosen:
                    raise row.fail(
                        "chosen",
                        "holds no '\\n\\nAssistant:' turn; expected a dialogue '\\n\\nHuman: ...\\n\\nAssistant: ...'",
                    )
                if ASSISTANT not in rejected:
                    raise row.fail(
                        "rejected",
                        "holds no '\\n\\nAssistant:' turn; expected a dialogue '\\n\\nHuman: ...\\n\\nAssistant: ...'",
                    )
                raise row.fail(
                    "rejected",
                    "does not share the prompt of 'chosen' (the dialogues differ before the "
                    "final assistant turn); expected two dialogues that differ only in the last reply",
                )
            _chosen_first(out, seed, *split)
    return _chosen_rejected_pairs(out, source, objective=t)


# --------------------------------------------------------------------------------------------
# 2. Relabelled HH-RLHF (distributional preference learning)
# --------------------------------------------------------------------------------------------


def load_relabeled_hh(path, *, max_rows: int | None = None) -> TextPairs:
    """Relabelled HH-RLHF rows ``{"prompt", "responses": [r0, r1], "data_subset", "objective", "label"}``.

    a = responses[0], b = responses[1]; label 1.0 when ``label == 0`` (label indexes the
    preferred response); prompt_type t from data_subset, objective c from objective
    (0 helpful, 1 harmless). Pairs with the same prompt share a group.
    """
    source = os.fspath(path)
    prompts, resp_a, resp_b, label, t, c = [], [], [], [], [], []
    with read_records(path, max_rows) as records:
        for row in records:
            prompt = row.text("prompt")
            responses = row.get("responses", "a list of two response strings")
            if not isinstance(responses, (list, tuple)) or len(responses) != 2:
                raise row.fail("responses", f"expected a list of two response strings, got {_short(responses)}")
            a = row.check_text(responses[0], "responses[0]")
            b = row.check_text(responses[1], "responses[1]")
            preferred = row.binary("label")
            t.append(_word_code(row, "data_subset"))
            c.append(_word_code(row, "objective"))
            prompts.append(prompt)
            resp_a.append(a)
            resp_b.append(b)
            label.append(1.0 if preferred == 0 else 0.0)
    return TextPairs(
        prompt=prompts,
        response_a=resp_a,
        response_b=resp_b,
        label=np.asarray(label, dtype=np.float32),
        factor_diffs=None,
        factor_names=(),
        objective=np.asarray(c, dtype=np.int64),
        prompt_type=np.asarray(t, dtype=np.int64),
        group=_group_ids(prompts),
        source=source,
    )


def _word_code(row: Row, name: str) -> int:
    value = row.get(name, "'helpful' or 'harmless'")
    if isinstance(value, str) and value.strip().lower() in OBJECTIVE_CODES:
        return OBJECTIVE_CODES[value.strip().lower()]
    raise row.fail(name, f"expected 'helpful' or 'harmless', got {_short(value)}")


# --------------------------------------------------------------------------------------------
# 3. TruthfulQA with two labels per answer
# --------------------------------------------------------------------------------------------


def load_truthfulqa_dual(
    path, max_pairs_per_question: int | None = None, seed: int = 0, *, max_rows: int | None = None
) -> TextPairs:
    """TruthfulQA per-answer rows ``{"question", "answer", "truthful": 0|1, "informative": 0|1}``.

    Every pair of distinct answers to one question (at most `max_pairs_per_question`, a seeded
    sample) in a seeded random order, with factor_diffs (truthful_a - truthful_b,
    informative_a - informative_b) and no label (the experiment derives it from the factors).
    group = question index, by first appearance. An answer text repeated within a question is
    kept once (the first); `skipped` counts repeats and those whose labels disagree.
    """
    seed = _check_seed(seed)
    cap = _check_cap(max_pairs_per_question, "max_pairs_per_question")
    source = os.fspath(path)
    questions: dict[str, tuple[dict[str, int], list[str], list[tuple[int, int]]]] = {}
    skipped: Counter = Counter()
    with read_records(path, max_rows) as records:
        records.require_columns(("question", "answer") + TRUTHFULQA_FACTORS, "TruthfulQA")
        for row in records:
            question, answer = row.text("question"), row.text("answer")
            values = (row.binary("truthful"), row.binary("informative"))
            seen, answers, labels = questions.setdefault(question, ({}, [], []))
            if answer in seen:
                skipped["repeated answers"] += 1
                if labels[seen[answer]] != values:
                    skipped["repeated answers with different labels"] += 1
                continue
            seen[answer] = len(answers)
            answers.append(answer)
            labels.append(values)
    groups = [(q, answers, np.asarray(labels, dtype=np.float64)) for q, (_, answers, labels) in questions.items()]
    fields = _within_prompt_pairs(groups, TRUTHFULQA_FACTORS, source, seed, cap, skipped)
    if fields is None:
        raise _no_pairs(
            source,
            f"none of the {len(groups)} questions has two distinct answers; "
            f"expected several 'answer' rows per 'question'",
        )
    return TextPairs(**fields, skipped=dict(skipped))


# --------------------------------------------------------------------------------------------
# 4. UltraFeedback: fine-grained ratings or binarized
# --------------------------------------------------------------------------------------------


def load_ultrafeedback(
    path,
    aspects: Sequence[str] = ("truthfulness", "instruction_following"),
    seed: int = 0,
    *,
    max_pairs_per_prompt: int | None = None,
    max_rows: int | None = None,
) -> TextPairs:
    """UltraFeedback in either public shape, detected from the first record.

    (a) Fine-grained ``{"instruction", "completions": [{"response", "annotations": {aspect:
    {"Rating": "1".."5" | "N/A"}}}]}``: every pair of distinct rated completions per prompt, in
    a seeded order, factor_diffs over `aspects` (rating_a - rating_b), label None. A
    completion with "N/A" in a requested aspect is left out; `skipped` counts these (per
    aspect and in total). (b) Binarized ``{"prompt", "chosen", "rejected"}`` with strings or
    lists of {"role", "content"} messages (the final assistant message is the reply; without a
    prompt field, the messages before it are the prompt): a/b = chosen/rejected in a seeded
    order, label 1.0 when a is the chosen one; `aspects` is ignored.
    """
    seed = _check_seed(seed)
    cap = _check_cap(max_pairs_per_prompt, "max_pairs_per_prompt")
    source = os.fspath(path)
    if isinstance(aspects, str):
        aspects = (aspects,)
    aspects = tuple(aspects)
    if not aspects or not all(isinstance(a, str) and a for a in aspects):
        raise CausalPrefError(f"{source}: aspects must be a non-empty list of aspect names, got {aspects!r}")
    with read_records(path, max_rows) as records:
        rows = iter(records)
        first = next(rows)
        rest = _prepend(first, rows)
        if "completions" in first.data:
            return _ultrafeedback_ratings(rest, source, aspects, seed, cap)
        binarized = "chosen" in first.data and "rejected" in first.data
    if binarized:  # TRL preference data (prompt, chosen, rejected)
        from causalpref.data.trl import load_preference

        return load_preference(path, seed, max_rows=max_rows)
    present = ", ".join(map(repr, first.data)) or "none"
    raise first.fail(
        "completions",
        "missing; expected UltraFeedback with fine-grained ratings "
        "('instruction', 'completions') or binarized ('prompt', 'chosen', "
        f"'rejected') (fields present: {present})",
    )


def _prepend(first: Row, rows: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rows


def _rating(row: Row, annotations: Any, aspect: str, where: str) -> float | None:
    """The 1-5 rating of one aspect; None for "N/A"."""
    if not isinstance(annotations, dict):
        raise row.fail(where, f"expected an object of per-aspect ratings, got {_short(annotations)}")
    if aspect not in annotations:
        present = ", ".join(map(repr, annotations)) or "none"
        raise row.fail(f"{where}.{aspect}", f"missing; expected a rating 1-5 or 'N/A' (aspects present: {present})")
    value = annotations[aspect]
    name = f"{where}.{aspect}"
    if isinstance(value, list):  # some exports keep a one-element list per aspect
        if len(value) != 1:
            raise row.fail(name, f"expected one rating, got a list of {len(value)}")
        value, name = value[0], f"{name}[0]"
    if isinstance(value, dict):
        if "Rating" not in value:
            raise row.fail(
                f"{name}.Rating",
                f"missing; expected a rating 1-5 or 'N/A' (keys present: {', '.join(map(repr, value))})",
            )
        value, name = value["Rating"], f"{name}.Rating"
    if isinstance(value, str) and value.strip().upper() == "N/A":
        return None
    number = _to_float(value)
    if number is None or number not in (1.0, 2.0, 3.0, 4.0, 5.0):
        raise row.fail(name, f"expected a rating 1-5 or 'N/A', got {_short(value)}")
    return number


def _ultrafeedback_ratings(
    rows: Iterator[Row], source: str, aspects: tuple[str, ...], seed: int, cap: int | None
) -> TextPairs:
    groups: list[tuple[str, list[str], np.ndarray]] = []
    skipped: Counter = Counter()
    first_na: str | None = None
    total = 0
    for row in rows:
        prompt = row.text("instruction") if row.has("instruction") or not row.has("prompt") else row.text("prompt")
        completions = row.get("completions", "a list of completions")
        if not isinstance(completions, list):
            raise row.fail("completions", f"expected a list of completions, got {_short(completions)}")
        responses, ratings, seen = [], [], set()
        for k, completion in enumerate(completions):
            where = f"completions[{k}]"
            if not isinstance(completion, dict):
                raise row.fail(where, f"expected an object with 'response' and 'annotations', got {_short(completion)}")
            if "response" not in completion:
                raise row.fail(f"{where}.response", "missing; expected the completion's text")
            response = row.check_text(completion["response"], f"{where}.response")
            if "annotations" not in completion:
                raise row.fail(f"{where}.annotations", "missing; expected per-aspect ratings")
            values = [_rating(row, completion["annotations"], aspect, f"{where}.annotations") for aspect in aspects]
            total += 1
            if any(v is None for v in values):
                skipped["completions with N/A (left out)"] += 1
                for aspect, v in zip(aspects, values):
                    if v is None:
                        skipped[f"N/A in {aspect}"] += 1
                if first_na is None:
                    first_na = row.where(f"{where}.annotations.{aspects[values.index(None)]}")
                continue
            if response in seen:
                skipped["repeated responses"] += 1
                continue
            seen.add(response)
            responses.append(response)
            ratings.append(values)
        groups.append((prompt, responses, np.asarray(ratings, dtype=np.float64).reshape(len(responses), len(aspects))))
    fields = _within_prompt_pairs(groups, aspects, source, seed, cap, skipped)
    if fields is None:
        why = f"no prompt has two rated completions in {list(aspects)}"
        if first_na is not None:
            why += (
                f"; {skipped['completions with N/A (left out)']} of {total} completions were left out "
                f"for 'N/A' ratings (first at {first_na})"
            )
        raise _no_pairs(source, why)
    return TextPairs(**fields, skipped=dict(skipped))


def _final_reply(row: Row, name: str) -> tuple[str, list | None]:
    """The reply text of a chosen/rejected field, and the messages before it (None for a string)."""
    value = row.get(name, "a string or a list of {'role', 'content'} messages")
    if isinstance(value, str):
        return value, None
    if not isinstance(value, list) or not value:
        raise row.fail(name, f"expected a string or a list of {{'role', 'content'}} messages, got {_short(value)}")
    for k in range(len(value) - 1, -1, -1):
        message = value[k]
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise row.fail(f"{name}[{k}]", f"expected a message {{'role', 'content'}}, got {_short(message)}")
        if message["role"] == "assistant":
            return row.check_text(message["content"], f"{name}[{k}].content"), value[:k]
    raise row.fail(name, "holds no message with role 'assistant'; expected the reply as the final assistant message")


def _format_messages(row: Row, name: str, messages: list) -> str:
    if len(messages) == 1 and messages[0].get("role") == "user":
        return row.check_text(messages[0].get("content"), f"{name}[0].content")
    speakers = {"user": "Human", "assistant": "Assistant", "system": "System"}
    parts = []
    for k, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise row.fail(f"{name}[{k}]", f"expected a message {{'role', 'content'}}, got {_short(message)}")
        content = row.check_text(message["content"], f"{name}[{k}].content")
        parts.append(f"{speakers.get(message['role'], str(message['role']).capitalize())}: {content}")
    return "\n\n".join(parts)


# --------------------------------------------------------------------------------------------
# 5. Generic tables
# --------------------------------------------------------------------------------------------


def load_response_table(
    path, factors: Sequence[str], seed: int = 0, *, max_pairs_per_prompt: int | None = None, max_rows: int | None = None
) -> TextPairs:
    """A per-response table: columns prompt, response and one numeric column per factor.

    Every pair of distinct responses to the same prompt (at most `max_pairs_per_prompt`, a
    seeded sample), in a seeded order, with factor_diffs = factor(a) - factor(b); label None.
    A response repeated within a prompt is kept once (`skipped` counts repeats).
    """
    seed = _check_seed(seed)
    cap = _check_cap(max_pairs_per_prompt, "max_pairs_per_prompt")
    source = os.fspath(path)
    if isinstance(factors, str):
        factors = (factors,)
    factors = tuple(factors)
    if not factors or not all(isinstance(f, str) and f for f in factors) or len(set(factors)) != len(factors):
        raise CausalPrefError(
            f"{source}: factors must be a non-empty list of distinct column names, got {list(factors)!r}"
        )
    prompts: dict[str, tuple[set, list[str], list[list[float]]]] = {}
    skipped: Counter = Counter()
    with read_records(path, max_rows) as records:
        records.require_columns(("prompt", "response") + factors, "a response table")
        for row in records:
            prompt, response = row.text("prompt"), row.text("response")
            values = [row.number(f) for f in factors]
            seen, responses, table = prompts.setdefault(prompt, (set(), [], []))
            if response in seen:
                skipped["repeated responses"] += 1
                continue
            seen.add(response)
            responses.append(response)
            table.append(values)
    groups = [(p, responses, np.asarray(table, dtype=np.float64)) for p, (_, responses, table) in prompts.items()]
    fields = _within_prompt_pairs(groups, factors, source, seed, cap, skipped)
    if fields is None:
        raise _no_pairs(
            source,
            f"none of the {len(groups)} prompts has two distinct responses; "
            f"expected several 'response' rows per 'prompt'",
        )
    return TextPairs(**fields, skipped=dict(skipped))


def load_pair_table(path, *, max_rows: int | None = None) -> TextPairs:
    """A per-pair table: columns prompt, response_a, response_b, label (0/1, 1 = a preferred).

    Optional columns (see `PairExtras`): objective and prompt_type (0/1 or helpful/harmless),
    group (rows with the same value share a group; without it, rows with the same prompt do)
    and label_other (the label under the other objective). a and b are kept as given.
    """
    source = os.fspath(path)
    with read_records(path, max_rows) as records:
        needed = ("prompt", "response_a", "response_b", "label")
        records.require_columns(needed, "a pair table")
        extras = PairExtras(records.columns)
        prompts, resp_a, resp_b, label = [], [], [], []
        for row in records:
            prompts.append(row.text("prompt"))
            resp_a.append(row.text("response_a"))
            resp_b.append(row.text("response_b"))
            label.append(float(row.binary("label")))
            extras.read(row)
    return TextPairs(
        prompt=prompts,
        response_a=resp_a,
        response_b=resp_b,
        label=np.asarray(label, dtype=np.float32),
        factor_diffs=None,
        factor_names=(),
        source=source,
        **extras.fields(prompts),
    )


class PairExtras:
    """The optional per-pair fields of labelled pair files: objective, prompt_type, group and
    label_other. Which are present is decided by the header (tables) or the first record (JSON)."""

    NAMES = ("objective", "prompt_type", "group", "label_other")

    def __init__(self, columns: Sequence[str] | None, allowed: Sequence[str] = NAMES):
        self.allowed = tuple(allowed)
        self.present = None if columns is None else tuple(c for c in self.allowed if c in columns)
        self.values: dict[str, list] = {name: [] for name in self.allowed}

    def read(self, row: Row, swapped: bool = False) -> None:
        if self.present is None:
            self.present = tuple(c for c in self.allowed if row.has(c))
        for name in self.present:
            if name in ("objective", "prompt_type"):
                value = row.objective_code(name)
            elif name == "label_other":
                value = float(row.binary(name))
                value = 1.0 - value if swapped else value
            else:
                value = row.get("group", "a group id")
                if value is None or isinstance(value, (dict, list)) or (isinstance(value, str) and not value.strip()):
                    raise row.fail("group", f"expected a group id (a number or a name), got {_short(value)}")
                value = value.strip() if isinstance(value, str) else value
            self.values[name].append(value)

    def fields(self, keys: Sequence[Any]) -> dict[str, Any]:
        """TextPairs keywords: the fields present, and groups (by `keys` without a group column)."""
        present = self.present or ()

        def array(name, dtype):
            return np.asarray(self.values[name], dtype=dtype) if name in present else None

        return dict(
            objective=array("objective", np.int64),
            prompt_type=array("prompt_type", np.int64),
            label_other=array("label_other", np.float32),
            group=_group_ids(self.values["group"] if "group" in present else keys),
        )


# --------------------------------------------------------------------------------------------
# 6. Dispatch
# --------------------------------------------------------------------------------------------

# The kinds themselves (loader, experiment, options) are registered in data/kinds.py.
_ALIASES = {
    "hh": "hh-rlhf",
    "relabelled-hh": "relabeled-hh",
    "relabeled-hh-rlhf": "relabeled-hh",
    "relabelled-hh-rlhf": "relabeled-hh",
    "truthfulqa-dual": "truthfulqa",
    "ultrafeedback-binarized": "ultrafeedback",
    "response-table": "responses",
    "pair-table": "pairs",
    "trl": "preference",
    "rating-table": "ratings",
}


@contextlib.contextmanager
def named_in_errors(path: str | os.PathLike, display_name: str | None):
    """Errors raised inside name the file `display_name` wherever they named `path`: an upload
    is read from its saved copy, but its user knows it by its own name."""
    try:
        yield
    except CausalPrefError as error:
        text = message = str(error)
        if display_name:
            given = os.fspath(path)
            # the longer form first: the resolved path may contain the given one
            for form in sorted({given, str(Path(given).expanduser().resolve())}, key=len, reverse=True):
                text = text.replace(form, display_name)
        if text == message:
            raise
        raise CausalPrefError(text) from None


def guess_kind(path: str | os.PathLike, display_name: str | None = None) -> str:
    """The kind of a data file, from the fields of its first record (then from its name:
    `display_name` when given, such as an upload's own name, else the path)."""
    return recognise_file(path, display_name)[0]


def recognise_file(path: str | os.PathLike, display_name: str | None = None) -> tuple[str, str]:
    """(kind, shape in words) of a data file (a folder of files: of its first file)."""
    with named_in_errors(path, display_name):
        files = data_files(path)
        return _recognise(files[0] if files else path, display_name)


def _recognise(path, display_name) -> tuple[str, str]:
    from causalpref.data.trl import recognise

    with read_records(path) as records:
        first = next(iter(records), None)  # the first row a column mapping keeps
    if first is None:
        raise CausalPrefError(f"{os.fspath(path)}: no rows left after the --columns mapping dropped them all")
    found = recognise(first.data)
    if found is not None:
        return found
    lower = (display_name or os.fspath(path)).lower()
    for word, kind in (
        ("relabel", "relabeled-hh"),
        ("hh-rlhf", "hh-rlhf"),
        ("truthfulqa", "truthfulqa"),
        ("ultrafeedback", "ultrafeedback"),
    ):
        if word in lower:
            return kind, f"{kind} (named in the file name)"
    from causalpref.data.kinds import DATA_KINDS

    raise first.fail(
        None,
        f"cannot tell the shape of the data from its fields {sorted(first.data)}; map them to known "
        f"fields with --columns (e.g. --columns prompt=input response_a=output_1 response_b=output_2 "
        f"label=label) or name the kind with --world KIND, one of {list(DATA_KINDS)}",
    )


def data_files(path) -> list:
    """The data files a folder holds (sorted, recursively), each as `path` is (a mapped source
    stays mapped); [] for a file, a saved dataset folder or a hub name."""
    from causalpref.data.hf import is_saved_dataset

    folder = Path(os.fspath(path)).expanduser()
    if not folder.is_dir() or is_saved_dataset(folder):
        return []
    found = sorted(p for p in folder.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES))
    if isinstance(path, DataSource):
        return [DataSource(str(p), path.columns, path.split) for p in found]
    return [str(p) for p in found]


def load_dataset(name_or_path, kind: str | None = None, *, display_name: str | None = None, **kw) -> TextPairs:
    """Load a data file as `TextPairs` with the loader of `kind` (guessed when None).

    `name_or_path`: a local file, a folder of files (read one by one with the same kind and
    joined; groups never span two files), a folder written by `datasets`' save_to_disk, or a
    hub name (read only when downloads are allowed: see `causalpref.data.hf`); a `DataSource`
    carries a column mapping and a split. kind: a registered data kind (data/kinds.py); other
    keywords go to its loader. `display_name`: the name errors give the file (an upload's own
    name rather than its saved copy's path). Rows a column mapping drops are counted in
    `skipped`. When the kind is guessed, errors say which shape the file was read as.
    """
    with named_in_errors(name_or_path, display_name):
        files = data_files(name_or_path)
        if not files:
            return _load_guessed(name_or_path, kind, display_name, **kw)
        if kind is None:
            kind = _recognise(files[0], display_name)[0]
        return _join([_load_guessed(f, kind, None, **kw) for f in files], os.fspath(name_or_path))


def _load_guessed(path, kind, display_name, **kw) -> TextPairs:
    shape = ""
    if kind is None:
        kind, shape = recognise_file(path, display_name)
    dropped = getattr(path, "dropped", None)
    if dropped is not None:
        dropped.clear()  # counted afresh by this reading (recognising read some rows already)
    try:
        pairs = _load_dataset(path, kind, display_name, **kw)
    except CausalPrefError as error:
        if not shape:
            raise
        raise CausalPrefError(
            f"{error} (the file was read as {shape}, guessed from its fields; name another kind with "
            "--world KIND, or map its fields with --columns)"
        ) from None
    changes = {}
    if dropped:
        changes["skipped"] = {**pairs.skipped, **dict(dropped)}
    if shape and not pairs.shape:
        changes["shape"] = shape
    if not pairs.shape and not shape:
        from causalpref.data.kinds import data_kind

        changes["shape"] = data_kind(_kind_key(kind)).label
    return replace(pairs, **changes) if changes else pairs


def _join(parts: list[TextPairs], source: str) -> TextPairs:
    """Several files' pairs as one: fields present in every part, groups kept apart per file."""
    if len(parts) == 1:
        return replace(parts[0], source=source)

    def joined(name):
        arrays = [getattr(p, name) for p in parts]
        return None if any(a is None for a in arrays) else np.concatenate(arrays)

    names = {p.factor_names for p in parts}
    if len(names) > 1:
        raise CausalPrefError(f"{source}: its files have different factors {sorted(names)}; expected the same in all")
    offset, groups = 0, []
    for p in parts:
        groups.append(p.group + offset)
        offset += int(p.group.max()) + 1
    skipped: Counter = Counter()
    for p in parts:
        skipped.update(p.skipped)
    return TextPairs(
        prompt=[t for p in parts for t in p.prompt],
        response_a=[t for p in parts for t in p.response_a],
        response_b=[t for p in parts for t in p.response_b],
        label=joined("label"),
        factor_diffs=joined("factor_diffs"),
        factor_names=parts[0].factor_names,
        objective=joined("objective"),
        prompt_type=joined("prompt_type"),
        group=np.concatenate(groups),
        source=source,
        skipped=dict(skipped),
        label_other=joined("label_other"),
        shape=f"{parts[0].shape}, {len(parts)} files",
    )


def _kind_key(kind) -> str:
    key = str(kind).strip().lower().replace("_", "-")
    return _ALIASES.get(key, key)


def _load_dataset(name_or_path, kind, display_name, **kw) -> TextPairs:
    text = os.fspath(name_or_path)
    key = _kind_key(kind)
    from causalpref.data.kinds import DATA_KINDS

    if key not in DATA_KINDS:
        raise CausalPrefError(f"{text}: unknown data kind {kind!r}; choose from {list(DATA_KINDS)}")
    loader = DATA_KINDS[key].loader
    try:
        inspect.signature(loader).bind(name_or_path, **kw)
    except TypeError as exc:
        accepted = [p for p in inspect.signature(loader).parameters if p != "path"]
        raise CausalPrefError(f"{text}: kind {key!r} ({loader.__name__}): {exc}; it accepts {accepted}") from None
    return loader(name_or_path, **kw)
