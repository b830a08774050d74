"""Correlation shift (Experiment 1): slide the training correlation, watch OOD accuracy fall."""

from dataclasses import replace
from pathlib import Path

import streamlit as st

import appkit
from causalpref.errors import CausalPrefError
from causalpref.run.specs import Exp1Spec
from causalpref.ui.safe import visitor_text
from causalpref.ui.state import CORRELATION as S
from causalpref.ui.state import REAL_RHOS, SYNTHETIC
from causalpref.ui.views import data as dv
from causalpref.ui.views.correlation import REMEDY, correlation_view, merged, page_spec, reading_of_curve
from causalpref.ui.views.reliance import reliance_view

appkit.page(
    "Correlation shift",
    "People reward 0.25·truthfulness (d1) + 0.75·instruction-following (d2); a reward model learns "
    "from pairs whose two differences correlate at ρ. Tested on pairs like its training pairs (ID) "
    "it looks fine; where the two disagree (OOD) it fails more the higher ρ was. Every ρ is "
    "trained once and cached, so the slider moves instantly.",
    S,
)


def render():
    world, real = appkit.world_choice(S["world"], "exp1")
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
    """(Base sweep, reweighted sweep or None), or None while they are being trained, stopped
    or failed; both train under one progress bar."""
    jobs = [("exp1", spec, f"Base ({size})")]
    if with_remedy:
        jobs.append(("exp1", replace(spec, weighting="balanced"), f"the reweighted models ({size})"))
    found = appkit.sweeps(jobs, f"the Experiment-1 sweep ({size})")
    if found is None:
        return None
    return found[0], (found[1] if with_remedy else None)


def render_real(real):
    """The Data page's file as the world: the preference rule first (factor data: which factor
    decides, never assumed; labelled pairs: the factor measured from the text), then the sizes
    and ρ the file can supply, every draw checked before anything is embedded or trained."""
    base = Exp1Spec()
    sizes, rhos, seeds = dv.page_settings(dv.CORRELATION_PAGE, real["kind"])
    if dv.has_scores(real["kind"]):
        fit_world = dv.world_of(real)
        names = dv.factor_names(fit_world)
        prefer = appkit.control(
            S["prefer"],
            labels={
                dv.PREFER_FIRST: f"{names[0]} decides ({names[1]} is spurious)",
                dv.PREFER_SECOND: f"{names[1]} decides ({names[0]} is spurious)",
                dv.PREFER_WEIGHTS: "a weighting of the two",
            },
            horizontal=True,
        )
        weight = None
        if prefer == dv.PREFER_WEIGHTS:
            weight = appkit.control(S["a_real"], label=f"Weight a of {names[0]} (1 − a on {names[1]})")
        rule = dv.preference_rule(prefer, names, weight) if prefer else None
    else:
        measure = appkit.control(S["measure"])
        st.caption(dv.measure_caption(measure))
        fit_world = dv.world_of(real, measure=measure)
        rule = {"measure": measure}
    try:
        fit = dv.exp1_fit(fit_world, sizes, rhos, seeds)
    except CausalPrefError as error:
        fit, failed = None, str(error)
    grid = fit.rhos if fit is not None else REAL_RHOS
    rho = appkit.control(S["rho_real"], options=grid, default=0.0 if 0.0 in grid else grid[0])
    with_remedy = appkit.control(S["remedy"])
    if rule is None:
        st.info(
            "Say which response is truly preferred on this data: choose the true preference above "
            "(nothing trains until then)."
        )
        return
    if fit is None:
        st.error(visitor_text(failed))
        return
    for note in fit.notes:
        st.caption(visitor_text(note))
    world = dv.world_of(real, **rule)
    spec = replace(base, world=world, rhos=fit.rhos, sizes=fit.sizes)
    dv.precheck("exp1", spec)  # every draw, before embedding and training
    st.caption(visitor_text(f"On {real.get('name')}: {world.rule}."))
    sweeps = train(spec, with_remedy, f"{real.get('name')}, {len(fit.rhos)} ρ × {len(spec.seeds)} seeds")
    if sweeps is None:
        return
    sweep, remedy = sweeps
    view = correlation_view(sweep, rho, spec.world.a, remedy)
    show(sweep, view, rho, f"exp1_{Path(real['path']).stem}_results.csv", remedy, spec)


def show(sweep, view, rho, file_name, remedy=None, spec=None):
    cols = st.columns(4)
    for col, label, number in ((cols[0], "ID accuracy", view.id), (cols[1], "OOD accuracy", view.ood)):
        col.metric(label, f"{number.value:.1f}%", delta=number.change(), help=f"± {number.spread:.1f} over seeds")
        reference = "" if number.paper is None else f" · paper (reference): {number.paper:.1f}%"
        col.caption(f"chance 50%{reference}")
    gap_change = (
        None if view.baseline_gap is None else f"{view.gap - view.baseline_gap:+.1f} vs ρ = {view.id.baseline_rho:g}"
    )
    cols[2].metric("ID − OOD gap", f"{view.gap:.1f} pts", delta=gap_change, delta_color="inverse")
    cols[2].caption("a wider gap is worse")
    cols[3].metric("Implied weight â", f"{view.a_hat:.2f}", help=f"achieved training ρ = {view.achieved_rho:.3f}")
    cols[3].caption(f"true a = {view.a:g}")
    appkit.reading(view.ood.reading)
    if view.remedy is not None:
        show_remedy(view)

    st.plotly_chart(view.curves, key="curves")
    appkit.reading(reading_of_curve(sweep.results))

    both = merged(sweep, remedy)
    reliance = reliance_view(both, rho, ("base", REMEDY), "OOD test pairs (the factors disagree)")
    boundary, qualities, training, numbers, checks = st.tabs(
        ["Decision boundary", "Which qualities?", "Training curves", "Baselines", "Sanity checks"]
    )
    with boundary:
        if view.boundary is None:
            st.info("The decision-boundary map needs a world that can embed any (d1, d2): only the synthetic one can.")
        else:
            st.plotly_chart(view.boundary, key="boundary")
            appkit.reading(
                "Blue: the model prefers a; red: b. Black: where people are indifferent; orange dashed: the "
                "boundary the model's rewards imply; dotted squares: the pairs where the factors disagree."
            )
    with qualities:
        if reliance is None:
            st.caption("This data names no factors to compare the reward with.")
        else:
            st.plotly_chart(reliance.figure, key="reliance")
            appkit.reading(reliance.reading)
    with training:
        st.plotly_chart(view.training, key="training")
    with numbers:
        st.dataframe(view.baselines, hide_index=True)
        appkit.reading(view.id.reading)
        if view.id.paper is not None:
            st.caption(f"Paper values are references from {view.paper_source}, not targets.")
    with checks:
        if spec is not None:
            appkit.sanity_checks("exp1", spec, rho)
    appkit.download_csv(both.results, file_name)


def show_remedy(view):
    remedy = view.remedy
    cols = st.columns(3)
    cols[0].metric(
        "Reweighted OOD accuracy",
        f"{remedy.ood.value:.1f}%",
        delta=f"{remedy.ood_gain:+.1f} vs Base",
        help=f"± {remedy.ood.spread:.1f} over seeds",
    )
    cols[0].caption(f"Base {view.ood.value:.1f}% · chance 50%")
    cols[1].metric(
        "Reweighted ID accuracy",
        f"{remedy.id.value:.1f}%",
        delta=f"{remedy.id.value - view.id.value:+.1f} vs Base",
    )
    cols[1].caption(f"Base {view.id.value:.1f}%")
    if remedy.no_op:
        cols[2].metric("Reweighting", "nothing to reweight")
        cols[2].caption("no training pair where the factors disagree")
    else:
        cols[2].metric("Effective data kept", f"{100 * remedy.ess_share:.1f}%")
        cols[2].caption("what the weights leave of the training set")
    appkit.reading(remedy.reading)


appkit.guard(render)
