"""Data: choose a real preference data file, see how it is read, map its columns, embed it,
run an experiment on it.

A thin description of the UI; how the file is read, its mapping, summaries, checks and the
world come from causalpref.ui.views.data.

A typed path (the file or folder field, the model folder, or either arriving in a shared link's
URL) is read only inside the data roots ($CAUSALPREF_DATA_DIR; default: the working directory
and the examples' folder) and every path refused gets one message (causalpref.data_roots).
An upload is the visitor's own bytes and is not checked against them.
"""

import streamlit as st

import appkit
from causalpref.data.columns import TARGETS, VALUE_TARGETS
from causalpref.data.kinds import data_kind
from causalpref.errors import CausalPrefError
from causalpref.run.cache import default_cache_root
from causalpref.ui.safe import visitor_text
from causalpref.ui.state import DATA as S
from causalpref.ui.state import DATA_WORLD, NO_EXAMPLE, example_options
from causalpref.ui.views import data as dv

appkit.page(
    "Data",
    "Run the experiments on your own preference data: choose a file or a folder, see how it is read "
    "(map its columns if needed), embed it locally (cached on disk), then use it in *Correlation "
    "shift* or *User objectives*. Nothing is downloaded.",
    S,
)


@st.cache_resource(max_entries=8, show_spinner="Reading the file…")
def _load(kind: str, path: str, stamp, factors: tuple, name: str, columns: tuple):
    return dv.load_text(kind, path, factors, name, columns)


@st.cache_data(max_entries=8, show_spinner="Counting what each page can draw…")
def _verdicts(record: dict, stamp, pages: tuple) -> list:
    return dv.size_verdicts(record, pages)  # a few seconds on a large file: every cell is drawn


@st.cache_data(max_entries=16, show_spinner=False)
def _columns(path: str, stamp, name: str) -> tuple[str, ...]:
    return dv.file_columns(path, name=name)


def _examples() -> dict[str, tuple[str, str, str]]:
    return example_options(dv.examples_in_roots(dv.example_datasets(dv.shared_data_root())))


def _forget_mapping() -> None:
    """Another file: the last file's column mapping does not apply to it."""
    for key in (*dv.MAP_KEYS.values(), *dv.VALUES_KEYS.values()):
        st.session_state.pop(key, None)
        if key in st.query_params:
            del st.query_params[key]


def _on_example_change() -> None:
    found = _examples().get(st.session_state.get("example"))
    if found:
        st.session_state["path"] = found[2]
        st.session_state["kind"] = dv.RECOGNISED
    _forget_mapping()


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
        label=f"Local data file or folder of files ({dv.SUFFIX_TEXT})",
        default=examples[example][2] if example in examples else "",
        placeholder="/path/to/data.jsonl.gz",
        on_change=_forget_mapping,
    ).strip()
    left.caption(dv.roots_caption())
    upload = right.file_uploader("…or upload a file", type=list(dv.UPLOAD_SUFFIXES), key="upload")
    if upload is not None:
        saved = str(dv.save_upload(upload.getvalue(), upload.name, default_cache_root()))
        right.caption("The upload is used instead of the path; clear it to use the path.")
        return saved, upload.name, ""
    if not path:
        return "", "", ""
    try:
        found = dv.path_in_roots(path)
        return str(found), found.name, ""
    except CausalPrefError as refused:  # one message for every path refused; nothing was read
        left.error(str(refused))  # under the field it is about
        return "", "", str(refused)


def _mapping_form(columns: tuple[str, ...], expanded: bool):
    """The column-mapping form in an expander: (the mapping as items, the expander) or (None,
    the expander) when the form describes no valid mapping (its one-line error is shown under it)."""
    box = st.expander("Column mapping: read fields that have other names", expanded=expanded)
    with box:
        st.caption(
            f"The file's fields: {visitor_text(', '.join(columns)) or 'none'}. Choose the column that holds each field the "
            "loaders read (leave the others at —); a value map says what a column's values mean."
        )
        chosen, values = {}, {}
        targets = list(TARGETS)
        for start in range(0, len(targets), 3):  # rows of three fields, each with its value map under it
            for cell, target in zip(st.columns(3), targets[start : start + 3]):
                chosen[target] = appkit.control(S[dv.MAP_KEYS[target]], cell, options=(dv.NO_COLUMN, *columns))
                if target in VALUE_TARGETS:
                    values[target] = appkit.control(
                        S[dv.VALUES_KEYS[target]], cell, placeholder=dv.VALUE_EXAMPLES.get(target, "")
                    )
        try:
            mapping = dv.mapping_from_form(chosen, values)
        except CausalPrefError as bad:
            st.error(visitor_text(bad))
            return None, box
        if mapping:
            st.caption("Mapping: " + visitor_text(" ".join(dv.mapping_items(mapping))))
    return dv.mapping_items(mapping), box


def _stop_embedding() -> None:
    st.session_state["_embed_stopped"] = True


def _embed(world, name: str):
    """Embed with a bar and a Stop button; (pairs, dimension) once embedded, None while not (not
    asked, or stopped)."""
    if st.session_state.pop("_embed_stopped", False):
        st.info(dv.stopped_text(st.session_state.get("_embed_at")))
    if not st.button("Embed", type="primary", key="embed"):
        st.caption("Embeds each distinct prompt and response once; a file embedded before loads at once.")
        return None
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
        shape = dv.embed(world, name, progress=show)
    except Exception:
        slot.empty()  # a failure leaves no bar behind (a Stop's rerun redraws the page anyway)
        raise
    slot.empty()
    return shape


def render() -> None:
    path, name, refused = _choose_file()
    left, right = st.columns(2)
    chosen_kind = appkit.control(S["kind"], left, options=dv.kind_options())  # the registry's, now
    with st.expander("Encoder (optional)"):
        model_dir = appkit.control(S["model_dir"]).strip()
        st.caption("A model folder is read only inside the data folders, as a data file is.")
    if refused:  # said under the path field; the controls below stay usable
        return
    if not path:
        st.info("Choose a data file: an example, a local path (a file or a folder of files) or an upload.")
        return

    stamp = dv.file_stamp(path)
    st.subheader(visitor_text(name))
    head = st.container()  # what the file was read as: above the form that changes it
    fields = _columns(path, stamp, name)
    mapped = any(appkit.peek(S[key], options=(dv.NO_COLUMN, *fields)) for key in dv.MAP_KEYS.values())
    try:  # a file whose fields show no known shape opens the form
        dv.recognise(dv.RECOGNISED, path)
        plain = True
    except CausalPrefError:
        plain = False
    columns, box = _mapping_form(fields, expanded=mapped or not plain)
    if columns is None:  # the form's error is under it
        return
    with box:
        st.markdown("**First rows as mapped**")
        try:
            st.dataframe(dv.preview(path, columns, name=name), hide_index=True)
        except CausalPrefError as bad:  # a value the mapping does not name, a missing column
            st.error(visitor_text(dv.page_words(str(bad))))
            return
    with head:
        try:
            kind = dv.recognise(chosen_kind, path, columns, name)
        except CausalPrefError as unknown:
            st.error(visitor_text(dv.page_words(str(unknown))))
            return
        factors: tuple[str, ...] = ()
        if data_kind(kind).factors_needed:
            raw = appkit.control(S["factors"], right)
            factors = tuple(f.strip() for f in raw.split(",") if f.strip())
        try:
            text = _load(chosen_kind, path, stamp, factors, name, columns)
        except CausalPrefError as bad:
            st.error(visitor_text(dv.page_words(str(bad))))
            return
        st.markdown(dv.headline(text, kind))
        st.markdown(visitor_text(dv.read_as(text, kind)))
        st.caption(visitor_text(dv.kept_text(text)))
    with st.expander("Summary table"):
        table, reading = dv.describe(text)
        st.dataframe(table, hide_index=True)
        appkit.reading(reading)
    issue = dv.problem(text, kind)
    if issue:
        st.error(visitor_text(issue))
        return
    note = dv.objectives_note(text)
    if note:
        st.info(visitor_text(note))
    if model_dir:  # typed or from the URL: checked against the data roots like the file
        model_dir = str(dv.model_dir_in_roots(model_dir))
    targets = dv.pages_for(kind, text)
    record = dv.choice_params(
        kind,
        path,
        model_dir or None,
        factors,
        name=name,
        columns=columns,
        upload=st.session_state.get("upload") is not None,
        objectives=dv.OBJECTIVES_PAGE in targets,
    )
    for fits, verdict in _verdicts(record, stamp, targets):
        (st.caption if fits else st.warning)(verdict)

    world = dv.world_of(record)
    embedded = st.session_state.setdefault("_embedded", {})
    if world not in embedded:
        shape = _embed(world, name)
        if shape is None:
            return
        embedded[world] = shape
    pairs, dim = embedded[world]
    st.success(f"Embedded: {pairs:,} pairs, {dim}-dimensional vectors.")

    for column, target in zip(st.columns(len(targets)), targets):
        if column.button(f"Use in {dv.PAGE_TITLES[target]}", type="primary", key=f"use_{target}"):
            st.session_state["real_world"] = record
            st.session_state["world"] = DATA_WORLD
            appkit.switch_page(target, {"world": DATA_WORLD, **dv.record_params(record)})


appkit.guard(render)
