"""Latent overlap: how much of the (d1, d2) plane a training set at correlation ρ leaves empty.

First screen: the controls, the headline numbers (each against ρ = 0) and the plane; the
reweighting diagnostics and the quadrant table wait in expanders."""

import streamlit as st

import appkit
from causalpref.ui.state import OVERLAP as S
from causalpref.ui.style import stack_key
from causalpref.ui.views.overlap import default_pair, factor_choices, overlap_view

appkit.page(
    "Latent overlap",
    "A reward model learns how two qualities of a response trade off only from pairs in which they "
    "disagree (quadrants 2 and 4 of the plane of factor differences d1, d2). Draw a training set whose "
    "differences correlate at ρ and see how few such pairs it keeps. No model is trained.",
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
        {"factor_a": 1, "factor_b": 1, "rho": 2},
        factor_a={"options": names, "default": first},
        factor_b={"options": names, "default": second},
    )
    factor_a, factor_b, rho = pick["factor_a"], pick["factor_b"], pick["rho"]

    view = overlap_view(world, scale, factor_a, factor_b, rho, int(seed))

    with st.container(key=stack_key("overlap")):  # side by side; stacked on narrow windows
        figure, numbers = st.columns([3, 2])
    with figure:
        st.plotly_chart(view.figure, key="overlap")
        appkit.reading(view.figure_reading)
    with numbers:
        appkit.metric_row(view.metrics, per_row=2)
        if view.warning:
            st.warning(view.warning)
        else:
            st.success(
                f"Overlap is adequate: {view.summary.poorly_covered_share:.0%} of the test pairs are poorly "
                "covered (poor above 30%)."
            )

    with st.expander("Could reweighting the training set stand in for OOD data?"):
        appkit.metric_row(view.reweighting)
        st.dataframe(view.balance, hide_index=True)
        appkit.reading(view.balance_reading)

    with st.expander("Quadrant masses per set"):
        st.dataframe(view.masses, hide_index=True)
        appkit.reading(
            "Share of each set per quadrant, beside what Gaussian factors at the achieved ρ would give; "
            "the whole pool has its factors drawn independently."
        )
        appkit.download_csv(
            view.masses, f"overlap_{world}_{factor_a}_{factor_b}_rho{rho:g}.csv", "Download quadrant masses (CSV)"
        )


appkit.guard(render)
