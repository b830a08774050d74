"""causalpref — home page: what the lab is for, one button to the failure, the pages, and the
paper's causal diagrams (one tab each, so the page stays one screen)."""

import streamlit as st

import appkit
from causalpref.ui.diagrams import DIAGRAMS

appkit.page(
    "causalpref — a laboratory for causal preference learning",
    "Reward models learn what people prefer from whatever happens to go together in the data, and fail "
    "where it stops going together. This lab reproduces those failures and the remedies of Kobalczyk & "
    "van der Schaar, *Preference Learning for AI Alignment: a Causal Perspective* (ICML 2025), on "
    "synthetic worlds that need no download.",
)


def render():
    if st.button(
        "Show me the failure",
        type="primary",
        help="Opens Correlation shift at ρ = 0.9: truthfulness and instruction-following "
        "rise together in training, and the model fails where they disagree.",
    ):
        appkit.switch_page("Correlation_shift", {"rho": "0.9"})

    learn, lab = st.columns(2)
    with learn:
        st.subheader("Learn it step by step")
        appkit.page_link(
            "Lessons", "Lessons", help="Six short lessons: predict first, then see what the models do, then why."
        )
        appkit.page_link(
            "Assumptions",
            "Assumptions",
            help="The causal assumptions behind preference learning, each with how it breaks.",
        )
    with lab:
        st.subheader("The tools")
        appkit.page_link(
            "Latent_overlap",
            "Latent overlap",
            help="Which regions of latent space the training data covers, for any pair of factors.",
        )
        appkit.page_link(
            "Correlation_shift",
            "Correlation shift (Experiment 1)",
            help="Slide the training correlation ρ and watch out-of-distribution accuracy fall.",
        )
        appkit.page_link(
            "User_objectives",
            "User objectives (Experiment 2)",
            help="Prompt type confounded with the user's objective; Base, Multihead, Adversarial.",
        )
        appkit.page_link(
            "Analytic_toy", "Analytic toy", help="The closed-form picture: why high ρ leaves few informative pairs."
        )
        appkit.page_link(
            "Interventions",
            "Interventions",
            help="You can buy B more labels: which ones buy back accuracy where the data do not reach?",
        )
        appkit.page_link(
            "Data",
            "Data",
            help="Use a real preference data file (TruthfulQA, relabelled HH-RLHF, your own) "
            "embedded with a local model, on the experiment pages.",
        )

    st.subheader("The causal picture")
    for tab, (dot, caption) in zip(st.tabs(list(DIAGRAMS)), DIAGRAMS.values()):
        with tab:
            st.graphviz_chart(dot)
            st.caption(caption)


appkit.guard(render)
