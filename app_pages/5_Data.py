"""Data: choose a real preference data file, look at it, embed it, run an experiment on it.

A thin description of the UI; the summaries, checks and the world come from
causalpref.ui.views.data.
"""

import os
from pathlib import Path

import streamlit as st

import appkit
from causalpref.data.loaders import guess_kind, load_dataset
from causalpref.data.worlds.real import FACTOR_KINDS
from causalpref.errors import CausalPrefError
from causalpref.run.cache import default_cache_root
from causalpref.ui.state import DATA as S
from causalpref.ui.state import DATA_KINDS as KINDS
from causalpref.ui.state import DATA_WORLD, NO_EXAMPLE, example_options
from causalpref.ui.views import data as dv

appkit.page(
    "Data",
    "Run the experiments on real text instead of the synthetic worlds. Choose a local data file "
    "(or upload one) and say what kind of data it is: **factor data** (TruthfulQA dual labels, "
    "UltraFeedback per-aspect ratings, a response table with factor columns) feeds *Correlation "
    "shift* (Experiment 1); **objective data** (relabelled HH-RLHF, a pair table with objective and "
    "prompt_type columns) feeds *User objectives* (Experiment 2). The file is summarised first; "
    "*Embed* then turns every response into a vector with a local sentence encoder (cached on "
    "disk, so the second time is instant). Nothing is ever downloaded.",
    S,
)


@st.cache_resource(max_entries=8, show_spinner="Reading the file…")
def _load(kind: str, path: str, stamp: tuple, factors: tuple):
    options = {"factors": list(factors)} if kind == "responses" else {}
    return load_dataset(path, kind=kind, **options)


def _guess(path: str) -> str | None:
    try:
        kind = guess_kind(path)
    except (CausalPrefError, OSError):
        return None
    return kind if kind in KINDS else None


def _on_path_change() -> None:
    guessed = _guess(st.session_state.get("path", "").strip())
    if guessed:
        st.session_state["kind"] = guessed


def _examples() -> dict[str, tuple[str, str, str]]:
    return example_options(dv.example_datasets(dv.shared_data_root()))


def _on_example_change() -> None:
    found = _examples().get(st.session_state.get("example"))
    if found:
        _, st.session_state["kind"], st.session_state["path"] = found


def _choose_file() -> tuple[str, str]:
    """(path, display name) of the chosen file; ('', '') when none."""
    examples = _examples()
    example = NO_EXAMPLE
    if examples:
        example = appkit.control(
            S["example"],
            options=(NO_EXAMPLE, *examples),
            labels={NO_EXAMPLE: "—", **{key: label for key, (label, _, _) in examples.items()}},
            on_change=_on_example_change,
        )
    else:
        st.info(
            "No example data sets here: the folder ../shared/data (beside the repository) does not "
            "exist. Give the path of a local file or upload one."
        )
    path = appkit.control(
        S["path"],
        default=examples[example][2] if example in examples else "",
        on_change=_on_path_change,
        placeholder="/path/to/data.jsonl.gz",
    ).strip()
    upload = st.file_uploader("…or upload a file", type=["jsonl", "gz", "csv", "parquet"], key="upload")
    if upload is not None:
        saved = dv.save_upload(upload.getvalue(), upload.name, default_cache_root())
        st.caption(f"Using the upload {upload.name} (saved as {saved}); clear it to use the path above.")
        return str(saved), upload.name
    if not path:
        return "", ""
    if not Path(path).expanduser().is_file():
        raise CausalPrefError(f"data file {path} does not exist (give a local path; nothing is downloaded)")
    return str(Path(path).expanduser().resolve()), Path(path).name


def render() -> None:
    path, name = _choose_file()
    guessed = _guess(path) if path else None
    left, middle, right = st.columns(3)
    kind = appkit.control(S["kind"], left, default=guessed or KINDS[0])
    model_dir = appkit.control(S["model_dir"], middle).strip()
    factors: tuple[str, ...] = ()
    if kind == "responses":
        raw = appkit.control(S["factors"], right)
        factors = tuple(f.strip() for f in raw.split(",") if f.strip())
    if not path:
        st.info("Choose a data file: an example, a local path or an upload.")
        return

    stat = os.stat(path)
    text = _load(kind, path, (stat.st_mtime_ns, stat.st_size), factors)
    st.subheader(f"Summary of {name}")
    table, reading = dv.describe(text)
    st.dataframe(table, hide_index=True)
    appkit.reading(reading)
    issue = dv.problem(text, kind)
    if issue:
        st.error(issue)
        return

    world = dv.world_from_choice(kind, path, model_dir or None, factors)
    embedded = st.session_state.setdefault("_embedded", set())
    if world not in embedded:
        if not st.button(
            "Embed", type="primary", key="embed", help="Embeds every distinct (prompt, response) once; cached on disk."
        ):
            st.caption(
                "Embedding speed of the packaged MiniLM on a 2-core CPU: about 200 short answers/s, "
                "about 45 HH dialogues/s. A file embedded before loads instantly."
            )
            return
        bar = st.progress(0.0, text="Embedding…")
        world.pool(
            progress=lambda done, total: bar.progress(
                min(done / total, 1.0) if total else 1.0, text=f"Embedding: {done:,} / {total:,} texts"
            )
        )
        bar.empty()
        embedded.add(world)
    pool = world.pool()
    st.success(f"Embedded: {len(pool):,} pairs, {pool.emb_a.shape[1]}-dimensional vectors.")

    target = dv.target_page(kind)
    label = "Use in Correlation shift" if kind in FACTOR_KINDS else "Use in User objectives"
    if st.button(label, type="primary", key="use"):
        params = dv.choice_params(kind, path, model_dir or None, factors, name=name)
        st.session_state["real_world"] = params
        st.session_state["world"] = DATA_WORLD
        appkit.switch_page(target, {"world": DATA_WORLD})


appkit.guard(render)
