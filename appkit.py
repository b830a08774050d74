"""Streamlit glue shared by the pages: page frame, error boundary, cached sweeps, downloads.

The engine (causalpref/) never imports streamlit; this module is the only place where the
two meet besides the pages themselves, which stay thin descriptions of their UI.
"""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from causalpref.run.cache import ResultCache, spec_key
from causalpref.device import describe_device, resolve_device
from causalpref.errors import CausalPrefError
from causalpref.ui.links import HIDE_PARAM, hidden_keys, hiding_css, teacher_link
from causalpref.run.cached import load_cached, run_cached
from causalpref.run.sanity import CHECK_ORDER, run_sanity_checks

log = logging.getLogger("causalpref.app")


def page(title: str, intro: str, controls: dict[str, str] | None = None) -> None:
    """The frame every page shares: wide layout, title, one-paragraph intro, device badge.

    `controls` (widget key -> label) are the page's URL-bound controls: a teacher link's
    `hide` parameter may hide any of them, and the sidebar offers to make such a link."""
    st.set_page_config(page_title=f"causalpref · {title}", layout="wide")
    st.sidebar.caption(f"Compute device: {describe_device(resolve_device('auto'))}")
    st.title(title)
    st.markdown(intro)
    if controls:
        _teacher_mode(controls)


def _teacher_mode(controls: dict[str, str]) -> None:
    """Hide the controls a teacher link names, say so, and offer the link maker."""
    hidden, unknown = hidden_keys(st.query_params.get_all(HIDE_PARAM), controls)
    if hidden:
        st.html(hiding_css(hidden))
        fixed = ", ".join(controls[k] for k in hidden)
        st.caption(f"This link fixes some settings so that everyone sees the same picture: {fixed}. "
                   "Open the page without the `hide` parameter to change them.")
    if unknown:
        st.caption(f"The link asks to hide {', '.join(unknown)}, which this page does not have; "
                   f"its controls are {', '.join(controls)}.")
    with st.sidebar.expander("Make a teaching link"):
        pick = st.multiselect("Controls to hide from the reader", list(controls), default=list(hidden),
                              format_func=controls.get, key="teacher_hide")
        settings = {k: st.query_params.get_all(k) for k in st.query_params if k != HIDE_PARAM}
        st.code(teacher_link(st.context.url or "", settings, pick), language=None, wrap_lines=True)
        st.caption("The link opens this page at its current settings; settings left at their default "
                   "are not written into it.")


def guard(render) -> None:
    """Run a page body; any error becomes a plain st.error, never a traceback on the page."""
    try:
        render()
    except CausalPrefError as error:
        st.error(str(error))
    except Exception as error:  # noqa: BLE001 - the page must stay readable whatever happens
        log.exception("page failed")
        st.error(f"Something went wrong ({type(error).__name__}: {error}). The details are in the "
                 "server log; please report it with the page's URL.")


def sweep(kind: str, spec, what: str):
    """The sweep of `spec`: from this session, from the disk cache, or trained now with a
    progress bar and a Stop button. Returns None while it is not available (stopped)."""
    key = spec_key(kind, spec)
    memo = st.session_state.setdefault("_sweeps", {})
    if key in memo:
        return memo[key]
    cache = ResultCache()
    found = load_cached(kind, spec, cache)
    if found is None:
        stopped = st.session_state.setdefault("_stopped", set())
        if key in stopped:
            st.info(f"Training of {what} was stopped.")
            if not st.button("Train again", key=f"train-{key[:12]}"):
                return None
            stopped.discard(key)
        st.button("Stop training", key=f"stop-{key[:12]}", on_click=stopped.add, args=(key,))
        bar = st.progress(0.0, text=f"Training {what}…")
        found, _ = run_cached(kind, spec, cache,
                              progress=lambda done, total, msg: bar.progress(done / total, text=f"{what}: {msg}"))
        bar.empty()
        memo[key] = found
        st.rerun()      # redraw without the progress bar and the Stop button
    memo[key] = found
    return found


def download_csv(frame: pd.DataFrame, file_name: str, label: str = "Download results (CSV)") -> None:
    st.download_button(label, frame.to_csv(index=False), file_name=file_name, mime="text/csv",
                       key=f"download-{file_name}")


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
        st.caption("Three controls, each with a known expected outcome: train on shuffled labels (placebo: "
                   "expect chance), add a random feature (expect no change), train on half the pairs (expect a "
                   "small drop). Each trains the page's models again at this ρ.")
        if not st.button(f"Run the sanity checks at ρ = {rho:g}", key=f"sanity-{key[:12]}-{rho:g}"):
            return
        bar = st.progress(0.0, text="Sanity checks…")
        memo[key] = run_sanity_checks(kind, spec, rho, ResultCache(),
                                      progress=lambda done, total, msg: bar.progress(min(done / total, 1.0),
                                                                                     text=f"Sanity checks: {msg}"))
        bar.empty()
    report = memo[key]
    shown = report.table[["check", "model", "split", "accuracy", "sd", "difference", "tolerance", "expected",
                          "verdict"]].round(1)
    st.dataframe(shown, hide_index=True)
    for check in CHECK_ORDER:
        reading(report.readings[check])
