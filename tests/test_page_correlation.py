"""Correlation shift page, headless with AppTest, on a cache shared by this file's tests."""

import json
from pathlib import Path

import pytest
from apptest_helpers import shown
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from causalpref.run.specs import Exp1Spec

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "2_Correlation_shift.py")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("page-cache")


@pytest.fixture
def app(shared_cache, monkeypatch):
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(shared_cache))
    return AppTest.from_file(PAGE, default_timeout=180)


def card(at, label):
    return next(m for m in at.metric if m.label == label)


def metric(at, label):
    return float(next(m.value for m in at.metric if m.label == label).rstrip("%"))


def test_renders_trains_once_and_shows_numbers_with_baselines(app):
    at = app.run()
    assert not at.exception and not at.error
    assert 50 < metric(at, "ID accuracy") < 100
    captions = " ".join(c.value for c in at.caption)
    assert "chance 50%" in captions and "paper (reference): 69.3%" in captions
    assert len(at.get("plotly_chart")) == 4
    assert "Base departs most on" in captions and "true reward" in captions  # spurious-reliance bars


def chart(at, key):
    """The plotly figure (as a dict) of the st.plotly_chart with this key."""
    return json.loads(next(c.proto.spec for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")))


def test_the_accuracy_curve_has_no_unlabelled_dots(app):
    """Issue 13 item 5: plotly gives a trace of < 20 points markers by default, and the seed bands
    (drawn as closed polygons) got a dot on each corner, off the legend."""
    at = app.run()
    traces = chart(at, "curves")["data"]
    bands = [t for t in traces if t.get("fill") == "toself"]
    assert len(bands) == 2 and all(t["mode"] == "lines" for t in bands)  # ID and OOD bands
    assert all(t.get("showlegend") is not False for t in traces if "markers" in t.get("mode", "lines+markers"))


def test_ood_accuracy_falls_as_rho_rises_and_the_slider_reruns(app):
    at = app.run()
    ood_at_zero = metric(at, "OOD accuracy")
    at.select_slider(key="rho").set_value(0.9).run()
    assert not at.exception and not at.error
    ood_at_high = metric(at, "OOD accuracy")
    assert ood_at_high < ood_at_zero - 5
    assert "paper (reference): 57.8%" in " ".join(c.value for c in at.caption)
    assert float(next(m.value for m in at.metric if m.label.startswith("Implied"))) > 0.3


def test_the_cards_show_the_fall_against_the_rho_0_model_in_the_colour_of_worse(app):
    at = app.run()
    ood_at_zero = metric(at, "OOD accuracy")
    assert not card(at, "OOD accuracy").delta  # at ρ = 0 there is nothing to compare with
    at.select_slider(key="rho").set_value(0.9).run()
    ood = card(at, "OOD accuracy")
    assert ood.delta.endswith("vs ρ = 0")
    assert abs(float(ood.delta.split()[0]) - (metric(at, "OOD accuracy") - ood_at_zero)) < 0.06
    assert float(ood.delta.split()[0]) < -5  # the fall, on the card itself
    gap = card(at, "ID − OOD gap")
    assert float(gap.delta.split()[0]) > 5 and gap.proto.color == MetricProto.RED  # wider is worse: red
    assert ood.proto.color == MetricProto.RED  # lower accuracy is worse: red too


def test_url_sets_the_slider_and_bad_values_are_ignored(app):
    app.query_params["rho"] = "0.6"
    at = app.run()
    assert at.select_slider(key="rho").value == 0.6 and not at.exception
    bad = AppTest.from_file(PAGE, default_timeout=180)
    bad.query_params["rho"] = "abc"
    bad.run()
    assert not bad.exception and bad.select_slider(key="rho").value == 0.0
    assert "rho" not in bad.query_params  # the bad value is dropped from the URL


def test_scale_selector_reruns_and_writes_a_short_key(app):
    at = app.run()
    at.selectbox(key="scale").set_value("continuous").run()
    assert not at.exception and not at.error
    assert 50 < metric(at, "OOD accuracy") < 100
    assert at.query_params["scale"] == "continuous"


def test_remedy_toggle_trains_reweighted_models_and_shows_their_cost(app):
    app.query_params["remedy"] = "true"  # a teacher link can switch the remedy on
    at = app.run()
    assert not at.exception and not at.error
    assert at.toggle(key="remedy").value
    ess_at_zero = metric(at, "Effective data kept")
    at.select_slider(key="rho").set_value(0.9).run()
    assert not at.exception and not at.error
    assert metric(at, "Effective data kept") < ess_at_zero / 5  # the weights' price
    base_ood = metric(at, "OOD accuracy")
    gain = next(m.delta for m in at.metric if m.label == "Reweighted OOD accuracy")
    assert abs(metric(at, "Reweighted OOD accuracy") - base_ood - float(gain.split()[0])) < 0.06
    assert "points against Base" in " ".join(c.value for c in at.caption)
    at.toggle(key="remedy").set_value(False).run()
    assert not at.exception and not any(m.label == "Reweighted OOD accuracy" for m in at.metric)


def test_sanity_checks_run_on_demand_and_the_placebo_sits_at_chance(app):
    app.query_params["rho"] = "0.9"
    at = app.run()
    assert not any(c.value.startswith("Placebo") for c in at.caption)  # nothing trained until asked
    next(b for b in at.button if b.label.startswith("Run the sanity checks at ρ = 0.9")).click().run()
    assert not at.exception and not at.error
    table = at.dataframe[-1].value
    placebo = table[table["check"] == "placebo"]
    assert list(placebo["split"]) == ["id", "ood"] and (abs(placebo["accuracy"] - 50) < 8).all()
    assert set(table["verdict"]) - {"reference"} == {"as expected"}
    readings = [c.value for c in at.caption if c.value.startswith(("Placebo", "Random feature", "Half data"))]
    assert len(readings) == 3 and "as expected" in readings[0]


# ---------------------------------------------------------------- the Data page's file as the world


@pytest.fixture
def trained(monkeypatch):
    """The Experiment-1 sweeps actually trained (not loaded from the cache)."""
    from causalpref.run import cached as runs

    calls = []
    real = runs.run_sweep

    def counting(spec, progress=None, **kw):
        calls.append(spec)
        return real(spec, progress=progress, **kw)

    monkeypatch.setattr(runs, "run_sweep", counting)
    return calls


def on_data(app, record) -> AppTest:
    app.session_state["real_world"] = record
    app.query_params["world"] = "data"
    return app.run()


def captions(at) -> str:
    return shown(" ".join(c.value for c in at.caption))  # as the reader sees it (visitor text is escaped)


def clean(at):
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_a_labelled_pair_file_trains_with_the_measured_factor_and_says_its_rule(app, tmp_path, trained):
    from apptest_helpers import FLAT_MAPPING, flat_pairs

    from causalpref.data.columns import ColumnMap
    from causalpref.ui.views import data as dv

    flat = flat_pairs(tmp_path / "flat.csv", prompts=40, per=5)
    at = on_data(app, dv.choice_params("pairs", flat, columns=FLAT_MAPPING))
    clean(at)
    assert at.selectbox(key="measure").value == "length_words" and not [r for r in at.radio if r.key == "prefer"]
    text = captions(at)
    assert "d1 = preferred" in text and "d2 = length (words) of a − length (words) of b" in text
    assert "preferred response is the shorter one" in text
    assert "On flat.csv: true preference = the file's label (factor 1, 'preferred'); factor 2 = length (words)" in text
    (spec,) = trained
    assert spec.world.measure == "length_words" and spec.world.a == 1.0
    assert spec.world.columns == ColumnMap.parse(list(FLAT_MAPPING))  # the mapping reached the world
    assert 0.9 not in spec.rhos and spec.sizes.train < 2000  # fitted to what the file can supply
    assert at.select_slider(key="rho_real").options == [f"{r:g}" for r in spec.rhos]
    assert "out of this file's reach" in text and "each ρ trains on" in text
    assert 0 <= metric(at, "OOD accuracy") <= 100
    assert "paper (reference)" not in text  # the paper's numbers stand beside its own world only
    at.selectbox(key="measure").set_value("length_chars").run()
    clean(at)
    assert trained[-1].world.measure == "length_chars" and "factor 2 = length (characters)" in captions(at)


def test_factor_data_trains_nothing_until_the_true_preference_is_said(app, tmp_path, trained):
    from apptest_helpers import factor_table

    from causalpref.ui.views import data as dv

    at = on_data(app, dv.choice_params("truthfulqa", factor_table(tmp_path / "tqa.jsonl", 30, 5)))
    clean(at)
    assert at.radio(key="prefer").value is None and not trained and not at.metric
    assert any("Say which response is truly preferred" in i.value for i in at.info)
    assert at.radio(key="prefer").options == [
        "truthful decides (informative is spurious)",
        "informative decides (truthful is spurious)",
        "a weighting of the two",
    ]
    at.radio(key="prefer").set_value("weights").run()
    clean(at)
    assert at.slider(key="a_real").value == 0.5 and at.query_params["prefer"] == "weights"
    at.slider(key="a_real").set_value(0.3).run()
    clean(at)
    assert trained and {s.world.a for s in trained} <= {0.5, 0.3}
    assert trained[-1].world.a == 0.3 and trained[-1].world.factors == ("truthful", "informative")
    assert "true reward = 0.3·truthful + 0.7·informative" in captions(at)
    at.radio(key="prefer").set_value("second").run()
    clean(at)
    assert trained[-1].world.a == 1.0 and trained[-1].world.factors == ("informative", "truthful")
    assert "true preference = informative (weight 1); truthful is spurious (weight 0)" in captions(at)
    assert "paper (reference)" not in captions(at)


def test_every_draw_is_checked_before_anything_is_embedded_or_trained(app, tmp_path, trained, monkeypatch):
    """Should a fit promise more than the file holds, the engine's check stops the page with its
    message before the first text is embedded."""
    from apptest_helpers import FLAT_MAPPING, flat_pairs

    from causalpref.data.worlds import real
    from causalpref.ui.views import data as dv

    embedded = []
    monkeypatch.setattr(real, "embed_pairs", lambda *a, **k: embedded.append(a))
    promised = dv.Fit(Exp1Spec().sizes, (0.0, 0.3), Exp1Spec().sizes, (0.0, 0.3))
    monkeypatch.setattr(dv, "exp1_fit", lambda *a, **k: promised)
    flat = flat_pairs(tmp_path / "flat.csv", prompts=10, per=3)
    at = on_data(app, dv.choice_params("pairs", flat, columns=FLAT_MAPPING))
    assert not at.exception
    (error,) = at.error
    assert shown(error.value).startswith("cannot draw 2,000 training") and "30 pairs over 10 questions" in shown(
        error.value
    )
    assert not trained and not embedded
