"""Correlation shift (Experiment 1): slide the training correlation, watch OOD accuracy fall."""

from dataclasses import replace
from pathlib import Path

import streamlit as st

import appkit
from causalpref.run.specs import Exp1Spec
from causalpref.ui.state import CORRELATION as S
from causalpref.ui.state import DATA_WORLD, REAL_RHOS, SYNTHETIC, WORLD_LABELS
from causalpref.ui.views import data as dv
from causalpref.ui.views.correlation import REMEDY, correlation_view, merged, page_spec, reading_of_curve
from causalpref.ui.views.reliance import reliance_view

appkit.page(
    "Correlation shift",
    "A reward model is trained on pairs whose two quality differences — truthfulness (d1) and "
    "instruction-following (d2) — correlate at ρ. People reward 0.25·truthfulness + "
    "0.75·instruction-following. Tested on pairs like its training pairs (ID) it looks fine; "
    "tested where the two qualities disagree (OOD) it fails more the higher ρ was. "
    "All 11 values of ρ are trained once (3 seeds, about 3 s on a 2-core CPU) and cached.",
    S,
)


def render():
    real = st.session_state.get("real_world")
    data_label = dv.world_label(real, dv.FACTOR_KINDS)
    world = appkit.control(
        S["world"],
        options=(SYNTHETIC, DATA_WORLD) if data_label else (SYNTHETIC,),
        labels={**WORLD_LABELS, DATA_WORLD: data_label or WORLD_LABELS[DATA_WORLD]},
    )
    if world != SYNTHETIC:
        return render_real(real)
    knobs = appkit.row(S, {"rho": 3, "scale": 1})
    rho, scale = knobs["rho"], knobs["scale"]
    with_remedy = appkit.control(S["remedy"])
    spec = page_spec(scale)
    sweeps = train(spec, with_remedy, "11 ρ × 3 seeds")
    if sweeps is None:
        return
    sweep, remedy = sweeps
    view = correlation_view(sweep, rho, spec.world.a, remedy)
    show(sweep, view, rho, f"exp1_{scale}_results.csv", remedy, spec)


def train(spec, with_remedy: bool, size: str):
    """(Base sweep, reweighted sweep or None), or None while either is not available."""
    sweep = appkit.sweep("exp1", spec, f"the Experiment-1 sweep ({size})")
    remedy = None
    if sweep is not None and with_remedy:
        remedy = appkit.sweep("exp1", replace(spec, weighting="balanced"), f"the reweighted models ({size})")
    if sweep is None or (with_remedy and remedy is None):
        return None
    return sweep, remedy


def render_real(real):
    rho = appkit.control(S["rho_real"])
    with_remedy = appkit.control(S["remedy"])
    spec = replace(Exp1Spec(), world=dv.world_of(real), rhos=REAL_RHOS)
    sweeps = train(spec, with_remedy, f"{real.get('name')}, 4 ρ × 3 seeds")
    if sweeps is None:
        return
    sweep, remedy = sweeps
    view = correlation_view(sweep, rho, spec.world.a, remedy)
    show(sweep, view, rho, f"exp1_{Path(real['path']).stem}_results.csv", remedy, spec)


def show(sweep, view, rho, file_name, remedy=None, spec=None):
    cols = st.columns(4)
    for col, label, number in ((cols[0], "ID accuracy", view.id), (cols[1], "OOD accuracy", view.ood)):
        source = "" if number.paper is None else f"; the paper's value is from {view.paper_source}"
        col.metric(
            label,
            f"{number.value:.1f}%",
            delta=f"{number.value - 50:+.1f} vs chance",
            help=f"± {number.spread:.1f} over seeds{source}",
        )
        reference = "" if number.paper is None else f" · paper (reference): {number.paper:.1f}%"
        col.caption(f"chance 50%{reference}")
    cols[2].metric("ID − OOD gap", f"{view.gap:.1f} pts")
    cols[2].caption("how much worse the model does where the two factors disagree")
    cols[3].metric(f"Implied â (true a = {view.a:g})", f"{view.a_hat:.2f}")
    cols[3].caption(f"achieved training ρ = {view.achieved_rho:.3f}")
    appkit.reading(view.id.reading)
    appkit.reading(view.ood.reading)
    st.dataframe(view.baselines, hide_index=True)
    if view.remedy is not None:
        show_remedy(view)

    st.subheader("Accuracy vs training correlation")
    st.plotly_chart(view.curves, key="curves")
    appkit.reading(reading_of_curve(sweep.results))

    left, right = st.columns(2)
    with left:
        st.subheader("Decision boundary")
        if view.boundary is None:
            st.info(
                "The decision-boundary map needs a world that can embed any (d1, d2) — only the "
                "synthetic world can; real data has just the pairs it has."
            )
        else:
            st.plotly_chart(view.boundary, key="boundary")
            appkit.reading(
                "Blue: the model prefers response a; red: b. The black line is where people "
                "are indifferent; the dashed red line is the boundary the model's rewards imply. "
                "The shaded quadrants hold the pairs where the factors disagree — where a wrong "
                "â costs."
            )
    with right:
        st.subheader("Training curves")
        st.plotly_chart(view.training, key="training")
    both = merged(sweep, remedy)
    reliance = reliance_view(both, rho, ("base", REMEDY), "OOD test pairs (the factors disagree)")
    if reliance is not None:
        st.subheader("Which qualities does the reward follow?")
        st.plotly_chart(reliance.figure, key="reliance")
        appkit.reading(reliance.reading)
    if spec is not None:
        appkit.sanity_checks("exp1", spec, rho)
    appkit.download_csv(both.results, file_name)


def show_remedy(view):
    st.subheader("The reweighting remedy")
    cols = st.columns(3)
    cols[0].metric(
        "Reweighted OOD accuracy",
        f"{view.remedy.ood.value:.1f}%",
        delta=f"{view.remedy.ood_gain:+.1f} vs Base",
        help=f"± {view.remedy.ood.spread:.1f} over seeds",
    )
    cols[0].caption(f"Base: {view.ood.value:.1f}% · chance 50%")
    cols[1].metric(
        "Reweighted ID accuracy",
        f"{view.remedy.id.value:.1f}%",
        delta=f"{view.remedy.id.value - view.id.value:+.1f} vs Base",
    )
    cols[1].caption(f"Base: {view.id.value:.1f}%")
    cols[2].metric("Effective sample size kept", f"{100 * view.remedy.ess_share:.1f}%")
    cols[2].caption("100% = unweighted; the rest is what the weights cost")
    appkit.reading(view.remedy.reading)


appkit.guard(render)
