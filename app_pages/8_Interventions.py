"""Interventions: which extra labels buy back accuracy where the training data do not reach."""

import streamlit as st

import appkit
from causalpref.ui.safe import visitor_text
from causalpref.ui.state import INTERVENTIONS as S
from causalpref.ui.style import stack_key
from causalpref.ui.views import interventions as iv

appkit.page(
    "Interventions",
    "A team has pairs collected at a high ρ and can pay for B more labels: which B? Every strategy "
    "starts from the same base training set, test pairs and seeds, and gets exactly B labels; each is "
    "compared with observational (more of the same) pair by pair. Every ρ trains once, all strategies "
    "and budgets together, and is cached: the budget and the toggles only choose what is shown.",
    S,
)


def render():
    url = {key: st.query_params.get_all(key) for key in S.keys()}
    experiment = appkit.peek(S["experiment"])
    for line in iv.bad_params(S, url, {"rho": iv.RHO_OPTIONS[experiment]}):
        st.warning(visitor_text(line, limit=60))
    experiment = appkit.control(S["experiment"], horizontal=True)
    knobs = appkit.row(S, {"rho": 1, "budget": 1}, rho={"options": iv.RHO_OPTIONS[experiment]})
    spec = iv.page_spec(experiment, knobs["rho"])
    shown = strategy_toggles(spec)
    sweep = appkit.sweep(appkit.INTERVENTIONS, spec, iv.describe(spec))
    if sweep is None:
        return
    if not shown:
        st.info("Switch on at least one strategy to compare.")
        return
    view = iv.interventions_view(sweep, spec, knobs["budget"], shown)
    appkit.metric_row(view.cards)
    appkit.reading(view.budget_reading)
    st.plotly_chart(view.curves, key="budget_curves")
    appkit.reading(view.reading)
    st.subheader("What each strategy costs")
    st.dataframe(view.table, hide_index=True, key="cost_table")
    appkit.reading(
        "Paired difference: the strategy minus observational on the same seed (same base set, test pairs and "
        "initial weights), mean ± standard error over seeds, in points. Half the loss: half the way from the "
        "base set back to the model trained without the confounding."
    )
    st.subheader(f"Where the {view.budget} extra labels went")
    if view.budget == 0:
        st.caption("No extra labels at a budget of 0: move the budget to see where they go.")
    else:
        with st.container(key=stack_key("where")):  # two side by side; stacked on narrow windows
            columns = st.columns(2)
            for i, name in enumerate(view.strategies):
                figure = iv.where_labels_went(sweep, spec, view, name)
                if figure is not None:
                    columns[i % 2].plotly_chart(figure, key=f"where-{name}")
    appkit.download_csv(sweep.results, f"interventions_{experiment}_rho{spec.rho:g}.csv")


def strategy_toggles(spec) -> list[str]:
    """One toggle per strategy of the experiment; one the world cannot run is off, greyed out,
    with its reason. Returns the strategies switched on."""
    reasons = iv.availability(spec)
    names = iv.strategy_names(spec.experiment)
    drawn = [name for name in names if not appkit.hidden(name)]  # a teacher link's hidden ones leave no hole
    per_row = 3  # whole labels at 800 px
    columns = [column for start in range(0, len(drawn), per_row) for column in st.columns(per_row)]
    where = dict(zip(drawn, columns))
    shown = []
    for name in names:
        column = where.get(name, st)
        if reasons[name] is not None:
            appkit.control(S[name], column, value=False, default=False, disabled=True, help=reasons[name])
            column.caption(reasons[name])
        elif appkit.control(S[name], column):
            shown.append(name)
    return shown


appkit.guard(render)
