"""Analytic toy (the paper's appendix figure): a wrong weight costs only where the factors disagree."""

import streamlit as st

import appkit
from causalpref.ui.state import TOY as S
from causalpref.ui.views.toy import spread_view, toy_view

appkit.page(
    "Analytic toy",
    "Two factor differences d1, d2 are standard normal with correlation ρ, and people prefer a "
    "response when a·d1 + (1 − a)·d2 > 0. A reward model with the wrong weight â draws its boundary "
    "at another angle, and misranks only pairs in quadrants 2 and 4, where the factors disagree. "
    "Their share is 1/2 − arcsin(ρ)/π: at high ρ they are rare, so a wrong â barely hurts the overall "
    "accuracy, and a model fitted on a finite sample has little evidence to pin â down. "
    "(ρ = ±1 is degenerate: d1 and d2 are then the same up to sign.)",
    S,
)


def render():
    top = appkit.row(S, {"rho": 3, "a": 2, "a_hat": 2, "seed": 1})
    rho, a, a_hat, seed = top["rho"], top["a"], top["a_hat"], top["seed"]
    view = toy_view(rho, a, a_hat, int(seed))

    cols = st.columns(len(view.metrics))
    for col, metric in zip(cols, view.metrics):
        col.metric(metric.label, metric.value)
        col.caption(metric.reading)

    left, right = st.columns(2)
    left.plotly_chart(view.reference_figure, key="toy_reference")
    right.plotly_chart(view.figure, key="toy_chosen")
    appkit.reading(view.figure_reading)

    st.subheader("Closed forms per ρ")
    st.dataframe(view.table, hide_index=True)
    appkit.reading(
        "Accuracy of the chosen â against the truth at each ρ, with chance (50%) and the â = a "
        "ceiling (100%); the paper's quadrant-2/4 masses beside the closed form."
    )
    appkit.download_csv(view.table, "toy_closed_forms.csv", "Download closed forms (CSV)")

    st.subheader("Refit â on N samples, many times")
    st.markdown(
        "Draw N pairs with Bradley-Terry labels from the true weight a, fit a two-weight logistic "
        "regression, read off â = w1 / (w1 + w2), and repeat. The spread of â is how uncertain a "
        "model trained on N pairs is about the trade-off."
    )
    knobs = appkit.row(S, {"n": 1, "repeats": 1})
    n, repeats = knobs["n"], knobs["repeats"]
    spread = spread_view(rho, a, n, repeats, int(seed))
    st.plotly_chart(spread.figure, key="spread")
    appkit.reading(spread.reading)
    st.dataframe(spread.table, hide_index=True)
    appkit.download_csv(spread.table, "toy_a_hat_spread.csv", "Download the spread of â (CSV)")


appkit.guard(render)
