"""User objectives (Experiment 2): confounding of the prompt type and the labeller's objective.

A thin description of the UI; every number, reading and figure comes from
causalpref.ui.views.objectives.
"""

from dataclasses import replace

import streamlit as st

import appkit
from causalpref.run import propensity
from causalpref.run.cache import ResultCache
from causalpref.run.cached import load_cached
from causalpref.run.sweep import merge_sweeps
from causalpref.ui.safe import visitor_text
from causalpref.ui.state import OBJECTIVES as S
from causalpref.ui.state import SYNTHETIC
from causalpref.ui.views import data as dv
from causalpref.ui.views import objectives as ov
from causalpref.ui.views.objective_overlap import EPSILON, objective_overlap_view
from causalpref.ui.views.reliance import reliance_view

appkit.page(
    "User objectives",
    "Helpfulness judges (c = 0) tend to ask helpful questions, harmlessness judges (c = 1) red-team "
    "prompts. When the prompt type t matches c at a rate ρ near 1, a reward model can read t instead "
    "of c and fail on *inconsistent* pairs (t ≠ c). Every ρ is trained once and cached.",
    S,
)


def on_world(spec, real):
    """The spec on the synthetic world, or on the Data page's file with the sizes that file can
    supply (every draw checked before anything is embedded or trained)."""
    if real is None:
        return spec
    world = dv.world_of(real)
    sizes, _, _ = dv.page_settings(dv.OBJECTIVES_PAGE, real["kind"])
    fit = dv.exp2_fit(world, sizes, spec.rhos, spec.seeds)
    spec = replace(spec, world=world, sizes=fit.sizes)
    dv.precheck("exp2", spec)
    return spec


def fit_notes(spec, real) -> None:
    """Why the file's splits are smaller than the page's usual ones, when they are."""
    if real is None:
        return
    st.caption(visitor_text(f"On {real.get('name')}: {spec.world.rule}."))
    sizes, _, _ = dv.page_settings(dv.OBJECTIVES_PAGE, real["kind"])
    for note in dv.exp2_fit(spec.world, sizes, spec.rhos, spec.seeds).notes:
        st.caption(visitor_text(note))


def render() -> None:
    choice, real = appkit.world_choice(S["world"], "exp2")
    # the registries' variants at render time: an architecture registered after import appears too
    arch = {"options": ov.architectures(), "default": list(ov.DEFAULT_ARCHITECTURES)}
    models = appkit.peek(S["arch"], **arch)
    knobs = appkit.row(S, {"rho": 1, "arch": 1, "lam": 1}, arch=arch, lam={"disabled": not ov.uses_lambda(models)})
    rho, models, lam = knobs["rho"], knobs["arch"], knobs["lam"]
    if not models:
        st.info("Choose at least one architecture to compare.")
        return

    real = None if choice == SYNTHETIC else real
    specs = [  # one sweep per architecture: adding one trains only it
        on_world(ov.objectives_spec(lam, model), real) for model in ov.chosen_models(models)
    ]
    fit_notes(specs[-1], real)
    found = appkit.sweeps(
        [("exp2", spec, ov.spec_description([spec])) for spec in specs],
        ov.spec_description(specs),
        prepare=lambda: propensity.prepare(specs[-1]),  # the overlap tab of every ρ
    )
    if found is None:
        return
    merged = merge_sweeps(found)
    view = ov.objectives_view(merged, rho, models, lam=lam)

    st.caption(
        f"Baselines at ρ = {view.rho:g} — inconsistent pairs: {view.baselines.text('inconsistent')}; "
        f"consistent pairs: {view.baselines.text('consistent')}."
    )
    for column, model in zip(st.columns(len(view.per_model)), view.per_model):
        with column:
            st.markdown(f"**:{ov.markdown_colour(model.model)}[{model.label}]**")
            for name, split in (
                ("Inconsistent pairs (t ≠ c)", "inconsistent"),
                ("Consistent pairs (t = c)", "consistent"),
            ):
                number = getattr(model, split)
                spread = f"± {number.spread:.1f} over {number.seeds} seeds" if number.spread is not None else None
                st.metric(name, number.text(), delta=number.change(), help=spread)
                if number.paper_text():
                    st.caption(number.paper_text())
    appkit.reading(view.reading)
    if view.remedy_reading:
        appkit.reading(view.remedy_reading)

    st.plotly_chart(view.accuracy_figure, key="accuracy-vs-rho")
    appkit.reading(view.accuracy_reading)

    reliance = reliance_view(merged, rho, view.models, "inconsistent test pairs")
    tabs = st.tabs(
        [
            "Per model",
            "Prompt gives away c?",
            "Train vs test",
            "Adversary",
            "Latent z_hat",
            "Which qualities?",
            "Sanity checks",
        ]
    )
    with tabs[0]:
        for model in view.per_model:
            appkit.reading(model.reading)
        if view.cell_table is not None and not view.cell_table.empty:
            st.dataframe(view.cell_table, hide_index=True)
            appkit.reading(
                "Test accuracy [%] in each (prompt type t, objective c) cell: the pooled inconsistent number "
                "averages t=0, c=1 and t=1, c=0, where a model can be right on one and wrong on the other."
            )
    with tabs[1]:
        show_objective_overlap(specs[-1], rho)
    with tabs[2]:
        figure, table = st.columns([3, 2])
        figure.plotly_chart(view.overfitting_figure, key="overfitting")
        table.dataframe(view.overfitting_table, hide_index=True)
        appkit.reading(view.overfitting_reading)
    with tabs[3]:
        show_adversary(view)
        show_lambda_curve(specs, view.models, rho)
    with tabs[4]:
        if view.latent_figure is not None:
            st.plotly_chart(view.latent_figure, key="latent")
            st.dataframe(view.latent_table, hide_index=True)
        appkit.reading(view.latent_reading)
    with tabs[5]:
        if reliance is None:
            st.caption("This data names no factors to compare the reward with.")
        else:
            st.plotly_chart(reliance.figure, key="reliance")
            appkit.reading(reliance.reading)
    with tabs[6]:
        appkit.sanity_checks("exp2", on_world(ov.sanity_spec(lam, models), real), rho)

    lam_part = f"_lambda{lam:g}" if ov.uses_lambda(view.models) else ""
    appkit.download_csv(view.results, f"exp2_results{lam_part}.csv")


def show_adversary(view) -> None:
    """Does z_hat tell the objective? The discriminator's accuracy against chance and ρ."""
    if view.discriminator is None:
        st.caption("The discriminator belongs to the adversarial model; choose it above to see it.")
        return
    d = view.discriminator
    st.metric(
        "Discriminator reads c from z_hat",
        f"{d.val:.1f} %",
        help=f"validation pairs; ± {d.spread:.1f} over seeds; training pairs {d.train:.1f} %",
    )
    st.caption(f"chance 50 % · reading the prompt type: ρ = {100 * d.rho:.0f} %")
    appkit.reading(d.reading)
    if view.game is not None:  # the game through training, at this ρ and λ
        st.plotly_chart(view.game.figure, key="game")
        appkit.reading(view.game.reading)


def show_lambda_curve(specs, models, rho) -> None:
    """The adversary's λ curve over the λ values already trained (read from the cache, never trained here)."""
    model, by_lambda = ov.lambda_curve_specs(specs, models)
    if model is None:
        return
    cache = ResultCache()
    found = {lam: load_cached("exp2", spec, cache) for lam, spec in by_lambda.items()}
    curve = ov.lambda_curve_view({lam: s for lam, s in found.items() if s is not None}, rho, model)
    if curve is None:
        st.caption("The λ curve appears here once two values of λ are trained: move the λ slider.")
        return
    st.plotly_chart(curve.figure, key="lambda-curve")
    st.dataframe(curve.table, hide_index=True)
    appkit.reading(curve.reading)


def show_objective_overlap(spec, rho) -> None:
    """Before any model: how much the prompt gives away the objective in the training set."""
    view = objective_overlap_view(spec, rho)
    cols = st.columns(3)
    cols[0].metric(f"Pairs outside [{EPSILON:g}, {1 - EPSILON:g}]", f"{100 * view.overlap.outside_share:.1f}%")
    cols[0].caption(view.readings["outside"])
    cols[1].metric(
        "c-AUC from the text",
        f"{view.overlap.auc:.3f}",
        help="Fitted on the embedding of the prompt with its first response: what the reward models read.",
    )
    cols[1].caption(view.readings["auc"])
    ess = "undefined" if view.ess_share is None else f"{100 * view.ess_share:.1f}%"
    cols[2].metric("IPW effective sample size", ess)
    cols[2].caption(view.readings["ess"])
    if view.warning:
        st.warning(view.warning)
    st.plotly_chart(view.figure, key="propensity")
    st.caption(
        f"Measured before any model, on the training pairs of seed 0 at ρ = {rho:g}: a cross-fitted "
        "logistic regression of the objective c on the embedding of the prompt with its first response."
    )


appkit.guard(render)
