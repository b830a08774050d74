"""Streamlit glue shared by the pages: page frame, controls bound to the URL, teacher links,
error boundary, cached sweeps, downloads.

The engine (causalpref/) never imports streamlit; this module is the only place where the
two meet besides the pages themselves, which stay thin descriptions of their UI.

Controls. A page describes its knobs once, in its table in causalpref.ui.state; `control` and
`row` render a Control into its widget and bind it to the URL query parameter of its key
(short values: `scale=continuous`, `arch=base+ipw`), and `hide=` of a teacher link leaves it
out of the page altogether (its value still comes from the URL). The binding is this module's,
not Streamlit's `bind="query-params"`: that one writes the label a reader sees into the URL
(`scale=continuous (Gaussian)`) and forbids st.switch_page while a bound widget is off its
default.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

import pandas as pd
import streamlit as st

from causalpref.device import describe_device, resolve_device
from causalpref.errors import CausalPrefError
from causalpref.interventions.run import load_cached as load_interventions
from causalpref.interventions.run import run_interventions_cached
from causalpref.run.cache import ResultCache, spec_key
from causalpref.run.cached import load_cached, run_cached
from causalpref.run.progress import (
    SpeedLog,
    Tracker,
    clock_text,
    estimate_seconds,
    model_count,
    seconds_text,
    work_units,
)
from causalpref.run.sanity import CHECK_ORDER, run_sanity_checks
from causalpref.ui import pages, style
from causalpref.ui.links import HIDE_PARAM, TEACHER_PARAM, hidden_keys, teacher_flag, teacher_link
from causalpref.ui.safe import visitor_text
from causalpref.ui.state import DATA_WORLD, MISSING, SYNTHETIC, WORLD_LABELS, Control, State, canonical_params
from causalpref.ui.views import data as dv
from causalpref.ui.views.interventions import training_size

log = logging.getLogger("causalpref.app")

_FRAME = "_frame"  # this run: the page's table, the controls shown, the hidden ones
_HIDE = "_hide"  # the `hide` of the teacher link this session arrived by
_TEACHER = "_teacher"  # whether this session shows the teacher tools
_PAGE = "_page"  # the page the last run drew
ENDED = "_training_ended"  # training group -> None (stopped) or the reason it failed
_TRAINED = "_trained"  # the note of the last training that finished, shown once
_UNSET = object()
# what `control` passes to the widget rather than into the Control
_WIDGET_ARGS = ("disabled", "on_change", "args", "kwargs", "captions", "horizontal", "placeholder", "label_visibility")


def page(title: str, intro: str, state: State | None = None) -> None:
    """The frame every page shares: wide layout, title, one-paragraph intro, device badge, and
    the teacher tools of the page's controls (`state`, its table in causalpref.ui.state)."""
    # "auto" collapses the sidebar at <= 768 px only; style.CSS narrows it up to 1024 px
    st.set_page_config(page_title=f"causalpref · {title}", layout="wide", initial_sidebar_state="auto")
    st.html(style.style_tag())  # style-only: goes to the event container, no blank block
    st.sidebar.caption(f"Compute device: {describe_device(resolve_device('auto'))}")
    from causalpref.run import backends  # where the page's sweeps train: beside the device badge

    try:
        choice = backends.current()
        if choice.name != "local":  # e.g. CAUSALPREF_RAY_ADDRESS: 'Ray at HOST:PORT: 16 CPUs, 2 GPUs, 3 nodes'
            st.sidebar.caption(visitor_text(f"Training backend: {backends.describe(choice)}"))
    except CausalPrefError as error:  # an unreachable cluster: said here, and again by a sweep that needs it
        st.sidebar.caption(visitor_text(f"Training backend: {error}"))
    if st.session_state.get(_PAGE) != title:  # arriving: the URL decides, not another page's widgets
        st.session_state[_PAGE] = title
        for c in state or ():
            st.session_state.pop(c.key, None)
    hidden, unknown = _teaching_link(state)
    teacher = _teacher_toggle(bool(st.session_state.get(_HIDE)), bool(state and state.hideable))
    st.session_state[_FRAME] = {
        "state": state,
        "seen": set(),
        "hidden": set(hidden),
        "unknown": unknown,
        "tools": st.sidebar.container() if teacher and state is not None else None,
    }
    st.title(title)
    if intro:
        st.markdown(intro)


def _teaching_link(state: State | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The controls of this page that the session's teacher link hides (and the names it gives
    that are no control of this page). The link's `hide` holds for the whole session: it is
    written back into the URL of every page the reader opens."""
    raw = st.query_params.get_all(HIDE_PARAM)
    if raw:
        st.session_state[_HIDE] = ",".join(raw)
    elif st.session_state.get(_HIDE):
        st.query_params[HIDE_PARAM] = st.session_state[_HIDE]
    if state is None:
        return (), ()
    return hidden_keys(st.session_state.get(_HIDE, ""), state.hideable)


def _teacher_toggle(linked: bool, offered: bool) -> bool:
    """Teacher tools: opened by `?teacher=1` or the sidebar toggle (on pages with controls a link
    may hide), which a student who came by a teacher link (one with `hide`) does not see."""
    asked = teacher_flag(st.query_params.get_all(TEACHER_PARAM))
    if asked is not None:
        st.session_state[_TEACHER] = asked
    on = bool(st.session_state.get(_TEACHER, False))
    if offered and (on or not linked):
        st.sidebar.toggle(
            "Teacher tools",
            value=on,
            key="_teacher_tools",
            on_change=_flip_teacher,
            help="Make a link that opens this page at its current settings, with chosen "
            "controls hidden from the students who follow it.",
        )
    return on


def _flip_teacher() -> None:
    st.session_state[_TEACHER] = bool(st.session_state.get("_teacher_tools"))
    if not st.session_state[_TEACHER] and TEACHER_PARAM in st.query_params:
        del st.query_params[TEACHER_PARAM]


def _frame() -> dict:
    return st.session_state.get(_FRAME) or {"state": None, "seen": set(), "hidden": set(), "unknown": (), "tools": None}


# --------------------------------------------------------------------------- controls


def hidden(key: str) -> bool:
    """Whether the session's teacher link hides this control of the page."""
    return key in _frame()["hidden"]


def peek(control: Control, **changes) -> Any:
    """The value `control` will have in this run, before it is drawn (for what depends on it)."""
    return _seed(control.with_(**changes))


def _seed(c: Control, forced: Any = _UNSET) -> Any:
    """The control's value this run: the widget's own while the reader stays on the page, else
    the URL's (when valid), else the default. Hidden controls take the URL's or the default."""
    ss = st.session_state
    if hidden(c.key):
        parsed = c.parse(st.query_params.get_all(c.key))
        return c.default if parsed is MISSING else parsed
    if forced is not _UNSET:
        ss[c.key] = forced
    elif c.key not in ss or not c.valid(ss[c.key]):
        parsed = c.parse(st.query_params.get_all(c.key))
        ss[c.key] = c.default if parsed is MISSING else parsed
    return ss[c.key]


def _write_url(c: Control, value: Any) -> None:
    """The URL holds every control off its default, as short keys; defaults are left out."""
    want = [] if c.is_default(value) else c.serialize(value)
    if st.query_params.get_all(c.key) == want:
        return
    if want:
        st.query_params[c.key] = want if len(want) > 1 else want[0]
    elif c.key in st.query_params:
        del st.query_params[c.key]


def control(c: Control, where=None, *, value: Any = _UNSET, **changes) -> Any:
    """Draw one control of the page's table (in `where`, default the page) and return its value.

    `changes` are Control fields given at render time (options, labels, default, range that
    depend on the session) and widget arguments (disabled, on_change, args, captions,
    horizontal); `value` forces the value (a locked prediction)."""
    widget = {k: changes.pop(k) for k in _WIDGET_ARGS if k in changes}
    c = c.with_(**changes)
    current = _seed(c, value)
    _frame()["seen"].add(c.key)
    if hidden(c.key):
        _write_url(c, current)
        return current
    result = _widget(where if where is not None else st, c, current, widget)
    _write_url(c, result)
    return result


def world_choice(c: Control, experiment: str) -> tuple[str, dict | None]:
    """An experiment page's World selector: the synthetic world, and the Data page's file when it
    can feed `experiment` ('exp1', 'exp2'). Returns (the choice, the file's record or None).

    The file comes from the URL when the URL names one (a shared or teacher link: its paths are
    read only inside the data roots, as the Data page reads them), else from the session (the
    Data page's "Use in"). While the file is the world, the URL carries it (not an upload: no
    link carries its bytes), and so does a teacher link made on the page."""
    params = {key: st.query_params.get_all(key) for key in dv.RECORD_PARAMS.values() if key in st.query_params}
    real = st.session_state.get("real_world")
    refused = None
    ours = {key: value if isinstance(value, list) else [value] for key, value in dv.record_params(real).items()}
    if params and params != ours:  # a link to another file than the session's (which the Data page checked)
        try:
            linked = dv.record_from_params(params)
        except CausalPrefError as error:
            linked, refused = None, str(error)
        if linked is not None and not dv.same_record(linked, real):
            real = st.session_state["real_world"] = linked
    data_label = dv.world_label(real, experiment)
    choice = control(
        c,
        options=(SYNTHETIC, DATA_WORLD) if data_label else (SYNTHETIC,),
        labels={**WORLD_LABELS, DATA_WORLD: data_label or WORLD_LABELS[DATA_WORLD]},
    )
    carried = dv.record_params(real) if choice == DATA_WORLD and data_label else {}
    for key in dv.RECORD_PARAMS.values():
        if key in carried:
            want = carried[key] if isinstance(carried[key], list) else [carried[key]]
            if st.query_params.get_all(key) != want:
                st.query_params[key] = carried[key]
        elif key in st.query_params:
            del st.query_params[key]
    _frame()["carried"] = tuple(carried)
    if refused:
        st.error(visitor_text(refused))
    return choice, real if data_label else None


def row(state: State, widths: dict[str, float], **changes: dict) -> dict[str, Any]:
    """Draw the controls `widths` names side by side (key -> relative width); hidden ones take
    no column, so a teacher link leaves no hole. `changes[key]` go to `control`. Returns
    key -> value for every named control, hidden or not."""
    shown = [key for key in widths if not hidden(key)]
    columns = dict(zip(shown, st.columns([widths[key] for key in shown]))) if shown else {}
    return {key: control(state[key], columns.get(key), **changes.get(key, {})) for key in widths}


def _widget(where, c: Control, current: Any, extra: dict) -> Any:
    common = {"key": c.key, "help": c.help, **extra}
    if c.kind == "slider":
        lo, hi, step = c.range
        return where.slider(c.label, min_value=lo, max_value=hi, step=step, format=c.format, **common)
    if c.kind == "number":
        lo, hi, step = c.range
        return where.number_input(c.label, min_value=lo, max_value=hi, step=step, format=c.format, **common)
    if c.kind == "select_slider":
        return where.select_slider(c.label, options=list(c.options), format_func=c.label_of, **common)
    if c.kind == "selectbox":
        index = {"index": None} if current is None else {}
        return where.selectbox(c.label, list(c.options), format_func=c.label_of, **index, **common)
    if c.kind == "radio":
        index = {"index": None} if current is None else {}
        return where.radio(c.label, list(c.options), format_func=c.label_of, **index, **common)
    if c.kind == "multiselect":
        return where.multiselect(c.label, list(c.options), format_func=c.label_of, **common)
    if c.kind == "toggle":
        return where.toggle(c.label, **common)
    return where.text_input(c.label, **common)


# --------------------------------------------------------------------------- links between pages


def _with_hide(params: dict) -> dict:
    if st.session_state.get(_HIDE) and HIDE_PARAM not in params:
        params[HIDE_PARAM] = st.session_state[_HIDE]
    return params


def page_link(key: str, label: str, params: dict | None = None, **kwargs) -> None:
    """st.page_link to the page with this key (causalpref.ui.pages), its settings as short keys;
    a teacher link's `hide` goes along."""
    st.page_link(pages.file_of(key), label=label, query_params=_with_hide(canonical_params(key, params)), **kwargs)


def switch_page(key: str, params: dict | None = None) -> None:
    st.switch_page(pages.file_of(key), query_params=_with_hide(canonical_params(key, params)))


# --------------------------------------------------------------------------- the page body


def guard(render) -> None:
    """Run a page body; any error becomes a plain st.error, never a traceback on the page.
    A body that ran through also leaves the URL holding exactly the controls it showed, and
    fills in the teacher tools."""
    try:
        render()
    except CausalPrefError as error:
        st.error(visitor_text(error))
        return
    except Exception as error:  # noqa: BLE001 - the page must stay readable whatever happens
        log.exception("page failed")
        st.error(
            f"Something went wrong ({type(error).__name__}). The details are in the "
            "server log; please report it with the page's URL."
        )
        return
    _forget_unshown()
    _ignored_params()
    _teacher_tools()


def _ignored_params() -> None:
    """A link's parameters that are no setting of this page are left alone and named, as text."""
    frame = _frame()
    known = {HIDE_PARAM, TEACHER_PARAM, *dv.RECORD_PARAMS.values(), *frame.get("carried", ())}
    known.update(frame["state"].keys() if frame["state"] is not None else ())
    ignored = [key for key in st.query_params.keys() if key not in known]
    if ignored:
        st.caption(f"Ignored in the link (no setting of this page): {visitor_text(', '.join(ignored))}.")


def _forget_unshown() -> None:
    """A control the page did not draw this time (scale on the objectives world) leaves the URL."""
    frame = _frame()
    if frame["state"] is None:
        return
    for c in frame["state"]:
        if c.key not in frame["seen"] and c.key in st.query_params:
            del st.query_params[c.key]


def _teacher_tools() -> None:
    frame = _frame()
    state, box = frame["state"], frame["tools"]
    if box is None or not state.hideable:
        return
    with box.expander("Make a teaching link", expanded=True):
        if frame["hidden"]:
            st.caption(
                "Hidden here by the link you opened: "
                + ", ".join(state[k].short for k in state.keys() if k in frame["hidden"])
                + "."
            )
        if frame["unknown"]:
            st.caption(
                f"The link asks to hide {visitor_text(', '.join(frame['unknown']))}, which this page does not have; "
                f"its controls are {', '.join(state.hideable)}."
            )
        pick = st.multiselect(
            "Controls to hide from the students",
            list(state.hideable),
            default=[k for k in state.hideable if k in frame["hidden"]],
            format_func=state.hideable.get,
            key="teacher_hide",
        )
        keys = (*state.keys(), *frame.get("carried", ()))  # the controls, and the data file a page carries
        settings = {k: st.query_params.get_all(k) for k in keys if k in st.query_params}
        st.code(teacher_link(st.context.url or "", settings, pick), language=None, wrap_lines=True)
        st.caption(
            "The link opens this page at its current settings (settings at their default are left "
            "out). Students who follow it do not see this maker, and the hidden controls stay "
            "hidden on every page they open from it."
        )


def sweep(kind: str, spec, what: str):
    """The sweep of `spec` (see `sweeps`), or None while it is not available."""
    found = sweeps([(kind, spec, what)], what)
    return None if found is None else found[0]


def sweeps(jobs, what: str, prepare=None):
    """The sweeps of `jobs` [(kind, spec, what)]: from this session, from the disk cache, or
    trained now, all under one progress bar with elapsed time, an estimate and a Stop button.
    `prepare()` computes what the page derives from them (cached by its own means); it runs
    under the same bar after training, so that moving a control later only reads.
    Returns them in order, or None while any is not available (training, stopped, failed)."""
    memo = st.session_state.setdefault("_sweeps", {})
    cache = ResultCache()
    keys = [spec_key(kind, spec) for kind, spec, _ in jobs]
    for key, (kind, spec, _) in zip(keys, jobs):
        if key not in memo:
            found = _load(kind, spec, cache)
            if found is not None:
                memo[key] = found
    missing = [(key, job) for key, job in zip(keys, jobs) if key not in memo]
    if missing:
        _train(missing, what, cache, memo, prepare)
        return None
    if prepare is not None:
        prepare()  # after a server restart: from the disk cache
    done = st.session_state.pop(_TRAINED, None)
    if done:
        st.toast(done)
    return [memo[key] for key in keys]


def training_estimate(jobs) -> str | None:
    """'54 models, about 9 s on this machine' for the jobs not yet trained; None if all are."""
    cache = ResultCache()
    missing = [(kind, spec) for kind, spec, _ in jobs if _load(kind, spec, cache) is None]
    if not missing:
        return None
    seconds, models = _plan(missing, cache)
    return f"{sum(models)} models, {seconds_text(sum(seconds))} on this machine"


def _plan(missing, cache: ResultCache) -> tuple[list[float], list[int]]:
    speeds = SpeedLog(cache.root)
    sized = [_sizing(kind, spec) for kind, spec in missing]
    seconds = [
        factor * estimate_seconds(plain, base, speeds, resolve_device(base.device).type)
        for plain, base, _, factor in sized
    ]
    return seconds, [models for _, _, models, _ in sized]


# An intervention sweep (causalpref.interventions) goes through the same bar, cache and Stop
# button as the plain sweeps: its work is a multiple of its base spec's, its speed measured and
# logged apart (it stacks more models at once than a plain sweep).
INTERVENTIONS = "interventions"


def _load(kind: str, spec, cache: ResultCache):
    if kind == INTERVENTIONS:
        return load_interventions(spec, cache)
    return load_cached(kind, spec, cache)


def _run(kind: str, spec, cache: ResultCache, progress):
    if kind == INTERVENTIONS:
        return run_interventions_cached(spec, cache, progress=progress)
    return run_cached(kind, spec, cache, progress=progress)


def _sizing(kind: str, spec) -> tuple[str, Any, int, float]:
    """(the name its speed is logged under, the plain spec its work is counted on, models
    trained, work as a multiple of that spec's)."""
    if kind == INTERVENTIONS:
        models, factor = training_size(spec)
        return f"{INTERVENTIONS}-{spec.experiment}", spec.base, models, factor
    return kind, spec, model_count(spec), 1.0


def _train(missing, what: str, cache: ResultCache, memo: dict, prepare=None) -> None:
    """Train the missing sweeps under one bar; every way it ends leaves a resolved state: done
    (a rerun shows the results and a note of the time taken), stopped or failed (a notice with
    the reason and a Train again button, the bar and the Stop button gone)."""
    group = training_group([key for key, _ in missing])
    ended = st.session_state.setdefault(ENDED, {})
    if group in ended:
        notice = st.empty()
        with notice.container():
            reason = ended[group]
            if reason is None:
                st.info(f"Training of {what} was stopped.")
            else:
                st.error(visitor_text(f"Training of {what} failed: {reason}"))
            again = st.button("Train again", key=f"train-{group}")
        if not again:
            return
        notice.empty()  # the old notice must not stay beside the new bar
        del ended[group]
    slot = st.empty()  # the Stop button and the bar go away however training ends
    with slot.container():
        st.button("Stop training", key=f"stop-{group}", on_click=_stop, args=(group,))
        bar = st.progress(0.0, text=f"Training {what}: estimating the time it takes on this machine…")
    try:
        seconds, models = _plan([job[:2] for _, job in missing], cache)
        tracker = Tracker(sum(seconds), speed=1.0)  # units: seconds as estimated before the start
        bar.progress(0.0, text=f"Training {sum(models)} models for {what}: {tracker.text()}")
        speeds, offset = SpeedLog(cache.root), 0.0
        for (key, (kind, spec, part)), estimate in zip(missing, seconds):

            def progress(done, total, message, offset=offset, estimate=estimate, part=part):
                tracker.update(offset + estimate * done / max(total, 1))
                bar.progress(tracker.fraction, text=f"{part} — {message} · {tracker.text()}")

            started = time.perf_counter()
            memo[key], _ = _run(kind, spec, cache, progress)
            plain, base, _, factor = _sizing(kind, spec)
            speeds.record(
                resolve_device(base.device).type,
                plain,
                base.models,
                factor * work_units(base),
                time.perf_counter() - started,
            )
            offset += estimate
        if prepare is not None:
            bar.progress(1.0, text=f"Preparing the views of {what} · {tracker.text()}")
            prepare()
    except Exception as error:  # noqa: BLE001 - shown as the failed state, with its reason
        if not isinstance(error, CausalPrefError):
            log.exception("training failed")
        ended[group] = str(error) if isinstance(error, CausalPrefError) else f"{type(error).__name__}: {error}"
        slot.empty()
        st.rerun()
    finally:
        slot.empty()
    st.session_state[_TRAINED] = (
        f"Trained {sum(models)} models in {clock_text(tracker.elapsed())} "
        f"(estimated beforehand: {seconds_text(tracker.estimate())})."
    )
    st.rerun()  # redraw without the progress bar and the Stop button


def training_group(keys) -> str:
    """The name a page's training is known by in the session (its Stop button, its end state)."""
    return hashlib.sha256("".join(keys).encode()).hexdigest()[:12]


def _stop(group: str) -> None:
    st.session_state.setdefault(ENDED, {})[group] = None


def download_csv(frame: pd.DataFrame, file_name: str, label: str = "Download results (CSV)") -> None:
    st.download_button(
        label, frame.to_csv(index=False), file_name=file_name, mime="text/csv", key=f"download-{file_name}"
    )


def metric_row(metrics, per_row: int | None = None) -> None:
    """Metric cards side by side (`per_row` to a row), each with its one-line reading below;
    `metrics` are the views' cards (label, value, delta, delta_color, detail, delta_description,
    reading)."""
    per_row = per_row or len(metrics)
    cols = [col for start in range(0, len(metrics), per_row) for col in st.columns(per_row)]
    for col, m in zip(cols, metrics):
        col.metric(
            m.label, m.value, m.delta, m.delta_color, help=m.detail or None, delta_description=m.delta_description
        )
        col.caption(m.reading)


def reading(text: str) -> None:
    """A one-line plain-language reading under a number or a figure."""
    st.caption(text)


def sanity_checks(kind: str, spec, rho: float) -> None:
    """The three sanity checks at `rho`, on demand (they train three more sets of models), with
    their expected outcome, verdict and a plain reading each."""
    st.subheader("Sanity checks: is this accuracy real?")
    key = f"{spec_key(kind, spec)}:{rho!r}"
    memo = st.session_state.setdefault("_sanity", {})
    if key not in memo:
        st.caption(
            "Three controls, each with a known expected outcome: train on shuffled labels (placebo: "
            "expect chance), add a random feature (expect no change), train on half the pairs (expect a "
            "small drop). Each trains the page's models again at this ρ."
        )
        if not st.button(f"Run the sanity checks at ρ = {rho:g}", key=f"sanity-{key[:12]}-{rho:g}"):
            return
        bar = st.progress(0.0, text="Sanity checks…")
        memo[key] = run_sanity_checks(
            kind,
            spec,
            rho,
            ResultCache(),
            progress=lambda done, total, msg: bar.progress(min(done / total, 1.0), text=f"Sanity checks: {msg}"),
        )
        bar.empty()
    report = memo[key]
    shown = report.table[
        ["check", "model", "split", "accuracy", "sd", "difference", "tolerance", "expected", "verdict"]
    ].round(1)
    st.dataframe(shown, hide_index=True)
    for check in CHECK_ORDER:
        reading(report.readings[check])
