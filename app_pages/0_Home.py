"""causalpref — home page."""

import streamlit as st

import appkit
from causalpref.ui.diagrams import DIAGRAMS

appkit.page(
    "causalpref — a laboratory for causal preference learning",
    "Reward models learn what people prefer from pairs of responses, and they learn it from "
    "whatever happens to go together in the data. When two qualities of a response rise and fall "
    "together, or when the kind of prompt gives away what the user wanted, a reward model can "
    "latch onto the wrong cause and fail on exactly the cases where it matters. This lab "
    "reproduces those failures and the causally-inspired remedies of Kobalczyk & van der Schaar, "
    "*Preference Learning for AI Alignment: a Causal Perspective* (ICML 2025), on synthetic "
    "worlds that need no download.",
)


def render():
    if st.button(
        "Show me the failure",
        type="primary",
        help="Opens Correlation shift at ρ = 0.9: truthfulness and instruction-following "
        "rise together in training, and the model fails where they disagree.",
    ):
        appkit.switch_page("Correlation_shift", {"rho": "0.9"})

    st.subheader("Learn it step by step")
    appkit.page_link(
        "Lessons", "Lessons", help="Five short lessons: predict first, then see what the models do, then why."
    )
    appkit.page_link(
        "Assumptions", "Assumptions", help="The causal assumptions behind preference learning, each with how it breaks."
    )

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
        "Data",
        "Data",
        help="Use a real preference data file (TruthfulQA, relabelled HH-RLHF, your own) "
        "embedded with a local model, on the experiment pages.",
    )

    st.subheader("The causal picture")
    columns = st.columns(2)
    for i, (name, (dot, caption)) in enumerate(DIAGRAMS.items()):
        with columns[i % 2]:
            st.markdown(f"**{name}**")
            st.graphviz_chart(dot)
            st.caption(caption)


appkit.guard(render)
