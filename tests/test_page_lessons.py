"""Lessons and Assumptions pages, headless with AppTest.

The pages run under app.py (AppTest.switch_page) so that st.page_link resolves the other
pages as it does under `streamlit run`. Experiment 2 sweeps are small stand-ins of the User
objectives page's (views.objectives.objectives_spec patched, same code path); the
Experiment 1 sweep is the Correlation shift page's own, trained once for this module.
"""

from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from apptest_helpers import run_need, shown, tiny_interventions_spec, tiny_objectives_spec
from streamlit.testing.v1 import AppTest

from causalpref.ui import lessons as lx
from causalpref.ui.lessons import compute
from causalpref.ui.state import canonical_params
from causalpref.ui.views import interventions as iv
from causalpref.ui.views import objectives as ov

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
LESSONS = "app_pages/6_Lessons.py"
ASSUMPTIONS = "app_pages/7_Assumptions.py"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("lesson-page-cache")


@pytest.fixture(autouse=True)
def setup(monkeypatch, shared_cache):
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(shared_cache))
    monkeypatch.setattr(ov, "objectives_spec", tiny_objectives_spec)
    monkeypatch.setattr(iv, "page_spec", tiny_interventions_spec)


def open_page(page, **params):
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page(page)
    at.query_params.update(params)
    return at.run()


def lesson(n):
    return lx.load_lessons()[n - 1]


def button(at, label):
    return next(b for b in at.button if b.label.startswith(label))


def texts(at):
    return [m.value for m in at.markdown]


def prediction_key(lesson_):
    return "guess" if lesson_.slider is not None else "answer"


def predict_and_reveal(at, lesson_, guess=None):
    key = prediction_key(lesson_)
    if lesson_.slider is not None:
        guess = lesson_.slider.start if guess is None else guess
        at.slider(key=key).set_value(guess).run()
    else:
        guess = lesson_.options[0].id if guess is None else guess
        at.radio(key=key).set_value(guess).run()
    button(at, "Reveal the result").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return guess


def engine_reveal(lesson_, guess):
    """What the engine gives for this lesson, from the sweeps the page cached."""
    return lx.reveal(lesson_, [run_need(n) for n in lx.sweeps_for(lesson_)], guess)


def links(at):
    return [(p.proto.page, parse_qsl(p.proto.query_string)) for p in at.page_link]


def expected_links(lesson_):
    """The lesson's links as the page draws them: values of the target's controls as short keys."""
    out = []
    for link in lesson_.links:
        params = canonical_params(link.page, link.params)
        out.append(
            (link.page, [(k, v) for k, value in params.items() for v in ([value] if isinstance(value, str) else value)])
        )
    return out


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 6])
def test_every_lesson_renders_and_hides_the_answer_until_predicted(number):
    at = open_page(LESSONS, lesson=str(number))
    expected = lesson(number)
    assert not at.exception and not at.error
    assert at.radio(key="lesson").value == number
    assert at.header[0].value == f"{number}. {expected.title}"
    assert expected.text("Question") in texts(at)
    assert "What happened" not in [s.value for s in at.subheader]
    assert not at.get("plotly_chart") and not at.page_link and not at.metric
    reveal = button(at, "Reveal the result")
    if expected.slider is None:
        assert at.radio(key="answer").value is None
        assert reveal.disabled  # no answer, no reveal
        assert "Choose an answer to reveal the result." in [c.value for c in at.caption]
    else:
        assert not reveal.disabled


def test_a_reveal_that_trains_says_how_long_before_it_starts_and_not_once_trained(monkeypatch, tmp_path):
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(tmp_path))  # nothing trained yet
    expected = lesson(4)
    models = sum(len(n.spec.rhos) * len(n.spec.seeds) * len(n.spec.models) for n in lx.sweeps_for(expected))
    at = open_page(LESSONS, lesson="4")
    cost = [c.value for c in at.caption if c.value.startswith("The first reveal of this lesson trains")]
    assert len(cost) == 1 and f"trains {models} models, " in cost[0] and " on this machine" in cost[0]
    predict_and_reveal(at, expected)
    button(at, "Hide the result and predict again").click().run()
    assert not any(c.value.startswith("The first reveal") for c in at.caption)  # cached: instant now


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 6])
def test_the_reveal_shows_the_engines_numbers_and_links_to_the_full_page(number):
    at = open_page(LESSONS, lesson=str(number))
    expected = lesson(number)
    guess = predict_and_reveal(at, expected)
    shown = engine_reveal(expected, guess)
    assert "What happened" in [s.value for s in at.subheader]
    assert shown.reveal in texts(at) and shown.why in texts(at)
    verdict = at.success if shown.verdict.hit else at.info
    assert shown.verdict.message in [v.value for v in verdict]
    if expected.slider is not None:
        assert next(m.value for m in at.metric if m.label == "Measured by the engine") == shown.verdict.result
    assert len(at.get("plotly_chart")) == len(expected.figures)
    assert links(at) == expected_links(expected)
    assert at.query_params.get("lesson") == (None if number == 1 else str(number))  # 1: the default
    if expected.slider is None:
        assert at.query_params["answer"] == guess  # the prediction is in the URL
    else:
        assert "guess" not in at.query_params  # the slider's start: the default
    with pytest.raises(Exception, match="disabled"):  # the prediction is locked once revealed
        (at.slider if expected.slider else at.radio)(key=prediction_key(expected)).set_value(
            expected.slider.max if expected.slider else expected.options[-1].id
        )


def test_the_reveal_follows_the_engine_not_the_text(monkeypatch):
    real = compute.correlation_view

    def fake(sweep, rho, a):
        view = real(sweep, rho, a)
        return replace(view, ood=replace(view.ood, value=12.34)) if rho == 0.9 else view

    monkeypatch.setattr(compute, "correlation_view", fake)
    at = open_page(LESSONS, lesson="3")
    predict_and_reveal(at, lesson(3), 60)
    assert next(m.value for m in at.metric if m.label == "Measured by the engine") == "12.3%"
    assert any("ranks 12.3% of the OOD pairs correctly" in t for t in texts(at))


def test_predict_again_hides_the_result_and_next_opens_the_next_lesson():
    at = open_page(LESSONS, lesson="2")
    predict_and_reveal(at, lesson(2), 20)
    button(at, "Hide the result").click().run()
    assert "What happened" not in [s.value for s in at.subheader] and not at.page_link
    predict_and_reveal(at, lesson(2), 10)
    button(at, "Next: lesson 3").click().run()
    assert at.header[0].value.startswith("3. ") and at.query_params["lesson"] in ("3", ["3"])
    assert "What happened" not in [s.value for s in at.subheader]


def test_lesson3_link_opens_correlation_shift_at_its_settings_on_the_same_sweep():
    at = open_page(LESSONS, lesson="3")
    predict_and_reveal(at, lesson(3), 70)
    trained = set(at.session_state["_sweeps"])
    main, toy = lesson(3).links
    at.switch_page(main.file)
    at.query_params.clear()
    at.query_params.update(main.params)
    at.run()
    assert not at.exception and not at.error
    assert at.select_slider(key="rho").value == 0.9 and at.selectbox(key="scale").value == "likert"
    assert set(at.session_state["_sweeps"]) == trained  # the page found the lesson's sweep
    ood = next(m.value for m in at.metric if m.label == "OOD accuracy")
    assert ood == engine_reveal(lesson(3), 70).verdict.result
    at.switch_page(toy.file)
    at.query_params.clear()
    at.query_params.update(toy.params)
    at.run()
    assert at.slider(key="rho").value == pytest.approx(0.9)


def test_lesson2_link_opens_latent_overlap_with_continuous_factors():
    link = lesson(2).links[0]
    at = open_page(link.file, **link.params)
    assert not at.exception and not at.error
    assert at.selectbox(key="world").value == "correlated" and at.selectbox(key="scale").value == "continuous"
    assert at.select_slider(key="rho").value == 0.9


@pytest.mark.parametrize("number, models", [(4, ["base"]), (5, ["base", "multihead", "adversarial", "base+ipw"])])
def test_objective_lessons_link_to_user_objectives_on_the_same_sweeps(number, models):
    at = open_page(LESSONS, lesson=str(number))
    predict_and_reveal(at, lesson(number))
    trained = set(at.session_state["_sweeps"])
    link = lesson(number).links[0]
    at.switch_page(link.file)
    at.query_params.clear()
    at.query_params.update(link.params)
    at.run()
    assert at.select_slider(key="rho").value == lesson(number).settings["rho" if number == 4 else "top"]
    assert at.multiselect(key="arch").value == models
    assert set(at.session_state["_sweeps"]) == trained


def test_lesson6_link_opens_interventions_on_the_same_sweep():
    at = open_page(LESSONS, lesson="6")
    shown = engine_reveal(lesson(6), predict_and_reveal(at, lesson(6), "targeted"))
    trained = set(at.session_state["_sweeps"])
    link = lesson(6).links[0]
    at.switch_page(link.file)
    at.query_params.clear()
    at.query_params.update(link.params)
    at.run()
    assert not at.exception and not at.error
    assert at.select_slider(key="rho").value == 0.9 and at.select_slider(key="budget").value == 200
    assert set(at.session_state["_sweeps"]) == trained  # the page found the lesson's sweep
    best = next(m for m in at.metric if m.label.startswith("Best at 200 labels"))
    assert best.label.endswith(shown.outcome.text["winner"]) and best.value == shown.outcome.text["winner_acc"]


def test_a_teacher_link_can_pin_the_lesson():
    at = open_page(LESSONS, lesson="4", hide="lesson")
    assert not at.exception and not at.error
    assert at.header[0].value.startswith("4. ")
    assert not any(r.key == "lesson" for r in at.radio)  # no lesson picker for the student
    assert not any("hide" in c.value for c in at.caption)
    predict_and_reveal(at, lesson(4))
    assert not any(b.label.startswith("Next: lesson") for b in at.button)


def test_the_prediction_is_in_the_url_and_starts_afresh_in_another_lesson():
    at = open_page(LESSONS, lesson="3", guess="65")
    assert not at.exception and not at.error
    assert at.slider(key="guess").value == 65
    at.slider(key="guess").set_value(70).run()
    assert at.query_params["guess"] == "70" and at.query_params["lesson"] == "3"
    at.radio(key="lesson").set_value(1).run()  # a choice lesson: no slider guess
    assert at.radio(key="answer").value is None and "guess" not in at.query_params
    at.radio(key="answer").set_value("b").run()
    assert at.query_params["answer"] == "b" and "lesson" not in at.query_params  # lesson 1: the default
    at.radio(key="lesson").set_value(2).run()
    assert at.slider(key="guess").value == lesson(2).slider.start and "answer" not in at.query_params
    linked = open_page(LESSONS, answer="same")  # lesson 1 is the default
    assert linked.radio(key="answer").value == "same"


def test_a_broken_lesson_file_is_a_plain_error(tmp_path, monkeypatch):
    for path in (ROOT / "causalpref" / "ui" / "lessons" / "text").glob("*.md"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    broken = tmp_path / "3_correlation.md"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("{ood} of the OOD", "{oood} of the OOD"), encoding="utf-8"
    )
    monkeypatch.setenv("CAUSALPREF_LESSONS", str(tmp_path))
    at = open_page(LESSONS)
    assert not at.exception
    message = shown(at.error[0].value)
    assert "3_correlation.md, line" in message and "{oood}" in message


def test_assumptions_page_gives_each_assumption_an_example_and_a_page():
    at = open_page(ASSUMPTIONS)
    assert not at.exception and not at.error
    content = lx.load_assumptions(lesson_count=5)
    assert [s.value for s in at.subheader] == [item.name for item in content.items]
    pages = set(lx.page_files())
    targets = links(at)
    assert all(page in pages for page, _ in targets)
    assert ("Latent_overlap", [("scale", "continuous"), ("rho", "0.9")]) in targets  # short keys
    assert ("Lessons", [("lesson", "2")]) in targets
    assert sum(1 for page, _ in targets if page == "Lessons") == sum(1 for i in content.items if i.lesson)
