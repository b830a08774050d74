"""Latent-overlap page, headless with AppTest."""

from pathlib import Path

import pytest
from apptest_helpers import clean, metric, percent
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "1_Latent_overlap.py")
Q24 = "Training pairs in quadrants 2/4"


def helps(at):
    """The metrics' tooltips: how each number is computed and its references."""
    return " ".join(m.proto.help for m in at.metric)


@pytest.fixture
def app():
    return AppTest.from_file(PAGE, default_timeout=60)


def test_renders_with_numbers_baselines_figure_and_download(app):
    at = app.run()
    assert clean(at)
    assert at.select_slider(key="rho").value == 0.6
    assert at.selectbox(key="world").value == "correlated"
    assert at.selectbox(key="scale").value == "likert"
    assert (at.selectbox(key="factor_a").value, at.selectbox(key="factor_b").value) == (
        "truthfulness",
        "instruction_following",
    )
    assert abs(float(metric(at, "Achieved training ρ")) - 0.6) <= 0.02
    captions = " ".join(c.value for c in at.caption)
    assert "Target ρ = 0.6" in captions and "1/2 − arcsin(ρ)/π = 0.29" in helps(at)
    assert "only to continuous" in helps(at)  # Likert: the reference does not apply
    assert "Quadrants 2/4 among pairs without ties" in [m.label for m in at.metric]
    assert len(at.get("plotly_chart")) == 1
    balance, masses = (frame.value for frame in at.dataframe)
    assert list(masses["quadrant"]) == ["Q1", "Q2", "Q3", "Q4", "axes", "Q2+Q4"]
    assert balance["flag"].iloc[-1] and not balance["flag"].iloc[:2].any()  # only d1·d2 is imbalanced
    assert len(at.get("download_button")) == 1


def test_reweighting_measures_fall_with_rho_beside_their_rho_zero_baseline(app):
    at = app.run()
    labels = ("Effective training pairs for the OOD test", "Data kept by balancing the quadrants")
    at.select_slider(key="rho").set_value(0.0).run()
    at_zero = [percent(at, label) for label in labels] + [percent(at, "OOD test pairs no reweighting reaches")]
    at.select_slider(key="rho").set_value(0.9).run()
    assert clean(at)
    assert all(percent(at, label) < 0.5 * value for label, value in zip(labels, at_zero))
    assert percent(at, "OOD test pairs no reweighting reaches") > at_zero[2] + 20
    assert "at ρ = 0" in helps(at)
    assert all(m.proto.delta_description == "vs ρ = 0" for m in at.metric if m.label != "Achieved training ρ")


def test_overlap_shrinks_with_rho_and_the_warning_appears_only_at_high_rho(app):
    at = app.run()
    at.select_slider(key="rho").set_value(0.0).run()
    assert clean(at) and not at.warning
    q24_at_zero = percent(at, Q24)
    at.select_slider(key="rho").set_value(0.9).run()
    assert clean(at)
    assert percent(at, Q24) < q24_at_zero
    assert len(at.warning) == 1 and "Poor overlap" in at.warning[0].value


def test_every_control_reruns_without_exception(app):
    at = app.run()
    at.selectbox(key="scale").set_value("continuous").run()
    assert clean(at) and len(at.metric) == 6  # no off-axis share for continuous factors
    assert "0.500 at ρ = 0" in helps(at)
    at.selectbox(key="scale").set_value("binary").run()
    assert clean(at)
    at.selectbox(key="factor_b").set_value("length").run()
    assert clean(at)
    at.selectbox(key="factor_a").set_value("tone").run()
    assert clean(at)
    at.number_input(key="seed").set_value(7).run()
    assert clean(at)
    at.select_slider(key="rho").set_value(0.95).run()
    assert clean(at)
    at.selectbox(key="world").set_value("objectives").run()
    assert clean(at)
    assert not at.selectbox(key="world").value == "correlated"
    assert "helpfulness" in at.selectbox(key="factor_a").options
    assert len(at.get("plotly_chart")) == 1


def test_the_same_factor_twice_is_a_plain_error(app):
    at = app.run()
    at.selectbox(key="factor_b").set_value("truthfulness").run()
    assert not at.exception
    assert len(at.error) == 1 and "two different factors" in at.error[0].value


def test_url_sets_the_controls(app):
    app.query_params["rho"] = "0.9"
    app.query_params["factor_b"] = "length"
    at = app.run()
    assert clean(at)
    assert at.select_slider(key="rho").value == 0.9
    assert at.selectbox(key="factor_b").value == "length"
    assert abs(float(metric(at, "Achieved training ρ")) - 0.9) <= 0.02


def test_url_picks_the_user_objectives_world(app):
    app.query_params["world"] = "objectives"
    at = app.run()
    assert clean(at)
    assert at.selectbox(key="world").value == "objectives"
    assert at.selectbox(key="factor_a").value == "helpfulness"
    assert not any(s.key == "scale" for s in at.selectbox)
    assert at.query_params == {"world": "objectives"}


def test_a_link_written_with_labels_still_works_and_the_url_gets_short_keys(app):
    app.query_params["world"] = "Correlated factors (Experiment 1)"
    app.query_params["scale"] = "continuous (Gaussian)"
    at = app.run()
    assert clean(at)
    assert at.selectbox(key="scale").value == "continuous"
    assert at.query_params == {"scale": "continuous"}  # world is at its default: left out
    at.selectbox(key="world").set_value("objectives").run()
    assert at.query_params == {"world": "objectives"}  # no scale where the page shows none
    at.selectbox(key="world").set_value("correlated").run()
    assert at.selectbox(key="scale").value == "likert"


def test_invalid_url_values_are_ignored(app):
    app.query_params["rho"] = "abc"
    app.query_params["seed"] = "-5"
    app.query_params["world"] = "mars"
    app.query_params["factor_a"] = "charm"
    at = app.run()
    assert clean(at)
    assert at.select_slider(key="rho").value == 0.6
    assert at.number_input(key="seed").value == 0
    assert at.selectbox(key="world").value == "correlated"
    assert at.selectbox(key="factor_a").value == "truthfulness"
    assert at.query_params == {}  # and they leave the URL
