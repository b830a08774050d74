"""The "Data" page without streamlit: example data sets, how a file is read, its column mapping,
a summary, uploads, the world, and the splits an experiment page can draw from it.

- `example_datasets(root)`: the development data sets under a shared data folder (empty when
  the folder is absent), label -> (kind, path); a path may be a folder of files;
- `data_roots()`, `path_in_roots(text)`, `model_dir_in_roots(text)`: the folders a typed path
  may be read from ($CAUSALPREF_DATA_DIR, default the working directory and the examples'
  folder) and the typed file, data folder or model folder checked against them
  (causalpref.data_roots);
- `file_columns(path)`, `mapping_from_form(columns, values)`, `mapping_params(mapping)`,
  `mapping_from_params(params)`, `mapping_items(mapping)`: the column-mapping form (one column
  per target field, a value map for the fields whose values mean something) and its
  serialisations (the Data page's URL, the record the experiment pages get);
- `recognise(kind, path, columns)`, `load_text(...)`: how a file is read (the kind chosen or
  recognised) and its pairs; `preview(path, columns)`: the first rows as mapped;
  `kept_text(text_pairs)`: how many pairs were kept and what was left out, and why;
- `describe(text_pairs)`: the loader's summary as a two-column table and one plain reading;
- `problem(text_pairs, kind)`, `objectives_note(text_pairs)`, `pages_for(kind, text_pairs)`:
  why a file cannot feed an experiment, what it lacks for User objectives, which pages it feeds;
- `choice_params(...)`, `record_params(record)`, `record_from_params(params)`: what the Data page
  hands the experiment pages (in the session and in their URL, so that a link reproduces it);
- `world_from_choice(...)`, `world_of(record, ...)`: the `RealDataWorld` the experiment pages
  use, with the preference rule they choose (factor data: which factor decides or a weighting;
  labelled pairs: the factor measured from the text);
- `fit_exp1(...)`, `fit_exp2(...)`, `exp1_spec(...)`, `exp2_sizes(...)`, `precheck(...)`: the
  split sizes and training correlations a file can supply, and every draw checked before the
  first text is embedded;
- `size_verdicts(record, pages)`: what each page a file feeds would draw from it, in one line each;
- `save_upload(data, name, root)`, `embed`, `EmbedClock`: uploads, embedding and its bar.

An upload is read from its saved copy (cache/uploads/<sha256>.<suffix>), but every message
names it by the user's own file name: the loaders, the world and its embedding run under
`named_in_errors(path, name)`, and the world's name carries it to the experiment pages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from causalpref import data_roots as roots_mod
from causalpref.data.columns import TARGETS, VALUE_TARGETS, ColumnMap, DataSource
from causalpref.data.kinds import DATA_KINDS, data_kind
from causalpref.data.loaders import SUFFIXES, data_files, load_dataset, named_in_errors, read_records, recognise_file
from causalpref.data.measures import MEASURES, measure_label
from causalpref.data.worlds.real import EXP1_KINDS, FACTOR_KINDS, OBJECTIVE_KINDS, RealDataWorld, TextPool
from causalpref.draw.groups import group_split
from causalpref.draw.splits import cell_seed, check_exp1_sizes, check_exp2_sizes, draw_exp1_splits, sizes_text
from causalpref.errors import CausalPrefError
from causalpref.run.progress import clock_text, seconds_text
from causalpref.run.specs import Exp1Spec, Exp2Spec, sizes_for_data

RECOGNISED = "recognised"  # the kind control's default: the kind recognised from the file's fields
CORRELATION_PAGE = "Correlation_shift"  # page keys (causalpref.ui.pages), not files
OBJECTIVES_PAGE = "User_objectives"
PAGE_TITLES = {CORRELATION_PAGE: "Correlation shift", OBJECTIVES_PAGE: "User objectives"}
EXPERIMENT_OF = {CORRELATION_PAGE: "exp1", OBJECTIVES_PAGE: "exp2"}
# what the uploader takes, the path's label advertises and the loaders read: one tuple
UPLOAD_SUFFIXES = SUFFIXES
_ZIPPED = {s.removesuffix(".gz") for s in SUFFIXES if s.endswith(".gz")}
SUFFIX_TEXT = ", ".join(f"{s}[.gz]" if s in _ZIPPED else s for s in SUFFIXES if not s.endswith(".gz"))
# the Data page's measured factor for its size verdict on labelled pairs (Correlation shift lets one choose)
VERDICT_MEASURE = "length_words"

# label -> (kind, path relative to the shared data folder: a file or a folder of files)
EXAMPLES = {
    "TruthfulQA dual labels (Correlation shift: truthful vs informative, 18,244 answers)": (
        "truthfulqa",
        "truthfulqa/truthfulqa_dual_labels.jsonl.gz",
    ),
    "Relabelled HH-RLHF (User objectives, 4,043 pairs)": ("relabeled-hh", "relabeled-hh-rlhf/both/test.jsonl.gz"),
    "HH-RLHF helpful + harmless (length bias: Correlation shift with a measured factor)": ("hh-rlhf", "hh-rlhf"),
    "HH-RLHF helpful-base test (length bias: Correlation shift with a measured factor)": (
        "hh-rlhf",
        "hh-rlhf/helpful-base/test.jsonl.gz",
    ),
    "UltraFeedback binarized sample (length bias: Correlation shift with a measured factor, 1,000 pairs)": (
        "preference",
        "ultrafeedback-binarized-sample/train_clean.jsonl.gz",
    ),
}


# ---------------------------------------------------------------- where files may be read


def shared_data_root() -> Path:
    """Where the development data sets live: ../shared/data beside the repository."""
    return roots_mod.bundled_examples_root()


def data_roots() -> roots_mod.DataRoots:
    """The folders a typed path may be read from: $CAUSALPREF_DATA_DIR (folders separated by
    os.pathsep), or else the working directory and the example data sets' folder."""
    return roots_mod.data_roots(defaults=(Path.cwd(), shared_data_root()))


FOLDER_SCAN_LIMIT = 2_000  # entries looked at to tell a data folder from any other folder


def _data_folder(path: Path) -> bool:
    """Whether a folder holds data files (or is a saved Hugging Face dataset): a look at its
    first FOLDER_SCAN_LIMIT entries, so a large tree is never walked to the end."""
    from causalpref.data.hf import is_saved_dataset

    if is_saved_dataset(path):
        return True
    seen = 0
    for _, _, files in os.walk(path):
        for name in files:
            if name.lower().endswith(SUFFIXES):
                return True
            seen += 1
        seen += 1
        if seen > FOLDER_SCAN_LIMIT:
            return False
    return False


def path_in_roots(text: str, roots: roots_mod.DataRoots | None = None) -> Path:
    """The resolved data file, or folder of data files, a typed path names inside the data
    roots; one message for every path refused (outside, missing, a folder with no data files,
    a symlink out of a root), so it tells nothing about what exists outside them. A relative
    path starts from the first root."""
    roots = data_roots() if roots is None else roots
    try:
        return roots_mod.resolve_in_roots(text, roots)
    except CausalPrefError as refused:
        try:
            folder = roots_mod.resolve_in_roots(text, roots, folder=True, what="data file")
        except CausalPrefError:
            raise refused from None
        if not _data_folder(folder):
            raise refused from None
        return folder


def model_dir_in_roots(text: str, roots: roots_mod.DataRoots | None = None) -> Path:
    """The resolved model folder a typed path names inside the data roots (refused as `path_in_roots`)."""
    roots = data_roots() if roots is None else roots
    return roots_mod.resolve_in_roots(text, roots, folder=True, what="model folder")


def roots_caption(roots: roots_mod.DataRoots | None = None) -> str:
    """The line under the path field: the folders readable and how to change them."""
    return roots_mod.roots_caption(data_roots() if roots is None else roots)


def examples_in_roots(examples: dict, roots: roots_mod.DataRoots | None = None) -> dict:
    """The example data sets (label -> (kind, path)) that lie inside the data roots."""
    roots = data_roots() if roots is None else roots
    return {label: (kind, path) for label, (kind, path) in examples.items() if roots.contains(path)}


def example_datasets(root: str | os.PathLike | None) -> dict[str, tuple[str, str]]:
    """The example data sets found under `root`, label -> (kind, absolute path); {} without it."""
    if root is None:
        return {}
    root = Path(root)
    if not root.is_dir():
        return {}
    return {
        label: (kind, str((root / rel).resolve())) for label, (kind, rel) in EXAMPLES.items() if (root / rel).exists()
    }


# ---------------------------------------------------------------- the column mapping


MAP_PREFIX, VALUES_PREFIX = "map_", "values_"
MAP_KEYS = {target: MAP_PREFIX + target for target in TARGETS}  # target -> the Data page's control key
VALUES_KEYS = {target: VALUES_PREFIX + target for target in VALUE_TARGETS}
NO_COLUMN = ""  # the column selectboxes' "none"
# an example value map per field whose values mean something (the form's placeholders)
VALUE_EXAMPLES = {
    "label": "1=a,2=b,0=drop",
    "label_other": "1=a,2=b",
    "objective": "h=helpful,s=harmless",
    "prompt_type": "h=helpful,s=harmless",
}
_OPTION = "column mapping"  # how the engine's mapping errors name the mapping on the page


def as_column_map(columns) -> ColumnMap:
    """A ColumnMap from a ColumnMap, its items ('prompt=input', 'label=pref:1=a,2=b') or None."""
    if isinstance(columns, ColumnMap):
        return columns
    if not columns:
        return ColumnMap()
    return ColumnMap.parse(list(columns) if not isinstance(columns, str) else columns, option=_OPTION)


def mapping_items(columns) -> tuple[str, ...]:
    """The mapping as items, one per field: ('prompt=input', 'label=pref:1=a,2=b'); a column
    name may hold spaces (the one-string form `ColumnMap.describe` cannot keep them apart)."""
    items = []
    for target, source, values in as_column_map(columns).entries:
        text = f"{target}={source}"
        if values:
            text += ":" + ",".join(f"{k}={v}" for k, v in values)
        items.append(text)
    return tuple(items)


def mapping_from_form(columns: Mapping[str, str | None], values: Mapping[str, str | None] | None = None) -> ColumnMap:
    """The ColumnMap the form describes: target -> the file's column (or none), and for the
    fields whose values mean something (VALUE_TARGETS) an optional value map '1=a,2=b,0=drop'.
    A bad form raises the engine's one-line error."""
    values = values or {}
    items = []
    for target in TARGETS:
        column = (columns.get(target) or "").strip()
        value_map = (values.get(target) or "").strip() if target in VALUE_TARGETS else ""
        if value_map and not column:
            raise CausalPrefError(
                f"values of {target} are mapped ({value_map}) but no column is: choose the column that holds {target}"
            )
        if column:
            items.append(f"{target}={column}" + (f":{value_map}" if value_map else ""))
    return ColumnMap.parse(items, option=_OPTION) if items else ColumnMap()


def form_of(columns) -> tuple[dict[str, str], dict[str, str]]:
    """(target -> column, target -> value map text) of a mapping: the form that describes it."""
    chosen, values = {}, {}
    for target, source, value_map in as_column_map(columns).entries:
        chosen[target] = source
        if value_map:
            values[target] = ",".join(f"{k}={v}" for k, v in value_map)
    return chosen, values


def mapping_params(columns) -> dict[str, str]:
    """The Data page's URL parameters of a mapping (`map_prompt=input`, `values_label=1=a,2=b`)."""
    chosen, values = form_of(columns)
    return {**{MAP_KEYS[t]: c for t, c in chosen.items()}, **{VALUES_KEYS[t]: v for t, v in values.items()}}


def mapping_from_params(params: Mapping[str, Any]) -> ColumnMap:
    """The mapping the Data page's URL parameters describe (the inverse of `mapping_params`)."""

    def last(value):
        if value is None or isinstance(value, str):
            return value
        value = list(value)
        return value[-1] if value else None

    chosen = {t: last(params.get(key)) for t, key in MAP_KEYS.items()}
    values = {t: last(params.get(key)) for t, key in VALUES_KEYS.items()}
    return mapping_from_form(chosen, values)


def file_columns(path, rows: int = 20, name: str | None = None) -> tuple[str, ...]:
    """The fields of a data file as it stands (a folder: of its first file): a table's header,
    or the fields of its first `rows` JSON records in order of appearance."""
    files = data_files(str(path)) or [str(path)]
    seen: dict[str, None] = {}
    with named_in_errors(str(path), name), read_records(files[0], max_rows=rows) as records:
        if records.columns is not None:
            return tuple(records.columns)
        for row in records:
            seen.update(dict.fromkeys(row.data))
    return tuple(seen)


# ---------------------------------------------------------------- reading a file


def source_of(path, columns=None) -> DataSource:
    return DataSource(str(path), as_column_map(columns))


def kind_options() -> tuple[str, ...]:
    """The Data page's kinds: recognised from the file, then every registered kind."""
    return (RECOGNISED, *DATA_KINDS)


def kind_label(kind: str) -> str:
    """'recognised from the file', 'pairs: a per-pair table (prompt, response_a, response_b, label)'."""
    if kind == RECOGNISED:
        return "recognised from the file"
    return f"{kind}: {data_kind(kind).label}" if kind in DATA_KINDS else kind


def recognise(kind: str, path, columns=None, name: str | None = None) -> str:
    """The kind the file is read as: the one chosen, or (RECOGNISED) the one its fields show."""
    if kind != RECOGNISED:
        data_kind(kind)
        return kind
    return recognise_file(source_of(path, columns), name)[0]


def _loader_options(kind: str, factors) -> dict:
    factors = tuple(f.strip() for f in (factors or ()) if f and f.strip())
    needed = data_kind(kind).factors_needed
    if len(factors) < needed:
        raise CausalPrefError(
            f"{data_kind(kind).label} needs at least {needed} factor columns (e.g. truthful, informative)"
        )
    return data_kind(kind).loader_options(factors) if data_kind(kind).factor_option else {}


def load_text(kind: str, path, factors=(), name: str | None = None, columns=None):
    """The file's pairs as text (`TextPairs`), read through its mapping; errors name `name`.
    kind RECOGNISED: read as its fields show (its `shape` then says what was recognised)."""
    source = source_of(path, columns)
    if kind == RECOGNISED:
        options = _loader_options(recognise(kind, path, columns, name), factors)
        return load_dataset(source, kind=None, display_name=name, **options)
    return load_dataset(source, kind=kind, display_name=name, **_loader_options(kind, factors))


PREVIEW_FIELDS = (
    "prompt",
    "chosen",
    "rejected",
    "response_a",
    "response_b",
    "response",
    "completion",
    "label",
    "rating",
    "label_other",
    "objective",
    "prompt_type",
    "group",
)
_MEANINGS = {
    "label": {1: "1 (a)", 0: "0 (b)"},
    "label_other": {1: "1 (a)", 0: "0 (b)"},
    "objective": {0: "0 (helpful)", 1: "1 (harmless)"},
    "prompt_type": {0: "0 (helpful)", 1: "1 (harmless)"},
}


def _cell(value, limit: int = 80) -> str:
    if isinstance(value, list) and all(isinstance(m, dict) and "content" in m for m in value):
        value = " | ".join(f"{m.get('role', '?')}: {m['content']}" for m in value)
    text = value if isinstance(value, str) else repr(value) if isinstance(value, (dict, list)) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def preview(path, columns=None, rows: int = 5, name: str | None = None) -> pd.DataFrame:
    """The first `rows` records of the file as the mapping gives them to the loaders (rows the
    mapping drops are left out): the fields the loaders read first (prompt, responses, label,
    objective, prompt type, group), then the rest; texts shortened to one line."""
    source = source_of(path, columns)
    files = data_files(source) or [source]
    mapped = as_column_map(columns)
    valued = {t for t, _, v in mapped.entries if v}
    out = []
    with named_in_errors(str(path), name), read_records(files[0], max_rows=rows * 20) as records:
        for row in records:
            out.append(row.data)
            if len(out) >= rows:
                break
    fields = list(dict.fromkeys(f for record in out for f in record))
    order = [f for f in PREVIEW_FIELDS if f in fields] + [f for f in fields if f not in PREVIEW_FIELDS]
    table = []
    for record in out:
        shown = {}
        for f in order:
            value = record.get(f)
            if f in valued and value in _MEANINGS.get(f, {}):
                value = _MEANINGS[f][value]
            shown[f] = "" if f not in record else _cell(value)
        table.append(shown)
    return pd.DataFrame(table, columns=order)


def page_words(message: str) -> str:
    """An engine message as the page says it: the page has a column mapping and a kind selector
    where the command line has --columns and --world."""
    return (
        message.replace("the --columns map", "the column mapping")
        .replace("with --columns", "in the column mapping")
        .replace("--columns", "the column mapping")
        .replace("with --world KIND", "with the kind of data")
        .replace("--world KIND", "the kind of data")
    )


def _left_out(skipped: Mapping[str, int]) -> str:
    return ", ".join(f"{count:,} {page_words(why)}" for why, count in skipped.items())


def kept_text(text_pairs) -> str:
    """'Kept 4,660 pairs; left out: 6 rows with pref = '0' (dropped by the column mapping).'"""
    kept = f"Kept {len(text_pairs):,} pairs"
    if not text_pairs.skipped:
        return kept + "; nothing left out."
    return f"{kept}; left out: {_left_out(text_pairs.skipped)}."


def describe(text_pairs) -> tuple[pd.DataFrame, str]:
    """The loader's summary of a data file as a table (quantity, value) and one plain reading."""
    s = text_pairs.summary()
    rows = [("pairs", f"{s['pairs']:,}"), ("groups (prompts/questions)", f"{s['groups']:,}")]
    parts = [f"{s['pairs']:,} pairs over {s['groups']:,} prompts"]
    if "a_preferred" in s:
        rows.append(("response a preferred", f"{100 * s['a_preferred']:.1f} %"))
        parts.append(f"response a is preferred in {100 * s['a_preferred']:.1f} % of them (50 % = balanced)")
    if "t_c_counts" in s:
        cells = s["t_c_counts"]
        for cell, count in cells.items():
            rows.append((f"prompt type → objective: {cell}", f"{count:,}"))
        consistent = sum(k for cell, k in cells.items() if cell.split("->")[0] == cell.split("->")[1])
        total = sum(cells.values())
        parts.append(f"{consistent:,} are consistent (t = c) and {total - consistent:,} inconsistent (t ≠ c)")
    elif "prompt_type_counts" in s:
        names = ("helpful", "harmless")
        for t, count in s["prompt_type_counts"].items():
            rows.append((f"prompt type {names[int(t)]}", f"{count:,}"))
        parts.append("it has a prompt type but no objective, so it cannot feed Experiment 2")
    if "factor_diff_counts" in s:
        for name, counts in s["factor_diff_counts"].items():
            if len(counts) > 12:  # a measured or continuous factor: its range, not every value
                values = text_pairs.factor_diffs[:, list(text_pairs.factor_names).index(name)]
                shown = f"{len(counts):,} values from {values.min():+g} to {values.max():+g}"
            else:
                shown = ", ".join(f"{value:+g}: {count:,}" for value, count in counts.items())
            rows.append((f"Δ {name} (value: pairs)", shown))
        names = list(s["factor_diff_counts"])
        if text_pairs.factor_diffs is not None and text_pairs.factor_diffs.shape[1] >= 2:
            d = text_pairs.factor_diffs[:, :2]
            both = d[:, 0] * d[:, 1]
            rows.append((f"pairs where {names[0]} and {names[1]} disagree", f"{int((both < 0).sum()):,}"))
            parts.append(
                f"{int((both < 0).sum()):,} pairs have {names[0]} and {names[1]} pulling in opposite "
                f"directions (the out-of-distribution test)"
            )
    if s.get("skipped"):
        left = _left_out(s["skipped"])
        rows.append(("left out by the loader", left))
        parts.append(f"the loader left out {left}")
    table = pd.DataFrame(rows, columns=["quantity", "value"])
    return table, "; ".join(parts) + "."


def problem(text_pairs, kind: str) -> str | None:
    """Why this file cannot feed any experiment, in one sentence; None when it can."""
    if data_kind(kind).scores:
        k = 0 if text_pairs.factor_diffs is None else text_pairs.factor_diffs.shape[1]
        if k < 2:
            return (
                f"Read as {data_kind(kind).label}, this file gives {k} factor scores per response, and Correlation "
                "shift needs two factor scores (a binarized UltraFeedback file has none: read it as recognised)."
            )
    elif text_pairs.label is None:
        return "These pairs carry no preference label, so no experiment can use them."
    return None


def objectives_note(text_pairs) -> str | None:
    """What a pair file lacks for User objectives when it has one of objective and prompt type."""
    have = {name: getattr(text_pairs, name) is not None for name in ("objective", "prompt_type")}
    if all(have.values()) or not any(have.values()):
        return None
    present, missing = ("objective", "prompt_type") if have["objective"] else ("prompt_type", "objective")
    words = {"objective": "an objective", "prompt_type": "a prompt type"}
    return (
        f"This file has {words[present]} per pair but no {missing.replace('_', ' ')}, so it cannot feed User "
        f"objectives: in the column mapping, choose the column that holds {missing} (values helpful/harmless "
        "or 0/1, or map them)."
    )


def pages_for(kind: str, text_pairs) -> tuple[str, ...]:
    """The experiment pages (keys) a loaded file can feed: Correlation shift for every kind
    (factor scores, or a label with a factor measured from the text), User objectives for pair
    kinds whose pairs carry an objective and a prompt type."""
    if problem(text_pairs, kind) is not None:
        return ()
    pages = [CORRELATION_PAGE] if kind in EXP1_KINDS else []
    if kind in OBJECTIVE_KINDS and text_pairs.objective is not None and text_pairs.prompt_type is not None:
        pages.append(OBJECTIVES_PAGE)
    return tuple(pages)


def headline(text_pairs, kind: str) -> str:
    """One line: how many pairs over how many prompts (questions, for factor data); `read_as`
    says what they were read as."""
    groups = "questions" if kind in FACTOR_KINDS else "prompts"
    return f"{len(text_pairs):,} pairs over {text_pairs.n_groups:,} {groups}"


def read_as(text_pairs, kind: str) -> str:
    """'Read as: TRL preference data, explicit prompt, conversational (prompt, chosen, rejected)'."""
    return f"Read as: {text_pairs.shape or data_kind(kind).label}"


# ---------------------------------------------------------------- what the Data page hands on


def choice_params(
    kind: str,
    path,
    model_dir=None,
    factors=(),
    name: str | None = None,
    columns=None,
    upload: bool = False,
    objectives: bool | None = None,
) -> dict:
    """What the Data page stores in st.session_state["real_world"] for the experiment pages:
    the file, how it is read (kind, factor columns, column mapping as items), the encoder, its
    name as the user knows it, whether it is an upload (no link can carry it) and whether it
    can feed User objectives (None: not known, judged by its kind)."""
    return {
        "kind": kind,
        "path": str(path),
        "model_dir": (str(model_dir).strip() or None) if model_dir else None,
        "factors": tuple(factors or ()),
        "name": name or Path(str(path)).name,
        "columns": mapping_items(columns),
        "upload": bool(upload),
        "objectives": objectives,
    }


# The experiment pages' URL parameters that carry the Data page's file (not controls: the
# file is chosen on the Data page; these let a link, a teacher's among them, reproduce it).
RECORD_PARAMS = {
    "path": "data",
    "kind": "data_kind",
    "columns": "data_columns",
    "factors": "data_factors",
    "model_dir": "data_model",
}


def record_params(record: Mapping | None) -> dict[str, str | list[str]]:
    """The URL parameters of a record (`data=PATH&data_kind=pairs&data_columns=prompt=input ...`);
    none for an upload, whose bytes no link can carry."""
    if not isinstance(record, Mapping) or record.get("upload") or not record.get("path"):
        return {}
    out: dict[str, str | list[str]] = {
        RECORD_PARAMS["path"]: str(record["path"]),
        RECORD_PARAMS["kind"]: record["kind"],
    }
    columns = list(record.get("columns") or ())
    if columns:
        out[RECORD_PARAMS["columns"]] = columns if len(columns) > 1 else columns[0]
    factors = [f for f in record.get("factors") or () if f]
    if factors:
        out[RECORD_PARAMS["factors"]] = ",".join(factors)
    if record.get("model_dir"):
        out[RECORD_PARAMS["model_dir"]] = str(record["model_dir"])
    return out


def record_from_params(params: Mapping[str, Any], roots: roots_mod.DataRoots | None = None) -> dict | None:
    """The record a URL carries (`record_params`), its paths checked against the data roots
    (refused: the one message of `path_in_roots`); None when the URL names no data file."""

    def values(key):
        value = params.get(RECORD_PARAMS[key])
        return [] if value is None else [value] if isinstance(value, str) else [str(v) for v in value]

    path = values("path")
    if not path or not path[-1].strip():
        return None
    resolved = path_in_roots(path[-1], roots)
    kind = (values("kind") or [""])[-1].strip()
    if kind not in DATA_KINDS:
        kind = recognise(RECOGNISED, resolved, values("columns"))
    model = (values("model_dir") or [""])[-1].strip()
    model_dir = str(model_dir_in_roots(model, roots)) if model else None
    factors = tuple(f.strip() for f in ",".join(values("factors")).split(",") if f.strip())
    return choice_params(kind, resolved, model_dir, factors, name=resolved.name, columns=values("columns"))


def same_record(a: Mapping | None, b: Mapping | None) -> bool:
    """Whether two records name the same file read the same way (names and flags aside)."""
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return False
    keys = ("kind", "model_dir", "factors", "columns")
    return str(Path(a.get("path", "")).resolve()) == str(Path(b.get("path", "")).resolve()) and all(
        tuple(a.get(k) or ()) == tuple(b.get(k) or ()) if k in ("factors", "columns") else a.get(k) == b.get(k)
        for k in keys
    )


def world_label(record: dict | None, experiment: str) -> str | None:
    """ "Data: <file name>" when the Data page's record can feed `experiment` ('exp1': every
    kind; 'exp2': pair kinds with an objective and a prompt type), else None."""
    if not isinstance(record, dict) or not record.get("path") or record.get("kind") not in DATA_KINDS:
        return None
    if experiment == "exp2":
        if record["kind"] not in OBJECTIVE_KINDS or record.get("objectives") is False:
            return None
    elif record["kind"] not in EXP1_KINDS:
        return None
    return f"Data: {record.get('name') or Path(record['path']).name}"


# ---------------------------------------------------------------- the world


_WORLDS: OrderedDict = OrderedDict()  # the worlds built lately, so that a file is read once per rule
_WORLDS_KEPT = 16


def file_stamp(path) -> tuple | None:
    """What tells a changed file (or folder of files) from the one read before; None when absent."""
    try:
        p = Path(str(path)).expanduser()
        if p.is_dir():
            return tuple((f, os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in data_files(str(p))) or ("dir",)
        stat = p.stat()
        return stat.st_mtime_ns, stat.st_size
    except OSError:
        return None


def world_from_choice(
    kind: str,
    path,
    model_dir=None,
    factors=(),
    name: str | None = None,
    columns=None,
    *,
    a: float | None = None,
    measure: str | None = None,
) -> RealDataWorld:
    """The `RealDataWorld` for a chosen file; an empty model_dir means the packaged MiniLM.
    `name`: the file's name as its user knows it (an upload's own name), for the world's name
    and every error. `factors`: factor data's factors in the rule's order; `a`: the weight of
    the first (1: it decides); `measure`: labelled pairs' factor measured from the text."""
    if kind not in DATA_KINDS:
        raise CausalPrefError(f"unknown kind of data {kind!r}; choose from {list(DATA_KINDS)}")
    if not path or not str(path).strip():
        raise CausalPrefError("no data file chosen: give a local path or upload a file")
    model_dir = str(model_dir).strip() if model_dir else None
    if model_dir:
        from causalpref.data.embed import check_model_dir

        model_dir = str(check_model_dir(model_dir))
    _loader_options(kind, factors)  # too few factor columns: said before the file is hashed
    factors = tuple(f.strip() for f in (factors or ()) if f and f.strip())
    mapping = as_column_map(columns)
    path = str(path).strip()
    key = (kind, path, file_stamp(path), model_dir, factors, mapping, name, a, measure)
    if key[2] is not None and key in _WORLDS:
        _WORLDS.move_to_end(key)
        return _WORLDS[key]
    options: dict[str, Any] = {"model_dir": model_dir, "columns": mapping}
    if data_kind(kind).scores:
        options["factors"] = factors
        options["a"] = a
    elif measure is not None:
        options["measure"] = measure
    with named_in_errors(path, name):
        world = RealDataWorld.from_path(kind, path, **options)
    world = dataclasses.replace(world, name=f"{kind}:{name}") if name else world
    if key[2] is not None:
        _WORLDS[key] = world
        while len(_WORLDS) > _WORLDS_KEPT:
            _WORLDS.popitem(last=False)
    return world


def world_of(record: dict, *, factors=None, a: float | None = None, measure: str | None = None) -> RealDataWorld:
    """The world of the Data page's choice (`choice_params`), named as the user knows the file,
    with the preference rule the experiment page chose (none: the file as read)."""
    return world_from_choice(
        record["kind"],
        record["path"],
        record.get("model_dir"),
        record.get("factors", ()) if factors is None else factors,
        name=record.get("name"),
        columns=record.get("columns"),
        a=a,
        measure=measure,
    )


def has_scores(kind: str) -> bool:
    """Whether a kind holds factor scores per response (else labelled pairs)."""
    return data_kind(kind).scores


def factor_names(world: RealDataWorld) -> tuple[str, str]:
    """The two factors of factor data, as the file gives them (the first two of its factors)."""
    names = world.factor_names
    if len(names) < 2:
        raise CausalPrefError(
            f"{world.name.partition(':')[2] or world.path}: Correlation shift needs two factor scores per response, "
            f"and this file gives {len(names)}"
        )
    return names[0], names[1]


PREFER_FIRST, PREFER_SECOND, PREFER_WEIGHTS = "first", "second", "weights"


def preference_rule(choice: str, names: tuple[str, str], weight: float | None = None) -> dict:
    """The world options of a stated preference on factor data: the first factor decides (a = 1),
    the second decides (it becomes the first, a = 1), or a weighting a·first + (1 − a)·second."""
    f1, f2 = names
    if choice == PREFER_FIRST:
        return {"factors": (f1, f2), "a": 1.0}
    if choice == PREFER_SECOND:
        return {"factors": (f2, f1), "a": 1.0}
    if choice == PREFER_WEIGHTS:
        if weight is None or not (0.0 <= float(weight) <= 1.0):
            raise CausalPrefError(f"the weight a must lie in [0, 1], got {weight!r}")
        return {"factors": (f1, f2), "a": float(weight)}
    raise CausalPrefError(f"say which response is truly preferred: {f1} decides, {f2} decides, or a weighting")


# which responses the OOD test holds, per measured factor: 'the preferred response is ...'
OOD_WORDS = {
    "length_tokens": "the shorter one",
    "length_words": "the shorter one",
    "length_chars": "the shorter one",
    "formatting": "the less formatted one",
    "refusal": "the one that does not refuse (while the other does)",
}


def measure_caption(measure: str) -> str:
    """What d1, d2 and the OOD test are on labelled pairs with a measured factor."""
    label = measure_label(measure)
    ood = OOD_WORDS.get(measure, f"the one with the lower {label}")
    return (
        f"d1 = preferred (+1 when response a is the preferred one, −1 otherwise); d2 = {label} of a − {label} of b, "
        f"measured from the text. Training pairs are drawn with 'preferred' and '{label}' correlated at ρ; the OOD "
        f"test holds the pairs whose preferred response is {ood}."
    )


MEASURE_NAMES = tuple(MEASURES)


# ---------------------------------------------------------------- what the pages draw from a file


@dataclass(frozen=True)
class Fit:
    """The split sizes and target correlations a page draws from a file, and why they differ
    from the page's usual ones (plain lines, empty when they do not)."""

    sizes: Any
    rhos: tuple[float, ...]
    wanted: Any
    asked: tuple[float, ...]
    notes: tuple[str, ...] = ()

    @property
    def fits(self) -> bool:
        return self.sizes == self.wanted and tuple(self.rhos) == tuple(self.asked)


def _rho_text(rhos) -> str:
    return ", ".join(f"{r:g}" for r in rhos)


def draw_pool(world: RealDataWorld) -> TextPool:
    """What Experiment 1's draws read of a world (factor differences, groups, split shares and
    tolerance), for factor data before its preference rule is stated: the draws do not depend
    on which factor decides, so sizes and ρ are fitted once per file."""
    text = world.text
    k = 0 if text.factor_diffs is None else text.factor_diffs.shape[1]
    if k < 2:
        raise CausalPrefError(
            f"{_where(world)}: Correlation shift needs two factor scores per response, and this file gives {k}"
        )
    return TextPool(
        world=world,
        label=np.zeros(len(text), np.float32),  # not drawn on: the draws read factors and groups only
        factor_diffs=text.factor_diffs,
        objective=text.objective,
        prompt_type=text.prompt_type,
        group=np.asarray(text.group),
        counterfactual_label=None,
    )


def _draw_error(pool, rho: float, sizes, seeds) -> str | None:
    """Why some seed's cell at this ρ cannot be drawn (the engine's message); None when all can."""
    for seed in seeds:
        try:
            draw_exp1_splits(pool, seed, rho, sizes)
        except CausalPrefError as error:
            return str(error)
    return None


def fit_exp1(pool, sizes, rhos, seeds, where: str = "this file") -> Fit:
    """Correlation shift's splits on a file (`pool`: what the draws read, see `draw_pool`): the
    largest sizes that fit every (ρ, seed) cell (`check_exp1_sizes`), or, when they leave the
    draw no room to reach some ρ, sizes that do (a split takes at most half the pairs it may come
    from: a target ρ needs pairs to choose between), and the target ρ whose every cell the engine
    draws with these sizes. A ρ out of reach is left out and, above
    the highest one reached, replaced by the highest ρ on a 0.05 grid that is reached; notes say
    so. Raises when no split, or no ρ, can be drawn."""
    names = pool.world.factor_names[:2]
    d1, d2, group = pool.diffs(names[0]), pool.diffs(names[1]), np.asarray(pool.group)
    shares = dict(zip(("train", "val", "test"), pool.world.split_shares))
    check = check_exp1_sizes(d1, d2, group, sizes, rhos, seeds, shares)
    if check.largest is None:
        raise CausalPrefError(
            f"cannot draw Correlation shift's splits from {where}: the data has {check.data}, "
            "too few for splits of any size"
        )
    discordant = d1 * d2 < 0
    rooms = []
    for rho in rhos:
        for seed in seeds:
            p = group_split(group, shares, cell_seed(seed, rho))
            rooms.append((p["train"].sum(), p["val"].sum(), p["test"].sum(), (p["test"] & discordant).sum()))
    train, val, test, disc = (int(min(room)) for room in zip(*rooms))
    largest = check.largest
    ood = max(2, min(largest.ood, disc // 2))
    roomy = replace(
        largest,
        train=max(2, min(largest.train, train // 2)),
        val=max(2, min(largest.val, val // 2)),
        id=max(2, min(largest.id, (test - ood) // 2)),
        ood=ood,
    )
    # the largest sizes when every ρ draws with them, else those that leave room (if they reach more ρ)
    fitted, errors = largest, {rho: _draw_error(pool, rho, largest, seeds) for rho in rhos}
    if any(errors.values()) and roomy != largest:
        roomy_errors = {rho: _draw_error(pool, rho, roomy, seeds) for rho in rhos}
        if sum(e is None for e in roomy_errors.values()) > sum(e is None for e in errors.values()):
            fitted, errors = roomy, roomy_errors
    kept = [rho for rho in rhos if errors[rho] is None]
    dropped = [rho for rho in rhos if errors[rho] is not None]
    if not kept:
        first = errors[rhos[0]]
        raise CausalPrefError(
            f"cannot draw Correlation shift's splits from {where} at any ρ of {_rho_text(rhos)} "
            f"(with {sizes_text(fitted)}): {first}"
        )
    notes = []
    if fitted != sizes:
        notes.append(
            f"This file has {check.data}: each ρ trains on {sizes_text(fitted)} (the page's usual "
            f"{sizes_text(sizes)} do not fit"
            + (
                "; each split takes at most half the pairs it may come from, so that a target ρ can be chosen)."
                if fitted is roomy
                else ")."
            )
        )
    if dropped:
        added = []
        high = [rho for rho in dropped if rho > max(kept)]
        if high:  # the highest correlation reached, on a 0.05 grid, in place of those out of reach
            candidate = math.floor(min(high) * 20 - 1e-9) / 20
            while candidate > max(kept) + 0.025:
                if candidate not in rhos and _draw_error(pool, candidate, fitted, seeds) is None:
                    added.append(candidate)
                    break
                candidate = round(candidate - 0.05, 2)
        kept = sorted(kept + added)
        word = "is" if len(dropped) == 1 else "are"
        instead = f" (the highest it reaches is about {added[0]:g})" if added else ""
        notes.append(
            f"ρ = {_rho_text(dropped)} {word} out of this file's reach with these sizes{instead}: "
            f"the sweep trains ρ = {_rho_text(kept)}."
        )
    return Fit(fitted, tuple(float(r) for r in kept), sizes, tuple(rhos), tuple(notes))


def fit_exp2(prompt_type, objective, group, sizes, rhos, seeds, where: str = "this file") -> Fit:
    """User objectives' splits on a file: the largest sizes up to the page's that every cell fits."""
    check = check_exp2_sizes(prompt_type, objective, sizes, rhos, group, seeds)
    if check.largest is None:
        raise CausalPrefError(
            f"cannot draw User objectives' splits from {where}: the data has {check.data}, "
            "too few for splits of any size"
        )
    notes = ()
    if not check.fits:
        notes = (
            f"This file has {check.data}: each ρ trains on {sizes_text(check.largest)} (the page's usual "
            f"{sizes_text(sizes)} do not fit).",
        )
    return Fit(check.largest, tuple(rhos), sizes, tuple(rhos), notes)


def page_settings(page: str, kind: str):
    """(split sizes, rhos, seeds) the experiment page draws from a file of this kind before they
    are fitted to it (Correlation shift: its four data ρ; User objectives: every ρ)."""
    from causalpref.ui.state import REAL_RHOS  # the state table imports this module

    if page == CORRELATION_PAGE:
        spec = Exp1Spec()
        return sizes_for_data("exp1", kind, spec.sizes), REAL_RHOS, spec.seeds
    spec = Exp2Spec()
    return sizes_for_data("exp2", kind, spec.sizes), spec.rhos, spec.seeds


_FITS: OrderedDict = OrderedDict()


def _memo(store: OrderedDict, key, compute, kept: int = 32):
    if key in store:
        store.move_to_end(key)
        return store[key]
    value = compute()
    store[key] = value
    while len(store) > kept:
        store.popitem(last=False)
    return value


def _where(world: RealDataWorld) -> str:
    return world.name.partition(":")[2] or world.path


def exp1_fit(world: RealDataWorld, sizes, rhos, seeds) -> Fit:
    """`fit_exp1` on a world's factors (factor data as the file gives them, or preferred and the
    measured factor); the same for any preference rule, so it is computed once per file."""
    key = ("exp1", world, sizes, tuple(rhos), tuple(seeds))
    return _memo(_FITS, key, lambda: fit_exp1(draw_pool(world), sizes, tuple(rhos), tuple(seeds), _where(world)))


def exp2_fit(world: RealDataWorld, sizes, rhos, seeds) -> Fit:
    """`fit_exp2` on a world's prompt types and objectives (the engine says what is missing)."""

    def compute():
        text = world.text
        if text.objective is None or text.prompt_type is None:
            from causalpref.run.precheck import check_before_embedding

            try:
                check_before_embedding("exp2", replace(Exp2Spec(), world=world))  # names what is missing
            except CausalPrefError as error:
                raise CausalPrefError(page_words(str(error))) from None
        return fit_exp2(text.prompt_type, text.objective, text.group, sizes, rhos, seeds, where=_where(world))

    return _memo(_FITS, ("exp2", world, sizes, tuple(rhos), tuple(seeds)), compute)


_CHECKED: OrderedDict = OrderedDict()


def precheck(experiment: str, spec) -> None:
    """Every (ρ, seed) cell of the spec drawn on the file's text pool before anything is embedded
    or trained (once per spec in this process): the engine's message when one cannot be drawn."""
    from causalpref.run.cache import spec_key
    from causalpref.run.precheck import check_before_embedding

    def compute():
        try:
            with named_in_errors(spec.world.path, spec.world.name.partition(":")[2] or None):
                check_before_embedding(experiment, spec)
        except CausalPrefError as error:
            raise CausalPrefError(page_words(str(error))) from None
        return True

    _memo(_CHECKED, spec_key(experiment, spec), compute, kept=64)


def size_verdicts(record: dict, pages=None) -> list[tuple[bool, str]]:
    """For each page the Data page's file feeds (`pages`, default both): whether the page draws
    its usual sizes from it, or what it draws instead, in one line (before anything is embedded:
    every cell is drawn on the text). Labelled pairs are judged for Correlation shift with length
    in words as the measured factor (the page lets one choose another)."""
    out = []
    pages = pages if pages is not None else (CORRELATION_PAGE, OBJECTIVES_PAGE)
    for page in pages:
        sizes, rhos, seeds = page_settings(page, record["kind"])
        title = PAGE_TITLES[page]
        measured = ""
        try:
            if page == CORRELATION_PAGE:
                if has_scores(record["kind"]):
                    world = world_of(record)
                else:
                    world = world_of(record, measure=VERDICT_MEASURE)
                    measured = f" (with {measure_label(VERDICT_MEASURE)} as the measured factor)"
                fit = exp1_fit(world, sizes, rhos, seeds)
                drawn = f"{sizes_text(fit.sizes)} at ρ = {_rho_text(fit.rhos)}{measured}"
            else:
                fit = exp2_fit(world_of(record), sizes, rhos, seeds)
                drawn = f"{sizes_text(fit.sizes)} at each ρ"
        except CausalPrefError as error:
            text = str(error)
            out.append((False, f"Too small for {title}: {text[0].lower()}{text[1:]}{measured}."))
            continue
        if fit.fits:
            out.append((True, f"Big enough for {title}, which draws {sizes_text(sizes)} at each ρ{measured}."))
        else:
            out.append((False, f"{title} will draw {drawn}: less than its usual {sizes_text(sizes)}."))
    return out


# ---------------------------------------------------------------- embedding, uploads


def embed(world: RealDataWorld, name: str | None = None, progress=None) -> tuple[int, int]:
    """Embed the world's texts, only what the cache lacks; progress(done, total) counts texts.
    Returns (pairs, vector dimension). Interrupting it (Streamlit's rerun on Stop) keeps every
    finished chunk in the cache. Factor data are embedded before their preference rule is stated
    (the texts do not depend on it; the experiment page states it)."""
    from causalpref.data.worlds.real import embed_pairs

    with named_in_errors(world.path, name):
        if world.has_factors and world.a is None:
            factor_names(world)  # two factors, or the page's message
            emb_a, _ = embed_pairs(world, progress)
            return int(emb_a.shape[0]), int(emb_a.shape[1])
        pool = world.pool(progress=progress)
        return len(pool), int(pool.emb_a.shape[1])


class EmbedClock:
    """The embedding bar: fraction done, and 'Embedding 1,024 / 4,000 texts · 12 s · about 35 s
    left', the estimate from the texts embedded in this run (those already cached come free)."""

    def __init__(self, now=time.monotonic):
        self.now = now
        self.start = now()
        self.first: tuple[int, float] | None = None  # (done, time) at the first report

    def __call__(self, done: int, total: int) -> tuple[float, str]:
        t = self.now()
        if self.first is None:
            self.first = (done, t)
        text = f"Embedding {done:,} / {total:,} texts · {clock_text(t - self.start)}"
        first_done, first_t = self.first
        if done > first_done and done < total and t > first_t:
            left = (total - done) * (t - first_t) / (done - first_done)
            text += f" · {seconds_text(left)} left"
        return (min(done / total, 1.0) if total else 1.0), text


def stopped_text(at) -> str:
    """What a stopped embedding kept, for the notice after Stop."""
    done = f" at {at[0]:,} of {at[1]:,} texts" if at else ""
    return f"Embedding stopped{done}. What was embedded is kept: Embed resumes from there."


def upload_suffix(name: str) -> str:
    lower = str(name).lower()
    for suffix in sorted(UPLOAD_SUFFIXES, key=len, reverse=True):  # .jsonl.gz before any shorter one
        if lower.endswith(suffix):
            return suffix
    raise CausalPrefError(f"{name}: unsupported file type; upload one of {', '.join(UPLOAD_SUFFIXES)}")


def save_upload(data: bytes, name: str, root) -> Path:
    """Save uploaded bytes as <root>/uploads/<sha256>.<suffix> (atomic; the same bytes, the same path)."""
    suffix = upload_suffix(name)
    if not data:
        raise CausalPrefError(f"{name}: the uploaded file is empty")
    folder = Path(root) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{hashlib.sha256(data).hexdigest()}{suffix}"
    if target.is_file() and target.stat().st_size == len(data):
        return target
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


__all__ = [
    "RECOGNISED",
    "EXAMPLES",
    "example_datasets",
    "shared_data_root",
    "data_roots",
    "path_in_roots",
    "model_dir_in_roots",
    "roots_caption",
    "examples_in_roots",
    "file_columns",
    "file_stamp",
    "mapping_from_form",
    "mapping_params",
    "mapping_from_params",
    "mapping_items",
    "form_of",
    "kind_options",
    "kind_label",
    "recognise",
    "load_text",
    "preview",
    "kept_text",
    "describe",
    "problem",
    "objectives_note",
    "pages_for",
    "headline",
    "read_as",
    "choice_params",
    "record_params",
    "record_from_params",
    "same_record",
    "world_label",
    "world_from_choice",
    "world_of",
    "has_scores",
    "factor_names",
    "preference_rule",
    "measure_caption",
    "Fit",
    "draw_pool",
    "fit_exp1",
    "fit_exp2",
    "exp1_fit",
    "exp2_fit",
    "precheck",
    "page_settings",
    "size_verdicts",
    "embed",
    "EmbedClock",
    "stopped_text",
    "save_upload",
]
