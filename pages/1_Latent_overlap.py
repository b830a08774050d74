"""Latent overlap: how much of the (d1, d2) plane a training set at correlation ρ leaves empty."""

import streamlit as st

import appkit
from causalpref.ui.views.overlap import (RHO_OPTIONS, SCALE_LABELS, WORLDS, default_pair,
                                      factor_choices, overlap_view)
from causalpref.data.worlds.synthetic import SCALES

appkit.page(
    "Latent overlap",
    "A reward model can only learn how two qualities of a response trade off from pairs in which "
    "they disagree: one response is better on the first factor, the other on the second "
    "(quadrants 2 and 4 of the plane of factor differences d1, d2). Here a training set is drawn "
    "whose two differences correlate at ρ, together with out-of-distribution test pairs on which "
    "the factors disagree. The higher ρ, the fewer training pairs disagree and the more test pairs "
    "fall where the training set has almost none: latent positivity is nearly violated. No model "
    "is trained; every number reads the factor differences only.",
    controls={"world": "World", "scale": "Rating scale", "seed": "Seed", "factor_a": "First factor",
              "factor_b": "Second factor", "rho": "ρ"},
)


def render():
    top = st.columns([2, 2, 1])
    world = top[0].selectbox("World", list(WORLDS), format_func=WORLDS.get, key="world",
                             bind="query-params",
                             help="Correlated factors: truthfulness and instruction-following set the reward "
                                  "(Experiment 1). User objectives: helpfulness and harmlessness (Experiment 2).")
    scale = None
    if world == "correlated":
        scale = top[1].selectbox("Rating scale of the two causal factors", SCALES,
                                 format_func=SCALE_LABELS.get, key="scale", bind="query-params",
                                 help="The other factors of the world (length, tone, …) are always continuous.")
    seed = top[2].number_input("Seed", min_value=0, max_value=10_000, value=0, step=1, key="seed",
                               bind="query-params", help="Fixes the draw of the pairs.")
    names = factor_choices(world, scale)
    first, second = default_pair(world)
    pick = st.columns(2)
    factor_a = pick[0].selectbox("First factor (d1)", names, index=names.index(first), key="factor_a",
                                 bind="query-params")
    factor_b = pick[1].selectbox("Second factor (d2)", names, index=names.index(second), key="factor_b",
                                 bind="query-params")
    rho = st.select_slider("Training correlation ρ between d1 and d2", options=list(RHO_OPTIONS),
                           value=0.6, key="rho", bind="query-params")

    view = overlap_view(world, scale, factor_a, factor_b, rho, int(seed))

    cols = st.columns(len(view.metrics))
    for col, metric in zip(cols, view.metrics):
        col.metric(metric.label, metric.value)
        col.caption(metric.reading)
    if view.warning:
        st.warning(view.warning)
    else:
        st.success("Overlap is adequate: the training set has pairs near most of the test pairs "
                   f"({view.summary.poorly_covered_share:.0%} poorly covered, the warning fires above 30%).")

    st.plotly_chart(view.figure, key="overlap")
    appkit.reading(view.figure_reading)

    st.subheader("Could reweighting the training set stand in for OOD data?")
    cols = st.columns(len(view.reweighting))
    for col, metric in zip(cols, view.reweighting):
        col.metric(metric.label, metric.value)
        col.caption(metric.reading)
    st.dataframe(view.balance, hide_index=True)
    appkit.reading(view.balance_reading)

    st.subheader("Quadrant masses")
    st.dataframe(view.masses, hide_index=True)
    appkit.reading("Shares of each set per quadrant. The Gaussian reference is what continuous, Gaussian-like "
                   "factors would give at the achieved ρ; the whole pool has its factors drawn independently.")
    appkit.download_csv(view.masses, f"overlap_{world}_{factor_a}_{factor_b}_rho{rho:g}.csv",
                        "Download quadrant masses (CSV)")


appkit.guard(render)
