"""Analytic-toy page, headless with AppTest."""

from pathlib import Path

import pytest
from apptest_helpers import clean, metric, percent
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "4_Analytic_toy.py")
ACCURACY = "Accuracy of â (all pairs)"


@pytest.fixture
def app():
    return AppTest.from_file(PAGE, default_timeout=60)


def spread_table(at):
    return next(d.value for d in at.dataframe if "std of a_hat" in d.value.columns).set_index("rho")


def test_renders_two_panels_numbers_baselines_and_the_spread(app):
    at = app.run()
    assert clean(at)
    assert (at.slider(key="rho").value, at.slider(key="a").value, at.slider(key="a_hat").value) == (0.9, 0.25, 0.5)
    assert metric(at, "Quadrant-2/4 mass") == "0.144"
    assert 50 < percent(at, ACCURACY) < 100
    captions = " ".join(c.value for c in at.caption)
    assert "chance is 50%" in captions and "100%" in captions
    assert "0.500, 0.403, 0.295 and 0.144" in " ".join(m.proto.help for m in at.metric)
    assert len(at.get("plotly_chart")) == 3  # rho = 0, chosen rho, spread of a_hat
    spread = spread_table(at)
    assert spread.loc[0.9, "std of a_hat"] > spread.loc[0.0, "std of a_hat"]
    assert len(at.get("download_button")) == 2


def test_accuracy_is_100_percent_at_a_hat_equal_a_and_drops_away_from_it(app):
    at = app.run()
    at.slider(key="a_hat").set_value(0.25).run()
    assert clean(at)
    assert metric(at, ACCURACY) == "100.0%"
    assert metric(at, "Accuracy on quadrants 2/4") == "100.0%"
    at.slider(key="a_hat").set_value(0.75).run()
    assert clean(at)
    assert percent(at, ACCURACY) < 100
    assert percent(at, "Accuracy on quadrants 2/4") < percent(at, ACCURACY)


def test_every_control_reruns_without_exception(app):
    at = app.run()
    at.slider(key="rho").set_value(0.0).run()
    assert clean(at) and metric(at, "Quadrant-2/4 mass") == "0.500"
    at.slider(key="rho").set_value(-0.5).run()
    assert clean(at) and -0.5 in spread_table(at).index
    at.slider(key="a").set_value(0.7).run()
    assert clean(at)
    at.number_input(key="seed").set_value(3).run()
    assert clean(at)
    at.slider(key="n").set_value(40).run()
    assert clean(at) and set(spread_table(at)["n pairs"]) == {40}
    at.slider(key="repeats").set_value(50).run()
    assert clean(at) and set(spread_table(at)["repeats"]) == {50}


def test_url_sets_the_sliders(app):
    app.query_params["rho"] = "0.9"
    app.query_params["a_hat"] = "0.25"
    at = app.run()
    assert clean(at)
    assert at.slider(key="rho").value == 0.9
    assert metric(at, ACCURACY) == "100.0%"
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["rho"] = "0.3"
    at.run()
    assert clean(at) and at.slider(key="rho").value == 0.3
    assert metric(at, "Quadrant-2/4 mass") == "0.403"


@pytest.mark.parametrize("value", ["abc", "1.0", "nan"])
def test_invalid_or_degenerate_url_values_are_ignored(app, value):
    app.query_params["rho"] = value
    at = app.run()
    assert clean(at)
    assert at.slider(key="rho").value == 0.9
