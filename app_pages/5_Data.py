"""Data: choose a real preference data file, look at it, embed it, run an experiment on it.

A thin description of the UI; the summaries, checks and the world come from
causalpref.ui.views.data.

A typed path (the file field, the model folder, or either arriving in a shared link's URL)
is read only inside the data roots ($CAUSALPREF_DATA_DIR; default: the working directory and
the examples' folder) and every path refused gets one message (causalpref.data_roots).
An upload is the visitor's own bytes and is not checked against them.
"""

import os
from pathlib import Path

import streamlit as st

import appkit
from causalpref.data.kinds import data_kind
from causalpref.data.loaders import guess_kind
from causalpref.errors import CausalPrefError
from causalpref.run.cache import default_cache_root
from causalpref.ui.state import DATA as S
from causalpref.ui.state import DATA_KINDS as KINDS
from causalpref.ui.state import DATA_WORLD, NO_EXAMPLE, example_options
from causalpref.ui.views import data as dv

appkit.page(
    "Data",
    "Run the experiments on your own preference data: choose a file, embed it with a local encoder "
    "(cached on disk), then use it in *Correlation shift* or *User objectives*. Nothing is downloaded.",
    S,
)


@st.cache_resource(max_entries=8, show_spinner="Reading the file…")
def _load(kind: str, path: str, stamp: tuple, factors: tuple, name: str):
    return dv.load_text(kind, path, factors, name)


@st.cache_data(max_entries=8, show_spinner=False)
def _verdict(kind: str, path: str, stamp: tuple, factors: tuple, name: str) -> tuple[bool, str]:
    return dv.size_verdict(_load(kind, path, stamp, factors, name), kind)  # a second on a large file


def _guess(path: str, name: str | None = None) -> str | None:
    try:
        kind = guess_kind(path, name)
    except (CausalPrefError, OSError):
        return None
    return kind if kind in KINDS else None


def _on_path_change() -> None:
    try:  # nothing outside the data roots is opened, not even to guess its kind
        path = dv.path_in_roots(st.session_state.get("path", ""))
    except CausalPrefError:
        return
    guessed = _guess(str(path))
    if guessed:
        st.session_state["kind"] = guessed


def _examples() -> dict[str, tuple[str, str, str]]:
    return example_options(dv.examples_in_roots(dv.example_datasets(dv.shared_data_root())))


def _on_example_change() -> None:
    found = _examples().get(st.session_state.get("example"))
    if found:
        _, st.session_state["kind"], st.session_state["path"] = found


def _choose_file() -> tuple[str, str, str]:
    """(path, display name, '') of the chosen file; ('', '', '') when none; ('', '', why) when
    the typed path is refused (outside the data roots, missing, ...: one message for all,
    shown under the field)."""
    left, right = st.columns(2)
    examples = _examples()
    example = NO_EXAMPLE
    if examples:
        example = appkit.control(
            S["example"],
            left,
            options=(NO_EXAMPLE, *examples),
            labels={NO_EXAMPLE: "—", **{key: label for key, (label, _, _) in examples.items()}},
            on_change=_on_example_change,
        )
    elif dv.example_datasets(dv.shared_data_root()):
        left.caption("The example data sets in ../shared/data lie outside the data folders.")
    else:
        left.caption("No example data sets here (the folder ../shared/data beside the repository is absent).")
    path = appkit.control(
        S["path"],
        left,
        label=f"Local data file ({dv.SUFFIX_TEXT})",
        default=examples[example][2] if example in examples else "",
        on_change=_on_path_change,
        placeholder="/path/to/data.jsonl.gz",
    ).strip()
    left.caption(dv.roots_caption())
    upload = right.file_uploader("…or upload a file", type=list(dv.UPLOAD_SUFFIXES), key="upload")
    if upload is not None:
        saved = str(dv.save_upload(upload.getvalue(), upload.name, default_cache_root()))
        if st.session_state.get("_upload") != saved:  # a new upload: its kind is guessed, as a path's is
            st.session_state["_upload"] = saved
            guessed = _guess(saved, upload.name)
            if guessed:
                st.session_state["kind"] = guessed
        right.caption("The upload is used instead of the path; clear it to use the path.")
        return saved, upload.name, ""
    st.session_state.pop("_upload", None)
    if not path:
        return "", "", ""
    try:
        return str(dv.path_in_roots(path)), Path(path).name, ""
    except CausalPrefError as refused:  # one message for every path refused; nothing was read
        left.error(str(refused))  # under the field it is about
        return "", "", str(refused)


def _stop_embedding() -> None:
    st.session_state["_embed_stopped"] = True


def _embed(world, name: str) -> bool:
    """Embed with a bar and a Stop button; False while the file is not embedded (not asked, or stopped)."""
    if st.session_state.pop("_embed_stopped", False):
        st.info(dv.stopped_text(st.session_state.get("_embed_at")))
    if not st.button("Embed", type="primary", key="embed"):
        st.caption("Embeds each distinct prompt and response once; a file embedded before loads at once.")
        return False
    slot = st.empty()
    with slot.container():
        # Stop reruns the page, which interrupts the embedding at its next bar update
        st.button("Stop", key="stop_embed", on_click=_stop_embedding)
        bar = st.progress(0.0, text="Loading the encoder…")
    clock = dv.EmbedClock()

    def show(done: int, total: int) -> None:
        st.session_state["_embed_at"] = (done, total)
        fraction, text = clock(done, total)
        bar.progress(fraction, text=text)

    try:
        dv.embed(world, name, progress=show)
    except Exception:
        slot.empty()  # a failure leaves no bar behind (a Stop's rerun redraws the page anyway)
        raise
    slot.empty()
    return True


def render() -> None:
    path, name, refused = _choose_file()
    left, right = st.columns(2)
    kind = appkit.control(S["kind"], left, default=(_guess(path, name) if path else None) or KINDS[0])
    factors: tuple[str, ...] = ()
    if data_kind(kind).factors_needed:
        raw = appkit.control(S["factors"], right)
        factors = tuple(f.strip() for f in raw.split(",") if f.strip())
    with st.expander("Encoder (optional)"):
        model_dir = appkit.control(S["model_dir"]).strip()
        st.caption("A model folder is read only inside the data folders, as a data file is.")
    if refused:  # said under the path field; the controls below stay usable
        return
    if not path:
        st.info("Choose a data file: an example, a local path or an upload.")
        return

    stat = os.stat(path)
    stamp = (stat.st_mtime_ns, stat.st_size)
    text = _load(kind, path, stamp, factors, name)
    st.subheader(name)
    st.markdown(dv.headline(text, kind))
    with st.expander("Summary table"):
        table, reading = dv.describe(text)
        st.dataframe(table, hide_index=True)
        appkit.reading(reading)
    issue = dv.problem(text, kind)
    if issue:
        st.error(issue)
        return
    fits, verdict = _verdict(kind, path, stamp, factors, name)
    (st.caption if fits else st.warning)(verdict)

    if model_dir:  # typed or from the URL: checked against the data roots like the file
        model_dir = str(dv.model_dir_in_roots(model_dir))
    world = dv.world_from_choice(kind, path, model_dir or None, factors, name=name)
    embedded = st.session_state.setdefault("_embedded", set())
    if world not in embedded:
        if not _embed(world, name):
            return
        embedded.add(world)
    pool = world.pool()
    st.success(f"Embedded: {len(pool):,} pairs, {pool.emb_a.shape[1]}-dimensional vectors.")

    target = dv.target_page(kind)
    if st.button(f"Use in {dv.PAGE_TITLES[target]}", type="primary", key="use"):
        params = dv.choice_params(kind, path, model_dir or None, factors, name=name)
        st.session_state["real_world"] = params
        st.session_state["world"] = DATA_WORLD
        appkit.switch_page(target, {"world": DATA_WORLD})


appkit.guard(render)
