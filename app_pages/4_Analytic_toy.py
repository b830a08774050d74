"""Analytic toy (the paper's appendix figure): a wrong weight costs only where the factors disagree.

First screen: the controls, the closed-form numbers (each against ρ = 0) and the two panels;
the table and the refits of â wait in expanders."""

import streamlit as st

import appkit
from causalpref.ui.state import TOY as S
from causalpref.ui.views.toy import spread_view, toy_view

appkit.page(
    "Analytic toy",
    "People prefer a response when a·d1 + (1 − a)·d2 > 0, with d1, d2 standard normal at correlation ρ. "
    "A wrong weight â misranks only pairs where the factors disagree (quadrants 2 and 4); at high ρ these "
    "are rare, so a wrong â barely shows in the accuracy and is hard to learn.",
    S,
)


def render():
    top = appkit.row(S, {"rho": 3, "a": 2, "a_hat": 2, "seed": 1})
    rho, a, a_hat, seed = top["rho"], top["a"], top["a_hat"], top["seed"]
    view = toy_view(rho, a, a_hat, int(seed))

    appkit.metric_row(view.metrics)
    left, right = st.columns(2)
    left.plotly_chart(view.reference_figure, key="toy_reference")
    right.plotly_chart(view.figure, key="toy_chosen")
    appkit.reading(view.figure_reading)

    with st.expander("How well can â be learned? Refit it on N pairs, many times"):
        st.caption(
            "Draw N pairs labelled by the true a, fit a two-weight logistic regression, read off "
            "â = w1 / (w1 + w2), repeat: the spread of â is how unsure a model trained on N pairs is."
        )
        knobs = appkit.row(S, {"n": 1, "repeats": 1})
        spread = spread_view(rho, a, knobs["n"], knobs["repeats"], int(seed))
        st.plotly_chart(spread.figure, key="spread")
        appkit.reading(spread.reading)
        st.dataframe(spread.table, hide_index=True)
        appkit.download_csv(spread.table, "toy_a_hat_spread.csv", "Download the spread of â (CSV)")

    with st.expander("Closed forms per ρ"):
        st.dataframe(view.table, hide_index=True)
        appkit.reading(
            "Accuracy of â at each ρ beside chance (50%) and the â = a ceiling (100%); the paper's "
            "quadrant-2/4 masses beside the closed form."
        )
        appkit.download_csv(view.table, "toy_closed_forms.csv", "Download closed forms (CSV)")


appkit.guard(render)
