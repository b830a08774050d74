"""User objectives (Experiment 2): confounding of the prompt type and the labeller's objective.

A thin description of the UI; every number, reading and figure comes from
causalpref.ui.views.objectives.
"""

from dataclasses import replace

import streamlit as st

import appkit
from causalpref.run.specs import sizes_for_data
from causalpref.run.sweep import merge_sweeps
from causalpref.ui.state import DATA_WORLD, SYNTHETIC, WORLD_LABELS
from causalpref.ui.state import OBJECTIVES as S
from causalpref.ui.views import data as dv
from causalpref.ui.views import objectives as ov
from causalpref.ui.views.objective_overlap import EPSILON, objective_overlap_view
from causalpref.ui.views.reliance import reliance_view

appkit.page(
    "User objectives",
    "When users write their own prompts, the objective they judge by (helpfulness c = 0, "
    "harmlessness c = 1) also decides what they ask: helpful questions come with helpfulness, "
    "red-team prompts with harmlessness. At a consistency rate ρ = P(t = c) near 1 a reward "
    "model can read the prompt type t instead of the objective c it is given, and fails on "
    "*inconsistent* pairs (t ≠ c). This page reproduces Experiment 2 of Kobalczyk & van der "
    "Schaar (ICML 2025) on a synthetic world: a Base model ([embedding, c] → MLP), a Multihead "
    "model (one head per objective) and an Adversarial one (Multihead plus a discriminator that "
    "tries to read c from the latent z_hat, through gradient reversal of strength λ). "
    "Any of them can also train with inverse-propensity weights 1/P(c | prompt), the classic "
    'causal-inference remedy ("+ inverse propensity"). '
    "The sweep trains every ρ of the paper's Table 2 with 3 seeds (the app's default), which "
    "takes about 10–15 seconds for all three models on a 2-core CPU; it is then cached on disk, "
    "so moving ρ never retrains — only λ or the architectures do.",
    S,
)


def on_world(spec, real):
    """The spec on the synthetic world, or on the Data page's file with sizes that file can supply."""
    if real is None:
        return spec
    return replace(spec, world=dv.world_of(real), sizes=sizes_for_data("exp2", real["kind"], spec.sizes))


def render() -> None:
    real = st.session_state.get("real_world")
    data_label = dv.world_label(real, dv.OBJECTIVE_KINDS)
    choice = appkit.control(
        S["world"],
        options=(SYNTHETIC, DATA_WORLD) if data_label else (SYNTHETIC,),
        labels={**WORLD_LABELS, DATA_WORLD: data_label or WORLD_LABELS[DATA_WORLD]},
    )
    # the registries' variants at render time: an architecture registered after import appears too
    arch = {"options": ov.architectures(), "default": list(ov.DEFAULT_ARCHITECTURES)}
    models = appkit.peek(S["arch"], **arch)
    knobs = appkit.row(S, {"rho": 1, "arch": 1, "lam": 1}, arch=arch, lam={"disabled": not ov.uses_lambda(models)})
    rho, models, lam = knobs["rho"], knobs["arch"], knobs["lam"]
    if not models:
        st.info("Choose at least one architecture to compare.")
        return

    sweeps = []
    for model in ov.chosen_models(models):  # one sweep per architecture: adding one trains only it
        spec = on_world(ov.objectives_spec(lam, model), None if choice == SYNTHETIC else real)
        sweep = appkit.sweep("exp2", spec, ov.spec_description([spec]))
        if sweep is None:
            return
        sweeps.append(sweep)
    merged = merge_sweeps(sweeps)
    view = ov.objectives_view(merged, rho, models, lam=lam)

    st.subheader(f"Test accuracy at ρ = {view.rho:g}")
    st.caption(
        f"Mean over {len(view.seeds)} seeds; beside each: chance, a model that reads the prompt type "
        f"instead of the objective and, for the paper's own models, its Table 2 as a reference."
    )
    for column, model in zip(st.columns(len(view.per_model)), view.per_model):
        with column:
            st.markdown(f"#### :{ov.markdown_colour(model.model)}[{model.label}]")
            for name, split in (
                ("Inconsistent pairs (t ≠ c)", "inconsistent"),
                ("Consistent pairs (t = c)", "consistent"),
            ):
                number = getattr(model, split)
                st.metric(
                    name,
                    number.text(),
                    help=f"± {number.spread:.1f} over {number.seeds} seeds" if number.spread is not None else None,
                )
                reference = number.paper_text()
                st.caption(view.baselines.text(split) + (f" · {reference}" if reference else ""))
            appkit.reading(model.reading)
    appkit.reading(view.reading)
    if view.remedy_reading:
        appkit.reading(view.remedy_reading)

    show_objective_overlap(spec, rho)

    st.subheader("Accuracy vs ρ")
    st.plotly_chart(view.accuracy_figure, key="accuracy-vs-rho")
    appkit.reading(view.accuracy_reading)

    st.subheader("Train vs test: overfitting")
    figure, table = st.columns([3, 2])
    with figure:
        st.plotly_chart(view.overfitting_figure, key="overfitting")
    with table:
        st.dataframe(view.overfitting_table, hide_index=True)
    appkit.reading(view.overfitting_reading)

    st.subheader("The adversary: does z_hat tell the objective?")
    if view.discriminator is None:
        st.caption("The discriminator belongs to the adversarial model; choose it above to see it.")
    else:
        d = view.discriminator
        st.metric(
            "Discriminator accuracy at predicting c from z_hat (validation)",
            f"{d.val:.1f} %",
            help=f"± {d.spread:.1f} over seeds; training pairs {d.train:.1f} %",
        )
        st.caption(f"chance 50 % · reading the prompt type: ρ = {100 * d.rho:.0f} %")
        appkit.reading(d.reading)

    st.subheader("What the latent z_hat encodes")
    if view.latent_figure is not None:
        st.plotly_chart(view.latent_figure, key="latent")
        st.dataframe(view.latent_table, hide_index=True)
    appkit.reading(view.latent_reading)

    reliance = reliance_view(merged, rho, view.models, "inconsistent test pairs")
    if reliance is not None:
        st.subheader("Which qualities does each reward follow?")
        st.plotly_chart(reliance.figure, key="reliance")
        appkit.reading(reliance.reading)

    appkit.sanity_checks("exp2", on_world(ov.sanity_spec(lam, models), None if choice == SYNTHETIC else real), rho)

    st.subheader("Results")
    lam_part = f"_lambda{lam:g}" if ov.uses_lambda(view.models) else ""
    appkit.download_csv(view.results, f"exp2_results{lam_part}.csv")


def show_objective_overlap(spec, rho) -> None:
    """Before any model: how much the prompt gives away the objective in the training set."""
    st.subheader("Does the prompt give away the objective?")
    st.caption(
        f"Measured before any model, on the training set the sweep draws for seed 0 at ρ = {rho:g}: a "
        "5-fold cross-fitted logistic regression of the objective c on the prompt embedding."
    )
    view = objective_overlap_view(spec, rho)
    cols = st.columns(3)
    cols[0].metric(f"Pairs outside [{EPSILON:g}, {1 - EPSILON:g}]", f"{100 * view.overlap.outside_share:.1f}%")
    cols[0].caption(view.readings["outside"])
    cols[1].metric("c-AUC from the prompt", f"{view.overlap.auc:.3f}")
    cols[1].caption(view.readings["auc"])
    ess = "undefined" if view.ess_share is None else f"{100 * view.ess_share:.1f}%"
    cols[2].metric("IPW effective sample size", ess)
    cols[2].caption(view.readings["ess"])
    if view.warning:
        st.warning(view.warning)
    st.plotly_chart(view.figure, key="propensity")


appkit.guard(render)
