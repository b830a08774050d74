"""Teaching mode: short lessons whose text lives in lessons/*.md and whose numbers come from
the engine. No streamlit here; app_pages/6_Lessons.py and app_pages/7_Assumptions.py show them.

- format.py       the lesson file format: parse, validate (errors name file, line, field), fill
- reveal.py       run a lesson's computation, judge the prediction, fill the result sections
- compute.py      what each lesson reveals, computed by the existing views and engine
- assumptions.py  lessons/assumptions.md: each causal assumption, how it breaks, which page shows it
"""

from causalpref.ui.lessons.assumptions import Assumption, Assumptions, load_assumptions
from causalpref.ui.lessons.compute import COMPUTATIONS, Computation, Outcome, SweepNeed
from causalpref.ui.lessons.format import (
    LESSONS_DIR,
    Lesson,
    Link,
    Option,
    Slider,
    lessons_dir,
    load_lesson,
    load_lessons,
    page_files,
    unwrap,
)
from causalpref.ui.lessons.reveal import Revealed, Verdict, reveal, sweeps_for, verdict

__all__ = [
    "COMPUTATIONS",
    "LESSONS_DIR",
    "Assumption",
    "Assumptions",
    "Computation",
    "Lesson",
    "Link",
    "Option",
    "Outcome",
    "Revealed",
    "Slider",
    "SweepNeed",
    "Verdict",
    "lessons_dir",
    "load_assumptions",
    "load_lesson",
    "load_lessons",
    "page_files",
    "reveal",
    "sweeps_for",
    "unwrap",
    "verdict",
]
