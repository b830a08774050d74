"""The assumptions page's content: lessons/assumptions.md, parsed and validated.

    ---
    title: The assumptions behind a reward model
    ---

    ## Intro
    A few sentences.

    ## Positivity
    says: what the assumption asks of the data (markdown; may run over several lines)
    breaks: one concrete way it fails in preference data
    shown: User_objectives?rho=1.0 | Open User objectives at ρ = 1
    lesson: 5

Every section after Intro is one assumption; `says`, `breaks` and `shown` are required,
`lesson` (the number of a lesson that teaches it) is optional. A line that does not start
with a field name continues the field above it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from causalpref.errors import CausalPrefError
from causalpref.ui import pages as app_pages
from causalpref.ui.lessons.format import Link, front_matter, lessons_dir, parse_link, unwrap

FIELDS = ("says", "breaks", "shown", "lesson")
REQUIRED = ("says", "breaks", "shown")
FIELD_LINE = re.compile(r"^(says|breaks|shown|lesson)\s*:\s*(.*)$")


@dataclass(frozen=True)
class Assumption:
    name: str
    says: str
    breaks: str
    shown: Link
    lesson: int | None


@dataclass(frozen=True)
class Assumptions:
    title: str
    intro: str
    items: tuple[Assumption, ...]


def _fields(name: str, lines: list[tuple[int, str]], path: Path) -> dict[str, tuple[str, int]]:
    fields: dict[str, list] = {}
    current = None
    for number, line in lines:
        match = FIELD_LINE.match(line.strip())
        if match:
            key = match.group(1)
            if key in fields:
                raise CausalPrefError(f"{path.name}, line {number}, {name}: {key} is given twice")
            fields[key], current = [match.group(2).strip(), number], key
        elif line.strip():
            if current is None:
                raise CausalPrefError(
                    f"{path.name}, line {number}, {name}: start with one of {', '.join(f + ':' for f in FIELDS)}"
                )
            fields[current][0] += " " + line.strip()
    for key in REQUIRED:
        if key not in fields or not fields[key][0]:
            raise CausalPrefError(f"{path.name}, {name}: the assumption needs '{key}:'")
    return {key: (text.strip(), number) for key, (text, number) in fields.items()}


def load_assumptions(path=None, lesson_count: int | None = None) -> Assumptions:
    """Parse assumptions.md (default: beside the lessons). `lesson_count`, when given, is
    the number of lessons a `lesson:` field may name."""
    path = Path(path) if path is not None else lessons_dir() / "assumptions.md"
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as error:
        raise CausalPrefError(f"{path}: cannot read the assumptions ({error})") from None
    front, at, body = front_matter(lines, path)
    extra = sorted(set(front) - {"title", "link"}) + (["link"] if front["link"] else [])
    if extra:
        raise CausalPrefError(f"{path.name}: the front matter takes only 'title:', not {extra}")
    if not front.get("title"):
        raise CausalPrefError(f"{path.name}: the front matter needs 'title:'")
    sections: list[tuple[str, int, list]] = []
    for i in range(body, len(lines)):
        heading = re.match(r"^##\s+(.+?)\s*$", lines[i])
        if heading:
            if any(name == heading.group(1) for name, _, _ in sections):
                raise CausalPrefError(f"{path.name}, line {i + 1}: section {heading.group(1)!r} appears twice")
            sections.append((heading.group(1), i + 1, []))
        elif sections:
            sections[-1][2].append((i + 1, lines[i]))
        elif lines[i].strip():
            raise CausalPrefError(f"{path.name}, line {i + 1}: text before the first section; start with '## Intro'")
    if not sections or sections[0][0] != "Intro":
        raise CausalPrefError(f"{path.name}: the first section must be '## Intro'")
    intro = unwrap("\n".join(line for _, line in sections[0][2]).strip())
    if not intro:
        raise CausalPrefError(f"{path.name}, line {sections[0][1]}: section Intro is empty")
    if len(sections) < 2:
        raise CausalPrefError(f"{path.name}: no assumption sections after Intro")
    pages = app_pages.page_keys()
    items = []
    for name, _line, content in sections[1:]:
        fields = _fields(name, content, path)
        shown_text, shown_line = fields["shown"]
        link = parse_link(shown_text, f"{path.name}, line {shown_line}, {name}, shown", {}, pages)
        lesson = None
        if "lesson" in fields:
            text, number = fields["lesson"]
            if not text.isdigit() or int(text) < 1 or (lesson_count is not None and int(text) > lesson_count):
                limit = f" from 1 to {lesson_count}" if lesson_count is not None else ""
                raise CausalPrefError(
                    f"{path.name}, line {number}, {name}, lesson: expected a lesson number{limit}, got {text!r}"
                )
            lesson = int(text)
        items.append(
            Assumption(name=name, says=fields["says"][0], breaks=fields["breaks"][0], shown=link, lesson=lesson)
        )
    return Assumptions(title=front["title"], intro=intro, items=tuple(items))
