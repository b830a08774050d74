"""Lessons engine: the file format (parse, validate, errors naming file/line/field), the
computations (every placeholder filled, numbers from the engine), verdicts, assumptions.

Sweeps are small stand-ins of the pages' specs (same code path, seconds to train), shared by
this module's tests through one cache directory.
"""

from dataclasses import replace
from pathlib import Path

import pytest
from apptest_helpers import run_need, tiny_interventions_spec, tiny_objectives_spec

from causalpref.data.worlds import CorrelatedFactorsWorld
from causalpref.errors import CausalPrefError
from causalpref.run.specs import Exp1Spec, SplitSizes
from causalpref.ui import lessons as lx
from causalpref.ui.lessons import compute
from causalpref.ui.views import interventions as iv
from causalpref.ui.views import objectives as ov

ROOT = Path(__file__).resolve().parents[1]
LESSON_DIR = ROOT / "causalpref" / "ui" / "lessons" / "text"


def tiny_correlation_spec(scale):
    return replace(
        Exp1Spec(),
        world=CorrelatedFactorsWorld(scale=scale),
        rhos=(0.0, 0.9),
        seeds=(0,),
        sizes=SplitSizes(train=400, val=100, id=300, ood=300),
    )


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("lesson-cache")


@pytest.fixture
def tiny(monkeypatch, shared_cache):
    """The lessons' sweeps at a small size, cached for the whole module."""
    monkeypatch.setattr(compute, "page_spec", tiny_correlation_spec)
    monkeypatch.setattr(ov, "objectives_spec", tiny_objectives_spec)
    monkeypatch.setattr(iv, "page_spec", tiny_interventions_spec)
    monkeypatch.setenv("CAUSALPREF_CACHE_DIR", str(shared_cache))


def sweeps(lesson):
    return [run_need(need) for need in lx.sweeps_for(lesson)]


def by_number(n):
    return lx.load_lessons()[n - 1]


# --------------------------------------------------------------------------- the shipped lessons


def test_the_six_lessons_load_in_order_with_predictions_and_links():
    book = lx.load_lessons()
    assert [lesson.number for lesson in book] == [1, 2, 3, 4, 5, 6]
    assert [lesson.computation.name for lesson in book] == [
        "pairs",
        "overlap",
        "correlation",
        "objectives",
        "remedies",
        "interventions",
    ]
    assert [lesson.kind for lesson in book] == ["choice", "slider", "slider", "choice", "choice", "choice"]
    pages = lx.page_files()
    for lesson in book:
        assert lesson.links, lesson.title
        assert all(link.page in pages and link.file == pages[link.page] for link in lesson.links)
        assert "{" not in lesson.text("Intro") and "{" not in lesson.text("Question")
    assert book[2].links[0].url == "Correlation_shift?rho=0.9&scale=likert"
    assert book[4].links[0].params["arch"] == ["Base", "Multihead", "Adversarial", "Base (IPW)"]


def test_questions_reveal_nothing_before_the_engine_runs():
    for lesson in lx.load_lessons():
        with pytest.raises(CausalPrefError, match="computed values"):
            lesson.text("Reveal")


@pytest.mark.parametrize("number", [1, 2, 3, 4, 5, 6])
def test_every_placeholder_is_filled_from_the_engine(tiny, number):
    lesson = by_number(number)
    guess = lesson.slider.start if lesson.slider else lesson.options[0].id
    shown = lx.reveal(lesson, sweeps(lesson), guess)
    for text in (shown.reveal, shown.why, shown.verdict.message):
        assert "{" not in text and "}" not in text and "nan" not in text.lower()
    assert [name for name, _ in shown.figures] == list(lesson.figures)
    assert [name for name, _ in shown.tables] == list(lesson.tables)
    assert set(lesson.computation.values) <= set(shown.outcome.text)
    if lesson.slider is None:
        assert shown.outcome.choices[lesson.answer] in {o.id for o in lesson.options}


def test_lesson3_reveal_changes_when_the_engine_does(tiny, monkeypatch):
    lesson = by_number(3)
    data = sweeps(lesson)
    real = compute.correlation_view
    before = lx.reveal(lesson, data, 60)
    assert real(data[0], 0.9, 0.25).ood.value == pytest.approx(float(before.verdict.result.rstrip("%")), abs=0.05)

    def fake(sweep, rho, a):
        view = real(sweep, rho, a)
        return replace(view, ood=replace(view.ood, value=12.34)) if rho == 0.9 else view

    monkeypatch.setattr(compute, "correlation_view", fake)
    after = lx.reveal(lesson, data, 60)
    assert "12.3% of the OOD pairs" in after.reveal and "12.3% of the OOD pairs" not in before.reveal
    assert after.verdict.result == "12.3%" and not after.verdict.hit


def test_lesson1_choice_answer_is_computed_not_typed(tiny, monkeypatch):
    lesson = by_number(1)
    data = sweeps(lesson)
    assert lx.reveal(lesson, data, "same").verdict.hit
    real = compute.btl_loss
    # an engine in which a shift did matter would make the reveal name model A
    monkeypatch.setattr(
        compute, "btl_loss", lambda margin, label: real(margin, label) * compute.torch.tensor([1.0, 2.0])
    )
    shown = lx.reveal(lesson, data, "same")
    assert not shown.verdict.hit and "Model A" in shown.verdict.result


def test_lesson2_numbers_are_the_overlap_views(tiny):
    lesson = by_number(2)
    shown = lx.reveal(lesson, [], 20)
    view = compute.overlap_view("correlated", "continuous", "truthfulness", "instruction_following", 0.9, 0)
    assert f"{100 * view.summary.q24_train:.1f}% of the {view.summary.n_train:,} training pairs" in shown.reveal
    assert shown.outcome.numbers["q24"] == pytest.approx(100 * view.summary.q24_train)
    masses = shown.tables[0][1]
    assert list(masses["ρ"]) == [0.0, 0.3, 0.6, 0.9]
    assert masses["training pairs in quadrants 2/4 %"].is_monotonic_decreasing


def test_lesson5_reads_every_architecture_and_the_rho1_limit(tiny):
    lesson = by_number(5)
    shown = lx.reveal(lesson, sweeps(lesson), "none")
    table = shown.tables[0][1]
    assert list(table["model"]) == ["Base", "Multihead", "Adversarial", "Base (IPW)"]
    assert {"inconsistent % at ρ = 0.5", "inconsistent % at ρ = 0.9", "inconsistent % at ρ = 1"} <= set(table)
    numbers = shown.outcome.numbers
    best = max(numbers[f"{m}_top"] for m in compute.REMEDIES_MODELS)
    assert (shown.outcome.choices["rescuer"] == "none") == (best - 50 < ov.CLOSE_POINTS)


def test_lesson6_answer_is_the_engines_winner_at_the_budget(tiny):
    lesson = by_number(6)
    data = sweeps(lesson)
    spec = iv.page_spec("exp1", 0.9)
    curves = iv.summary.curves(data[0].results, "ood")
    at_budget = curves[(curves["budget"] == 200) & curves["strategy"].isin(spec.strategies)].set_index("strategy")
    winner = at_budget["mean"].idxmax()
    shown = lx.reveal(lesson, data, winner)
    assert shown.verdict.hit and shown.outcome.choices["winner"] == winner
    assert f"ranks {at_budget.loc[winner, 'mean']:.1f}% of the OOD pairs" in shown.reveal
    for name in spec.strategies:  # every strategy's number at the budget, as the engine gives it
        assert shown.outcome.text[name] == f"{at_budget.loc[name, 'mean']:.1f}%"
    assert [name for name, _ in shown.tables] == ["cost"] and len(shown.tables[0][1]) == len(spec.strategies)


def test_lesson6_reveal_changes_when_the_engine_does(tiny, monkeypatch):
    lesson = by_number(6)
    data = sweeps(lesson)
    before = lx.reveal(lesson, data, "uniform")
    real = compute.iv.summary.curves

    def fake(results, split):  # an engine in which uniform pairs were worth far more
        frame = real(results, split)
        chosen = (frame["strategy"] == "uniform") & (frame["budget"] == 200)
        return frame.assign(mean=frame["mean"].where(~chosen, 97.5))

    monkeypatch.setattr(compute.iv.summary, "curves", fake)
    after = lx.reveal(lesson, data, "uniform")
    assert after.verdict.hit and after.outcome.choices["winner"] == "uniform"
    assert "Uniform ranks 97.5% of the OOD pairs" in after.reveal and "97.5%" not in before.reveal


# --------------------------------------------------------------------------- verdicts


def test_slider_verdict_says_how_far_off_and_whether_within_tolerance():
    lesson = by_number(3)
    outcome = compute.Outcome(text={}, numbers={"ood": 58.6})
    near, far = lx.verdict(lesson, outcome, 60), lx.verdict(lesson, outcome, 80)
    assert near.hit and "1.4 points too high" in near.message and "well predicted" in near.message
    assert not far.hit and "21.4 points too high" in far.message
    assert near.guess == "60%" and near.result == "58.6%"


def test_choice_verdict_names_the_engine_answer():
    lesson = by_number(4)
    outcome = compute.Outcome(text={}, choices={"worse": "inconsistent"})
    assert lx.verdict(lesson, outcome, "inconsistent").hit
    wrong = lx.verdict(lesson, outcome, "neither")
    assert not wrong.hit and "Inconsistent pairs" in wrong.message


# --------------------------------------------------------------------------- bad files

GOOD = (LESSON_DIR / "3_correlation.md").read_text(encoding="utf-8")


def write(tmp_path, text, name="3_correlation.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text, needle):
    return next(i + 1 for i, line in enumerate(text.split("\n")) if needle in line)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.replace("---\n", "", 1), r"3_correlation\.md, line 1: a lesson starts with a front matter"),
        (lambda t: t.replace("answer: ood", "answer: ood\ncolour: red"), r"line 6: expected 'field: value'"),
        (
            lambda t: t.replace("compute: correlation", "compute: magic"),
            r"line 3, compute: unknown computation 'magic'",
        ),
        (lambda t: t.replace("rho=0.9,", "rho=2,"), r"line 4, settings, rho: expected one of"),
        (lambda t: t.replace("n=100, ", ""), r"line 4, settings: .*missing \['n'\]"),
        (lambda t: t.replace("seed=0", "seed=0, colour=red"), r"unknown \['colour'\]"),
        (lambda t: t.replace("answer: ood", "answer: spurious"), r"line 5, answer: a slider guess is checked"),
        (lambda t: t.replace("figures: curves", "figures: pie"), r"line 6, figures: unknown figure\(s\) \['pie'\]"),
        (lambda t: t.replace("Correlation_shift?", "Nowhere?"), r"line 7, link: no page 'Nowhere'"),
        (lambda t: t.replace("## Why", "## Because"), r"unknown section 'Because'"),
        (lambda t: t.replace("slider: min=0,", "slider: min=200,"), r"Question: expected min < max"),
        (
            lambda t: t.replace("slider: min=0, max=100, step=1, start=50, unit=%, tolerance=5\n", ""),
            r"Question: give at least two options",
        ),
    ],
)
def test_bad_lesson_files_name_file_line_and_field(tmp_path, change, message):
    with pytest.raises(CausalPrefError, match=message):
        lx.load_lesson(write(tmp_path, change(GOOD)))


def test_a_typed_result_in_the_reveal_is_refused_with_its_line(tmp_path):
    text = GOOD.replace("a gap of {gap}.", "a gap of 15.9 points.")
    with pytest.raises(
        CausalPrefError, match=rf"line {line_of(text, '15.9 points')}, Reveal: '15.9' looks like a typed"
    ):
        lx.load_lesson(write(tmp_path, text))
    text = GOOD.replace("exactly the\npairs", "exactly the 40% of\npairs")
    with pytest.raises(CausalPrefError, match=r"Why: '40%' looks like a typed result"):
        lx.load_lesson(write(tmp_path, text))


def test_unknown_placeholders_are_refused_where_they_stand(tmp_path):
    text = GOOD.replace("{ood} of the OOD", "{oood} of the OOD")
    with pytest.raises(
        CausalPrefError, match=rf"line {line_of(text, '{oood}')}, Reveal: unknown placeholder \{{oood\}}"
    ):
        lx.load_lesson(write(tmp_path, text))
    text = GOOD.replace("how many OOD pairs", "how many of the {ood} OOD pairs")
    with pytest.raises(
        CausalPrefError,
        match=r"Question: unknown placeholder \{ood\}; computed values are filled "
        r"only in Reveal and Why",
    ):
        lx.load_lesson(write(tmp_path, text))
    with pytest.raises(CausalPrefError, match=r"a placeholder is a plain name"):
        lx.load_lesson(write(tmp_path, GOOD.replace("{ood} of the OOD", "{ood:.1f} of the OOD")))


def test_choice_options_must_cover_every_answer_the_engine_can_give(tmp_path):
    text = (
        (LESSON_DIR / "4_objectives.md")
        .read_text(encoding="utf-8")
        .replace("- neither: Neither: about the same on both\n", "")
    )
    with pytest.raises(
        CausalPrefError, match=r"4_objectives\.md, line \d+, Question: the engine may answer \['neither'\]"
    ):
        lx.load_lesson(write(tmp_path, text, "4_objectives.md"))


def test_a_missing_section_and_a_gap_in_the_numbering(tmp_path):
    with pytest.raises(CausalPrefError, match=r"missing section\(s\) ## Why"):
        lx.load_lesson(write(tmp_path, GOOD.split("## Why")[0]))
    (tmp_path / "x").mkdir()
    write(tmp_path / "x", (LESSON_DIR / "1_pairs.md").read_text(encoding="utf-8"), "1_pairs.md")
    write(tmp_path / "x", GOOD)
    with pytest.raises(CausalPrefError, match=r"must run 1, 2, 3, … once each, got \[1, 3\]"):
        lx.load_lessons(tmp_path / "x")
    with pytest.raises(CausalPrefError, match="no lesson files"):
        lx.load_lessons(tmp_path / "empty-dir-that-does-not-exist")


def test_a_translated_copy_is_read_from_the_environment(tmp_path, monkeypatch):
    for path in LESSON_DIR.glob("*.md"):
        write(
            tmp_path,
            path.read_text(encoding="utf-8").replace(
                "title: Correlated factors break out of distribution", "title: Des facteurs corrélés"
            ),
            path.name,
        )
    monkeypatch.setenv("CAUSALPREF_LESSONS", str(tmp_path))
    assert lx.load_lessons()[2].title == "Des facteurs corrélés"
    assert len(lx.load_assumptions().items) == 7


# --------------------------------------------------------------------------- assumptions


def test_the_assumptions_each_have_an_example_and_a_page():
    content = lx.load_assumptions(lesson_count=5)
    names = [item.name for item in content.items]
    assert names[:5] == ["Consistency", "Unconfoundedness", "Positivity", "Latent sufficiency", "Latent positivity"]
    assert any(name.startswith("Conditional unconfoundedness") for name in names)
    assert any(name.startswith("Conditional positivity") for name in names)
    pages = lx.page_files()
    for item in content.items:
        assert item.says and item.breaks and item.shown.page in pages
        assert item.lesson is None or 1 <= item.lesson <= 5


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda t: t.replace("shown: Latent_overlap | ", "shown: Latent_overlop | "),
            r"line \d+, Latent sufficiency, shown: no page",
        ),
        (
            lambda t: t.replace("lesson: 5", "lesson: 9"),
            r"Conditional positivity.*lesson: expected a lesson number from 1 to 5",
        ),
        (
            lambda t: t.replace("breaks: Users write", "Users write"),
            r"Unconfoundedness: the assumption needs 'breaks:'",
        ),
        (lambda t: t.replace("## Intro", "## Preface"), r"the first section must be '## Intro'"),
    ],
)
def test_bad_assumption_files_name_the_line_and_the_assumption(tmp_path, change, message):
    text = change((LESSON_DIR / "assumptions.md").read_text(encoding="utf-8"))
    with pytest.raises(CausalPrefError, match=message):
        lx.load_assumptions(write(tmp_path, text, "assumptions.md"), lesson_count=5)


# --------------------------------------------------------------------------- helpers for editors


def test_a_placeholder_at_the_start_of_a_line_never_starts_a_markdown_list():
    lesson = by_number(1)
    assert "gives them 2 and 1. Model B adds 5" in lesson.text("Question")
    assert lx.unwrap("a\n- item\n  more\n\nnext") == "a\n- item more\n\nnext"


def test_the_checker_lists_computations_and_fails_on_a_broken_file(tmp_path, capsys):
    from causalpref.ui.lessons.__main__ import main

    assert main([str(LESSON_DIR)]) == 0
    out = capsys.readouterr().out
    assert "compute: correlation" in out and "ok  assumptions.md: 7 assumptions" in out
    for path in LESSON_DIR.glob("*.md"):
        write(tmp_path, path.read_text(encoding="utf-8"), path.name)
    write(tmp_path, GOOD.replace("{ood} of the OOD", "{oood} of the OOD"))
    assert main([str(tmp_path)]) == 2
    assert "3_correlation.md, line" in capsys.readouterr().err
