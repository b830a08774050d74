"""A lesson's reveal: run its computation on the sweeps, judge the reader's prediction,
fill the Reveal and Why sections with the engine's numbers."""

from __future__ import annotations

from dataclasses import dataclass

from causalpref.errors import CausalPrefError
from causalpref.ui.lessons.compute import Outcome
from causalpref.ui.lessons.format import Lesson, fill, unwrap


@dataclass(frozen=True)
class Verdict:
    guess: str  # the reader's prediction, as shown
    result: str  # what the engine gives, as shown
    hit: bool
    message: str


@dataclass
class Revealed:
    lesson: Lesson
    outcome: Outcome
    reveal: str
    why: str
    verdict: Verdict
    figures: list  # (name, figure) in the lesson's order
    tables: list  # (name, DataFrame)


def sweeps_for(lesson: Lesson):
    """The sweeps the lesson's computation needs (kind, spec, what), in order."""
    return lesson.computation.needs(lesson.settings)


def verdict(lesson: Lesson, outcome: Outcome, guess) -> Verdict:
    if lesson.slider is not None:
        slider = lesson.slider
        try:
            guess = float(guess)
        except (TypeError, ValueError):
            raise CausalPrefError(f"lesson {lesson.number}: the guess must be a number, got {guess!r}") from None
        result = float(outcome.numbers[lesson.answer])
        diff = guess - result
        hit = abs(diff) <= slider.tolerance
        unit = " points" if slider.unit == "%" else ""
        shown = f"{result:.1f}{slider.unit}"  # as the reveal's placeholders print it
        message = (
            f"You guessed {slider.show(guess)}; the engine measured {shown}"
            + (
                " — spot on."
                if abs(diff) < 0.05
                else f": your guess is {abs(diff):.1f}{unit} {'too high' if diff > 0 else 'too low'}."
            )
            + (f" Within {slider.tolerance:g}{unit}: well predicted." if hit and abs(diff) >= 0.05 else "")
        )
        return Verdict(guess=slider.show(guess), result=shown, hit=hit, message=message)
    answer = outcome.choices[lesson.answer]
    hit = guess == answer
    chosen = lesson.option_text(guess)
    right = lesson.option_text(answer)
    message = f"You chose “{chosen}”. " + (
        "The engine's numbers agree." if hit else f"The engine's numbers point to “{right}”."
    )
    return Verdict(guess=chosen, result=right, hit=hit, message=message)


def reveal(lesson: Lesson, sweeps, guess) -> Revealed:
    """Run the lesson's computation on its sweeps and fill the Reveal and Why sections."""
    outcome = lesson.computation.run(lesson.settings, list(sweeps))
    missing = [k for k in lesson.computation.values if k not in outcome.text]
    if missing:
        raise CausalPrefError(f"computation {lesson.computation.name!r} did not give {missing}")
    values = {**lesson.settings_text, **outcome.text}
    where = lesson.path.name
    return Revealed(
        lesson=lesson,
        outcome=outcome,
        reveal=fill(unwrap(lesson.sections["Reveal"]), values, f"{where}, Reveal"),
        why=fill(unwrap(lesson.sections["Why"]), values, f"{where}, Why"),
        verdict=verdict(lesson, outcome, guess),
        figures=[(name, outcome.figures[name]) for name in lesson.figures],
        tables=[(name, outcome.tables[name]) for name in lesson.tables],
    )
