"""Latent overlap: how much of the (d1, d2) plane a training set at correlation ρ leaves empty."""

import streamlit as st

import appkit
from causalpref.ui.state import OVERLAP as S
from causalpref.ui.views.overlap import default_pair, factor_choices, overlap_view

appkit.page(
    "Latent overlap",
    "A reward model can only learn how two qualities of a response trade off from pairs in which "
    "they disagree: one response is better on the first factor, the other on the second "
    "(quadrants 2 and 4 of the plane of factor differences d1, d2). Here a training set is drawn "
    "whose two differences correlate at ρ, together with out-of-distribution test pairs on which "
    "the factors disagree. The higher ρ, the fewer training pairs disagree and the more test pairs "
    "fall where the training set has almost none: latent positivity is nearly violated. No model "
    "is trained; every number reads the factor differences only.",
    S,
)


def render():
    correlated = appkit.peek(S["world"]) == "correlated"
    top = appkit.row(S, {"world": 2, "scale": 2, "seed": 1} if correlated else {"world": 4, "seed": 1})
    world, scale, seed = top["world"], top.get("scale"), top["seed"]
    names = factor_choices(world, scale)
    first, second = default_pair(world)
    pick = appkit.row(
        S,
        {"factor_a": 1, "factor_b": 1},
        factor_a={"options": names, "default": first},
        factor_b={"options": names, "default": second},
    )
    factor_a, factor_b = pick["factor_a"], pick["factor_b"]
    rho = appkit.control(S["rho"])

    view = overlap_view(world, scale, factor_a, factor_b, rho, int(seed))

    cols = st.columns(len(view.metrics))
    for col, metric in zip(cols, view.metrics):
        col.metric(metric.label, metric.value)
        col.caption(metric.reading)
    if view.warning:
        st.warning(view.warning)
    else:
        st.success(
            "Overlap is adequate: the training set has pairs near most of the test pairs "
            f"({view.summary.poorly_covered_share:.0%} poorly covered, the warning fires above 30%)."
        )

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
    appkit.reading(
        "Shares of each set per quadrant. The Gaussian reference is what continuous, Gaussian-like "
        "factors would give at the achieved ρ; the whole pool has its factors drawn independently."
    )
    appkit.download_csv(
        view.masses, f"overlap_{world}_{factor_a}_{factor_b}_rho{rho:g}.csv", "Download quadrant masses (CSV)"
    )


appkit.guard(render)
