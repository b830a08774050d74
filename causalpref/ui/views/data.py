"""The "Data" page without streamlit: example data sets, a loader summary, uploads, the world.

- `example_datasets(root)`: the development data sets under a shared data folder (empty when
  the folder is absent), label -> (kind, path);
- `data_roots()`, `path_in_roots(text)`, `model_dir_in_roots(text)`: the folders a typed path
  may be read from ($CAUSALPREF_DATA_DIR, default the working directory and the examples'
  folder) and the typed file or model folder checked against them (causalpref.data_roots);
- `describe(text_pairs)`: the loader's summary as a two-column table and one plain reading;
- `problem(text_pairs, kind)`: why a loaded file cannot feed its experiment (None when it can);
- `world_from_choice(kind, path, model_dir, factors)`: the `RealDataWorld` the experiment pages use;
- `target_page(kind)`: the key of the experiment page a kind of data feeds;
- `save_upload(data, name, root)`: an uploaded file saved under a stable, content-addressed path;
- `load_text`, `embed`: the file read and embedded, every error naming the file as its user knows it;
- `size_verdict(text_pairs, kind)`: whether the file is big enough for the page its kind feeds;
- `EmbedClock`: the embedding bar's text (done / total, elapsed, time left).

An upload is read from its saved copy (cache/uploads/<sha256>.<suffix>), but every message
names it by the user's own file name: the loaders, the world and its embedding run under
`named_in_errors(path, name)`, and the world's name carries it to the experiment pages.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from causalpref import data_roots as roots_mod
from causalpref.data.kinds import data_kind
from causalpref.data.loaders import SUFFIXES, load_dataset, named_in_errors
from causalpref.data.worlds.real import FACTOR_KINDS, OBJECTIVE_KINDS, RealDataWorld
from causalpref.draw.splits import check_exp1_sizes, check_exp2_sizes, sizes_text
from causalpref.errors import CausalPrefError
from causalpref.run.progress import clock_text, seconds_text
from causalpref.run.specs import Exp1Spec, Exp2Spec, sizes_for_data

REAL_KINDS = FACTOR_KINDS + OBJECTIVE_KINDS
CORRELATION_PAGE = "Correlation_shift"  # page keys (causalpref.ui.pages), not files
OBJECTIVES_PAGE = "User_objectives"
PAGE_TITLES = {CORRELATION_PAGE: "Correlation shift", OBJECTIVES_PAGE: "User objectives"}
# what the uploader takes, the path's label advertises and the loaders read: one tuple
UPLOAD_SUFFIXES = SUFFIXES
_ZIPPED = {s.removesuffix(".gz") for s in SUFFIXES if s.endswith(".gz")}
SUFFIX_TEXT = ", ".join(f"{s}[.gz]" if s in _ZIPPED else s for s in SUFFIXES if not s.endswith(".gz"))

# label -> (kind, path relative to the shared data folder)
EXAMPLES = {
    "TruthfulQA dual labels (Experiment 1, 18,244 answers)": (
        "truthfulqa",
        "truthfulqa/truthfulqa_dual_labels.jsonl.gz",
    ),
    "Relabelled HH-RLHF (Experiment 2, 4,043 pairs)": ("relabeled-hh", "relabeled-hh-rlhf/both/test.jsonl.gz"),
    "HH-RLHF helpful-base test (summary only: one prompt type, one objective)": (
        "hh-rlhf",
        "hh-rlhf/helpful-base/test.jsonl.gz",
    ),
    "UltraFeedback binarized sample (summary only: no per-aspect ratings)": (
        "ultrafeedback",
        "ultrafeedback-binarized-sample/train_clean.jsonl.gz",
    ),
}


def shared_data_root() -> Path:
    """Where the development data sets live: ../shared/data beside the repository."""
    return roots_mod.bundled_examples_root()


def data_roots() -> roots_mod.DataRoots:
    """The folders a typed path may be read from: $CAUSALPREF_DATA_DIR (folders separated by
    os.pathsep), or else the working directory and the example data sets' folder."""
    return roots_mod.data_roots(defaults=(Path.cwd(), shared_data_root()))


def path_in_roots(text: str, roots: roots_mod.DataRoots | None = None) -> Path:
    """The resolved data file a typed path names inside the data roots; one message for every
    path refused (outside, missing, a folder, a symlink out of a root), so it tells nothing
    about what exists outside them. A relative path starts from the first root."""
    return roots_mod.resolve_in_roots(text, data_roots() if roots is None else roots)


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
        label: (kind, str((root / rel).resolve())) for label, (kind, rel) in EXAMPLES.items() if (root / rel).is_file()
    }


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
        left = ", ".join(f"{why}: {count:,}" for why, count in s["skipped"].items())
        rows.append(("left out by the loader", left))
        parts.append(f"the loader left out {left}")
    table = pd.DataFrame(rows, columns=["quantity", "value"])
    return table, "; ".join(parts) + "."


def problem(text_pairs, kind: str) -> str | None:
    """Why this file cannot feed an experiment, in one sentence; None when it can."""
    if kind not in REAL_KINDS:
        return (
            f"Kind {kind!r} can be summarised but feeds no experiment: Experiment 1 needs factor data "
            f"({', '.join(FACTOR_KINDS)}), Experiment 2 needs an objective per pair ({', '.join(OBJECTIVE_KINDS)})."
        )
    if kind in FACTOR_KINDS:
        k = 0 if text_pairs.factor_diffs is None else text_pairs.factor_diffs.shape[1]
        if k < 2:
            return (
                f"Experiment 1 needs two factor scores per response and this file gives {k} (a binarized "
                "UltraFeedback file has only chosen/rejected; use the per-aspect ratings file)."
            )
    elif text_pairs.objective is None or text_pairs.prompt_type is None:
        return (
            "Experiment 2 needs an objective and a prompt type per pair (relabelled HH-RLHF, or a pair "
            "table with objective and prompt_type columns)."
        )
    return None


def _loader_options(kind: str, factors) -> dict:
    factors = tuple(f.strip() for f in (factors or ()) if f and f.strip())
    needed = data_kind(kind).factors_needed
    if len(factors) < needed:
        raise CausalPrefError(
            f"{data_kind(kind).label} needs at least {needed} factor columns (e.g. truthful, informative)"
        )
    return data_kind(kind).loader_options(factors) if data_kind(kind).factor_option else {}


def load_text(kind: str, path, factors=(), name: str | None = None):
    """The file's pairs as text (`TextPairs`), read as the world reads them; errors name `name`."""
    return load_dataset(str(path), kind=kind, display_name=name, **_loader_options(kind, factors))


def world_from_choice(kind: str, path, model_dir=None, factors=(), name: str | None = None) -> RealDataWorld:
    """The `RealDataWorld` for a chosen file; an empty model_dir means the packaged MiniLM.
    `name`: the file's name as its user knows it (an upload's own name), for the world's name
    and every error."""
    if kind not in REAL_KINDS:
        raise CausalPrefError(f"kind {kind!r} feeds no experiment; choose from {list(REAL_KINDS)}")
    if not path or not str(path).strip():
        raise CausalPrefError("no data file chosen: give a local path or upload a file")
    model_dir = str(model_dir).strip() if model_dir else None
    if model_dir:
        from causalpref.data.embed import check_model_dir

        model_dir = str(check_model_dir(model_dir))
    _loader_options(kind, factors)  # too few factor columns: said before the file is hashed
    factors = tuple(f.strip() for f in (factors or ()) if f and f.strip())
    with named_in_errors(str(path).strip(), name):
        world = RealDataWorld.from_path(
            kind, str(path).strip(), model_dir=model_dir, factors=factors if data_kind(kind).factor_option else ()
        )
    return dataclasses.replace(world, name=f"{kind}:{name}") if name else world


def embed(world: RealDataWorld, name: str | None = None, progress=None):
    """The world's pool, embedding what the cache lacks; progress(done, total) counts texts.
    Interrupting it (Streamlit's rerun on Stop) keeps every finished chunk in the cache."""
    with named_in_errors(world.path, name):
        return world.pool(progress=progress)


def page_settings(kind: str):
    """(split sizes, rhos, seeds) that the experiment page fed by `kind` draws from a file, as
    the pages build their specs (Correlation shift: its four data ρ; User objectives: every ρ)."""
    from causalpref.ui.state import REAL_RHOS  # the state table imports this module

    if kind in FACTOR_KINDS:
        spec = Exp1Spec()
        return sizes_for_data("exp1", kind, spec.sizes), REAL_RHOS, spec.seeds
    spec = Exp2Spec()
    return sizes_for_data("exp2", kind, spec.sizes), spec.rhos, spec.seeds


def size_verdict(text_pairs, kind: str) -> tuple[bool, str]:
    """Whether the file holds enough pairs for the page its kind feeds, in one line; for a file
    that `problem` passed. Counting only: it is checked before anything is embedded."""
    page = PAGE_TITLES[target_page(kind)]
    sizes, rhos, seeds = page_settings(kind)
    if kind in FACTOR_KINDS:
        d = text_pairs.factor_diffs
        check = check_exp1_sizes(d[:, 0], d[:, 1], text_pairs.group, sizes, rhos, seeds)
    else:
        check = check_exp2_sizes(text_pairs.prompt_type, text_pairs.objective, sizes, rhos)
    asked = f"{page}, which draws {sizes_text(sizes)} at each ρ"
    if check.fits:
        return True, f"Big enough for {asked}."
    if check.largest is None:
        return False, f"Too small for {asked}: its {check.data} are too few for splits of any size."
    return False, f"Too small for {asked}: its {check.data} hold at most {sizes_text(check.largest)}."


def headline(text_pairs, kind: str) -> str:
    """One line: how many pairs over how many prompts, and what kind of data they are."""
    groups = "questions" if kind in FACTOR_KINDS else "prompts"
    return f"{len(text_pairs):,} pairs over {text_pairs.n_groups:,} {groups} · {data_kind(kind).label}"


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


def target_page(kind: str) -> str:
    """The key (causalpref.ui.pages) of the experiment page a kind of data feeds."""
    if kind in FACTOR_KINDS:
        return CORRELATION_PAGE
    if kind in OBJECTIVE_KINDS:
        return OBJECTIVES_PAGE
    raise CausalPrefError(f"kind {kind!r} feeds no experiment; choose from {list(REAL_KINDS)}")


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


def choice_params(kind: str, path, model_dir=None, factors=(), name: str | None = None) -> dict:
    """What the Data page stores in st.session_state["real_world"] for the experiment pages."""
    return {
        "kind": kind,
        "path": str(path),
        "model_dir": (str(model_dir).strip() or None) if model_dir else None,
        "factors": tuple(factors or ()),
        "name": name or Path(str(path)).name,
    }


def world_label(params: dict | None, family: tuple[str, ...]) -> str | None:
    """ "Data: <file name>" when `params` (from the Data page) is of this family of kinds, else None."""
    if not isinstance(params, dict) or params.get("kind") not in family or not params.get("path"):
        return None
    return f"Data: {params.get('name') or Path(params['path']).name}"


def world_of(params: dict) -> RealDataWorld:
    """The world of the Data page's choice (`choice_params`), named as the user knows the file."""
    return world_from_choice(
        params["kind"], params["path"], params.get("model_dir"), params.get("factors", ()), name=params.get("name")
    )


__all__ = [
    "REAL_KINDS",
    "example_datasets",
    "describe",
    "problem",
    "world_from_choice",
    "target_page",
    "save_upload",
    "choice_params",
    "world_label",
    "world_of",
    "shared_data_root",
    "data_roots",
    "path_in_roots",
    "model_dir_in_roots",
    "roots_caption",
    "examples_in_roots",
    "load_text",
    "embed",
    "page_settings",
    "size_verdict",
    "headline",
    "EmbedClock",
    "stopped_text",
]
