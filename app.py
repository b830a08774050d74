"""causalpref — Streamlit entry page.

Run with: streamlit run app.py
"""

import streamlit as st

from causalpref.app_support import device_badge, run_default_exp1

st.set_page_config(page_title="causalpref", layout="wide")
st.sidebar.caption(f"Compute device: {device_badge()}")

st.title("causalpref — a laboratory for causal preference learning")
st.markdown(
    "Reward models learn what people prefer from pairs of responses. When two qualities of "
    "a response (say truthfulness and instruction-following) rise and fall together in the "
    "training data, a model cannot tell which one people actually reward, and it fails on "
    "responses where the two disagree. This lab reproduces that failure and the remedies of "
    "Kobalczyk & van der Schaar, *Preference Learning for AI Alignment: a Causal Perspective* "
    "(ICML 2025), on synthetic worlds that need no download."
)

st.subheader("Experiment 1: correlated factors break out-of-distribution accuracy")
st.markdown(
    "Train a Bradley-Terry reward model on pairs whose two factor differences correlate at "
    "ρ, then test on pairs with the same ρ (ID) and on pairs where the factors disagree (OOD)."
)
rhos = st.multiselect("Training correlations ρ", [0.0, 0.3, 0.6, 0.9], default=[0.0, 0.9])
seeds = st.number_input("Seeds", min_value=1, max_value=5, value=1)
if st.button("Train", type="primary", disabled=not rhos):
    bar = st.progress(0.0, text="training…")
    outcome = run_default_exp1(tuple(sorted(rhos)), int(seeds),
                               progress=lambda done, total, msg: bar.progress(done / total, text=msg))
    bar.empty()
    if outcome.error:
        st.error(outcome.error)
    else:
        st.dataframe(outcome.summary, hide_index=True)
        st.caption(outcome.reading)
        st.download_button("Download results (CSV)", outcome.results.to_csv(index=False),
                           file_name="exp1_results.csv", mime="text/csv")
