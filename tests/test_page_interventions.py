"""Interventions page, headless with AppTest, on small sweeps (views.interventions.page_spec
patched to tests/apptest_helpers.tiny_interventions_spec: two seeds, budgets 0/50/200) shared
through one cache by this file's tests."""

import json
import re
from pathlib import Path

import pytest
from apptest_helpers import tiny_interventions_spec
from streamlit.testing.v1 import AppTest

from causalpref.data.worlds.synthetic import CorrelatedFactorsWorld
from causalpref.interventions import strategies as registry
from causalpref.interventions import summary
from causalpref.interventions.run import run_interventions_cached
from causalpref.ui.views import interventions as iv

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "8_Interventions.py")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("interventions-cache")


@pytest.fixture
def app(shared_cache, monkeypatch):
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(shared_cache))
    monkeypatch.setattr(iv, "page_spec", tiny_interventions_spec)
    return AppTest.from_file(PAGE, default_timeout=180)


def clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def chart(at, key):
    return json.loads(next(c.proto.spec for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")))


def engine(experiment="exp1", rho=0.9):
    """The page's sweep as the engine gives it (from the shared cache)."""
    spec = tiny_interventions_spec(experiment, rho)
    return spec, run_interventions_cached(spec)[0]


def test_renders_trains_and_shows_curves_cards_table_reading_and_where_the_labels_went(app):
    at = app.run()
    clean(at)
    spec, sweep = engine()
    names = registry.labels("exp1")
    # the cards: the base set, observational and the best strategy at the budget, with baselines
    assert [m.label.split(":")[0] for m in at.metric] == [
        "Base set, OOD accuracy",
        "Observational, 200 labels",
        "Best at 200 labels",
    ]
    curves = summary.curves(sweep.results, "ood")
    best = curves[(curves["budget"] == 200) & curves["strategy"].isin(spec.strategies)].set_index("strategy")["mean"]
    assert at.metric[2].label == f"Best at 200 labels: {names[best.idxmax()]}"
    assert at.metric[2].value == f"{best.max():.1f}%"
    assert "chance 50%" in captions(at) and "trained at ρ = 0:" in captions(at)
    # the curves: one line and one ± sd band per strategy, the references as labelled lines
    traces = chart(at, "budget_curves")["data"]
    lines = [t["name"] for t in traces if t.get("fill") != "toself" and t["line"].get("dash") is None]
    assert lines == [names[s] for s in spec.strategies]
    named = [t["name"] for t in traces] + [a["text"] for a in chart(at, "budget_curves")["layout"]["annotations"]]
    for label in ("Base set, no extra labels", names[registry.REWEIGHTING], names[registry.RHO0], "chance 50%"):
        assert any(n.startswith(label) for n in named), (label, named)
    # the cost table and both readings, computed from the engine's numbers
    table = at.dataframe[0].value
    assert list(table["strategy"]) == [names[s] for s in spec.strategies]
    assert {"labels to recover half the loss", "vs observational at 50", "vs observational at 200"} <= set(table)
    assert summary.reading(sweep.results, "ood") in [c.value for c in at.caption]
    assert captions(at).count("With 200 extra labels") == 2  # the page's reading at B and the engine's
    # where the extra labels went: one plane per strategy, the base set under them
    planes = [chart(at, f"where-{s}") for s in spec.strategies]
    assert all(len(p["data"]) == 2 and "quadrants 2/4" in p["layout"]["title"]["text"] for p in planes)


def test_url_params_bind_the_sliders_and_toggles_and_the_budget_never_retrains(app):
    app.query_params.update({"rho": "0.8", "budget": "50", "targeted": "false"})
    at = app.run()
    clean(at)
    assert at.select_slider(key="rho").value == 0.8 and at.select_slider(key="budget").value == 50
    assert at.toggle(key="targeted").value is False and at.toggle(key="uniform").value is True
    assert "Targeted" not in list(at.dataframe[0].value["strategy"])
    assert at.metric[1].label == "Observational, 50 labels"
    trained = set(at.session_state["_sweeps"])
    at.select_slider(key="budget").set_value(200).run()
    at.toggle(key="targeted").set_value(True).run()
    clean(at)
    assert set(at.session_state["_sweeps"]) == trained  # read from the same sweep
    assert "budget" not in at.query_params and "targeted" not in at.query_params  # back at their defaults
    assert "Targeted" in list(at.dataframe[0].value["strategy"]) and at.metric[1].label == "Observational, 200 labels"


def test_a_strategy_the_world_cannot_run_is_off_greyed_out_and_says_why(app, monkeypatch):
    monkeypatch.setattr(CorrelatedFactorsWorld, "can_isolate", False)
    at = app.run()
    clean(at)
    isolated = at.toggle(key="isolated")
    assert isolated.disabled and isolated.value is False
    reason = "isolated pairs need a generator; a data file has none"
    assert reason in captions(at) and isolated.help == reason
    assert "Isolated" not in list(at.dataframe[0].value["strategy"])
    assert "isolated" not in at.query_params  # off because it cannot run, not by the reader's choice
    assert not at.toggle(key="active").disabled


def test_experiment_2_compares_randomised_prompts_and_counterfactual_relabels(app):
    app.query_params["experiment"] = "exp2"
    app.query_params["rho"] = "1"
    at = app.run()
    clean(at)
    assert at.select_slider(key="rho").value == 1.0  # on Experiment 2's grid (not Experiment 1's)
    assert [t.key for t in at.main.toggle] == list(registry.strategy_names("exp2"))
    assert at.metric[0].label == "Base set, inconsistent accuracy"
    assert "trained at ρ = 0.5:" in captions(at)
    cells = chart(at, "where-randomised")
    assert [t["type"] for t in cells["data"]] == ["bar", "bar"] and "inconsistent training pairs" in str(cells)


def test_bad_url_values_give_a_clear_message_and_the_page_still_works(app):
    app.query_params.update({"rho": "abc", "budget": "-5", "targeted": "maybe"})
    at = app.run()
    clean(at)
    warnings = re.sub(r"\\(.)", r"\1", " ".join(w.value for w in at.warning))  # shown as plain text: escaped
    assert "rho" in warnings and "abc" in warnings and "using 0.9" in warnings
    assert "budget" in warnings and "one of 0, 50, 100, 200, 500, 1000" in warnings
    assert "targeted" in warnings and "true or false" in warnings
    assert at.select_slider(key="rho").value == 0.9 and at.select_slider(key="budget").value == 200
    assert at.metric  # trained and shown at the defaults
    assert "rho" not in at.query_params and "budget" not in at.query_params  # the bad values leave the URL


def test_a_teacher_link_can_pin_the_strategies_and_the_budget(app):
    app.query_params.update({"budget": "50", "active": "false", "hide": "budget,active"})
    at = app.run()
    clean(at)
    assert not [s for s in at.select_slider if s.key == "budget"] and not [t for t in at.toggle if t.key == "active"]
    assert at.metric[1].label == "Observational, 50 labels"  # the hidden budget still holds
    assert "Active" not in list(at.dataframe[0].value["strategy"])  # and so does the hidden toggle
