"""The lesson file format: parse, validate, fill. (lessons/README.md describes it for editors.)

A lesson is one markdown file, `lessons/<number>_<name>.md`:

    ---
    title: Correlated factors break out of distribution
    compute: correlation                       # a computation of causalpref.ui.lessons.compute
    settings: rho=0.9, low=0, scale=likert     # its inputs; also placeholders {rho}, {low}, ...
    answer: ood                                # the computed value the prediction is checked against
    figures: curves, boundary                  # optional: computed figures shown with the reveal
    tables: spread                             # optional: computed tables shown with the reveal
    diagrams: Self-written prompts             # optional: causal diagrams shown with the intro
    link: Correlation_shift?rho={rho}&scale={scale} | Open Correlation shift at ρ = {rho}
    ---

    ## Intro
    A few plain sentences (markdown).

    ## Question
    The question. Then either options, one per line, `- id: text`, or one slider line:
    slider: min=0, max=100, step=1, start=50, unit=%, tolerance=5

    ## Reveal
    What happened, with {placeholders} for every result: a typed result (a decimal number
    or a percentage) is refused.

    ## Why
    The plain explanation (same placeholder rules as Reveal).

`link:` may repeat; the first is the lesson's main link. Lines starting with `#` in the
front matter are comments. `{{` and `}}` are literal braces. Every error names the file,
the line and the field.
"""

from __future__ import annotations

import math
import os
import re
import string
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from causalpref.errors import CausalPrefError
from causalpref.ui import pages as app_pages
from causalpref.ui.diagrams import DIAGRAMS
from causalpref.ui.lessons.compute import COMPUTATIONS, Computation

LESSONS_DIR = Path(__file__).resolve().parent / "text"  # shipped with the package
LESSONS_ENV = "CAUSALPREF_LESSONS"  # a translated copy of lessons/, e.g. lessons/fr

FRONT_FIELDS = {"title", "compute", "settings", "answer", "figures", "tables", "diagrams", "link"}
REQUIRED_FIELDS = ("title", "compute", "settings", "answer", "link")
SECTIONS = ("Intro", "Question", "Reveal", "Why")
RESULT_SECTIONS = ("Reveal", "Why")  # only these may use computed values
SLIDER_FIELDS = {"min", "max", "step", "start", "unit", "tolerance"}
# A typed result: a decimal number (57.8) or a percentage (60 %, 60%). Integers such as
# "quadrants 2 and 4" are allowed.
TYPED_RESULT = re.compile(r"\d+\.\d+|\d+\s*%")
OPTION = re.compile(r"^-\s+([A-Za-z0-9_-]+)\s*:\s*(.+)$")


# --------------------------------------------------------------------------- the parsed lesson


@dataclass(frozen=True)
class Link:
    """A link to a page of the app: `page` is its key, which is also its URL path (e.g.
    Correlation_shift); causalpref.ui.pages knows the page behind it."""

    page: str
    query: tuple[tuple[str, str], ...]
    label: str

    @property
    def file(self) -> str:
        """What st.page_link takes, from causalpref.ui.pages (the one place that names files)."""
        return app_pages.file_of(self.page)

    @property
    def url(self) -> str:
        return self.page + (f"?{urlencode(self.query)}" if self.query else "")

    @property
    def params(self) -> dict[str, str | list[str]]:
        """The query as a dict; a repeated key (arch=Base&arch=Multihead) maps to a list."""
        out: dict = {}
        for key, value in self.query:
            if key in out:
                out[key] = (out[key] if isinstance(out[key], list) else [out[key]]) + [value]
            else:
                out[key] = value
        return out


@dataclass(frozen=True)
class Option:
    id: str
    text: str


@dataclass(frozen=True)
class Slider:
    min: float
    max: float
    step: float
    start: float
    unit: str
    tolerance: float

    def show(self, value: float) -> str:
        return f"{value:g}{self.unit}"

    @property
    def sprintf(self) -> str:
        """The slider's display format for st.slider (sprintf-js: %d or %.Nf, a literal % doubled)."""
        decimals = 0 if float(self.step).is_integer() else len(f"{self.step:g}".split(".")[-1])
        number = "%d" if decimals == 0 else f"%.{decimals}f"
        return number + self.unit.replace("%", "%%")


@dataclass(frozen=True)
class Lesson:
    number: int
    path: Path
    title: str
    computation: Computation
    settings: dict  # parsed values
    settings_text: dict  # as written, for the placeholders
    answer: str
    options: tuple[Option, ...]
    slider: Slider | None
    sections: dict[str, str]  # raw text of Intro, Question, Reveal, Why
    figures: tuple[str, ...]
    tables: tuple[str, ...]
    diagrams: tuple[str, ...]
    links: tuple[Link, ...]

    @property
    def kind(self) -> str:
        return "slider" if self.slider is not None else "choice"

    def text(self, section: str) -> str:
        """A section before the reveal (Intro, Question): settings filled in."""
        if section in RESULT_SECTIONS:
            raise CausalPrefError(f"{section} needs the computed values: use reveal()")
        return fill(unwrap(self.sections[section]), self.settings_text)

    def option_text(self, option_id) -> str:
        for option in self.options:
            if option.id == option_id:
                return fill(option.text, self.settings_text)
        raise CausalPrefError(f"{self.path.name}: no option {option_id!r}")


# --------------------------------------------------------------------------- pages of the app


def page_files() -> dict[str, str]:
    """Page key -> file, from causalpref.ui.pages (kept for callers that want the files; the
    lessons themselves only use the keys)."""
    return app_pages.page_files()


def parse_link(text: str, where: str, values: dict, pages) -> Link:
    """`Page?key=value&... | label`, `Page` one of the page keys `pages`."""
    target, sep, label = text.partition("|")
    target, label = target.strip(), label.strip()
    if not sep or not target or not label:
        raise CausalPrefError(f"{where}: write a link as `Page?key=value&... | label`, got {text!r}")
    target, label = fill(target, values, where), fill(label, values, where)
    page, _, query = target.partition("?")
    if page not in pages:
        raise CausalPrefError(f"{where}: no page {page!r}; the app's pages are {sorted(pages)}")
    try:
        pairs = tuple(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise CausalPrefError(f"{where}: cannot read the query {query!r}; write key=value&key=value") from None
    return Link(page=page, query=pairs, label=label)


# --------------------------------------------------------------------------- placeholders


def _fields(text: str, where: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise CausalPrefError(f"{where}: {error} (write {{{{ and }}}} for literal braces)") from None
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise CausalPrefError(
                f"{where}: a placeholder is a plain name such as {{rho}}, got {{{name}"
                f"{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
            )
        names.append(name)
    return names


BLOCK_START = re.compile(r"^\s*([-*+]\s|\d+[.)]\s|#|>|\|)")


def unwrap(text: str) -> str:
    """Join the lines of each paragraph as written in the file, so that a filled placeholder
    at the start of a line ("{low}. Model B …" -> "1. Model B …") can never start a markdown
    list. Lines that begin a list item, heading, quote or table row keep their line break;
    blank lines keep separating paragraphs."""
    out: list[str] = []
    for line in text.split("\n"):
        if out and out[-1].strip() and line.strip() and not BLOCK_START.match(line):
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            out.append(line)
    return "\n".join(out)


def fill(text: str, values: dict, where: str = "") -> str:
    try:
        return text.format_map(values)
    except (KeyError, ValueError) as error:
        raise CausalPrefError(f"{where or 'lesson text'}: cannot fill {error}") from None


def _check_section(text: str, first_line: int, section: str, allowed: set[str], path: Path, computed: bool):
    for offset, line in enumerate(text.split("\n")):
        where = f"{path.name}, line {first_line + offset}, {section}"
        for name in _fields(line, where):
            if name not in allowed:
                hint = (
                    "computed values are filled only in Reveal and Why; here only the settings "
                    if not computed
                    else "known names: "
                )
                raise CausalPrefError(f"{where}: unknown placeholder {{{name}}}; {hint}{sorted(allowed)}")
        if computed:
            bare = re.sub(r"\{\{|\}\}|\{[^{}]*\}", " ", line)
            typed = TYPED_RESULT.search(bare)
            if typed:
                raise CausalPrefError(
                    f"{where}: {typed.group(0)!r} looks like a typed result; results come from "
                    f"the engine, so write a placeholder such as {{{sorted(allowed)[0]}}}"
                )


# --------------------------------------------------------------------------- parsing


def _split_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _key_values(text: str, where: str) -> dict[str, str]:
    pairs = {}
    for part in _split_list(text):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise CausalPrefError(f"{where}: expected key=value, got {part!r}")
        if key in pairs:
            raise CausalPrefError(f"{where}: {key!r} is given twice")
        pairs[key] = value
    return pairs


def front_matter(lines: list[str], path: Path) -> tuple[dict, dict, int]:
    """(fields, line of each field, index of the first line after the closing ---)."""
    if not lines or lines[0].strip() != "---":
        raise CausalPrefError(f"{path.name}, line 1: a lesson starts with a front matter block opened by '---'")
    fields, at = {"link": []}, {}
    for i in range(1, len(lines)):
        line = lines[i].strip()
        if line == "---":
            return fields, at, i + 1
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key, value = key.strip(), value.strip()
        where = f"{path.name}, line {i + 1}"
        if not sep or key not in FRONT_FIELDS:
            raise CausalPrefError(
                f"{where}: expected 'field: value' with a field among {sorted(FRONT_FIELDS)}, got {line!r}"
            )
        if key == "link":
            fields["link"].append((value, i + 1))
            continue
        if key in fields:
            raise CausalPrefError(f"{where}: {key} is given twice (first on line {at[key]})")
        fields[key], at[key] = value, i + 1
    raise CausalPrefError(f"{path.name}: the front matter opened on line 1 is never closed by '---'")


def _sections(lines: list[str], start: int, path: Path) -> tuple[dict[str, str], dict[str, int]]:
    text, first = {}, {}
    current = None
    for i in range(start, len(lines)):
        line = lines[i]
        heading = re.match(r"^##\s+(.+?)\s*$", line)
        if heading:
            name = heading.group(1)
            if name not in SECTIONS:
                raise CausalPrefError(
                    f"{path.name}, line {i + 1}: unknown section {name!r}; a lesson has {', '.join(SECTIONS)}"
                )
            if name in text:
                raise CausalPrefError(f"{path.name}, line {i + 1}: section {name} appears twice")
            current, text[name], first[name] = name, [], i + 2
            continue
        if current is None:
            if line.strip():
                raise CausalPrefError(
                    f"{path.name}, line {i + 1}: text before the first section; start with '## Intro'"
                )
            continue
        text[current].append(line)
    missing = [s for s in SECTIONS if s not in text]
    if missing:
        raise CausalPrefError(f"{path.name}: missing section(s) {', '.join('## ' + m for m in missing)}")
    out = {}
    for name, body in text.items():
        while body and not body[0].strip():  # keep line numbers right: count leading blanks
            body.pop(0)
            first[name] += 1
        out[name] = "\n".join(body).strip()
        if not out[name]:
            raise CausalPrefError(f"{path.name}, line {first[name] - 1}: section {name} is empty")
    return out, first


def _slider(text: str, where: str) -> Slider:
    values = _key_values(text, where)
    unknown = set(values) - SLIDER_FIELDS
    if unknown:
        raise CausalPrefError(f"{where}: unknown slider field(s) {sorted(unknown)}; use {sorted(SLIDER_FIELDS)}")
    numbers = {}
    for key in ("min", "max", "step", "start", "tolerance"):
        if key not in values and key in ("min", "max", "step"):
            raise CausalPrefError(f"{where}: the slider needs {key}=")
        try:
            numbers[key] = float(values[key]) if key in values else None
        except ValueError:
            raise CausalPrefError(f"{where}: slider {key} must be a number, got {values[key]!r}") from None
    low, high, step = numbers["min"], numbers["max"], numbers["step"]
    start = numbers["start"] if numbers["start"] is not None else (low + high) / 2
    tolerance = numbers["tolerance"] if numbers["tolerance"] is not None else step
    if not (
        low < high
        and 0 < step <= high - low
        and low <= start <= high
        and tolerance >= 0
        and all(math.isfinite(v) for v in (low, high, step, start, tolerance))
    ):
        raise CausalPrefError(
            f"{where}: expected min < max, 0 < step ≤ max − min, min ≤ start ≤ max and tolerance ≥ 0, got {text!r}"
        )
    return Slider(min=low, max=high, step=step, start=start, unit=values.get("unit", ""), tolerance=tolerance)


def _question(text: str, first_line: int, path: Path) -> tuple[str, tuple[Option, ...], Slider | None]:
    prose, options, slider = [], [], None
    for offset, line in enumerate(text.split("\n")):
        where = f"{path.name}, line {first_line + offset}, Question"
        stripped = line.strip()
        option = OPTION.match(stripped)
        if stripped.startswith("slider:"):
            if slider is not None:
                raise CausalPrefError(f"{where}: only one slider line per question")
            slider = _slider(stripped[len("slider:") :], where)
        elif option:
            if any(o.id == option.group(1) for o in options):
                raise CausalPrefError(f"{where}: option id {option.group(1)!r} is used twice")
            options.append(Option(option.group(1), option.group(2).strip()))
        else:
            if options or slider is not None:
                if stripped:
                    raise CausalPrefError(
                        f"{where}: the options or the slider line end the question; write the question text above them"
                    )
                continue
            prose.append(line)
    where = f"{path.name}, line {first_line}, Question"
    if slider is not None and options:
        raise CausalPrefError(f"{where}: a question has either options (- id: text) or a slider line, not both")
    if slider is None and len(options) < 2:
        raise CausalPrefError(
            f"{where}: give at least two options (- id: text) or a slider line (slider: min=…, max=…, step=…)"
        )
    question = "\n".join(prose).strip()
    if not question:
        raise CausalPrefError(f"{where}: the question text is empty")
    return question, tuple(options), slider


def load_lesson(path, number: int | None = None, pages=None) -> Lesson:
    """Parse and validate one lesson file; every error names the file, line and field."""
    path = Path(path)
    if number is None:
        match = re.match(r"^(\d+)_", path.name)
        if not match:
            raise CausalPrefError(f"{path.name}: a lesson file is named <number>_<name>.md, e.g. 3_correlation.md")
        number = int(match.group(1))
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as error:
        raise CausalPrefError(f"{path}: cannot read the lesson ({error})") from None
    pages = app_pages.page_keys() if pages is None else pages
    fields, at, body = front_matter(lines, path)
    for key in REQUIRED_FIELDS:
        if key == "link" and not fields["link"] or key != "link" and not fields.get(key):
            raise CausalPrefError(f"{path.name}: the front matter needs '{key}:'")

    name = fields["compute"]
    if name not in COMPUTATIONS:
        raise CausalPrefError(
            f"{path.name}, line {at['compute']}, compute: unknown computation {name!r}; "
            f"choose from {sorted(COMPUTATIONS)}"
        )
    computation = COMPUTATIONS[name]

    where = f"{path.name}, line {at['settings']}, settings"
    written = _key_values(fields["settings"], where)
    unknown = sorted(set(written) - set(computation.settings))
    missing = sorted(set(computation.settings) - set(written))
    if unknown or missing:
        raise CausalPrefError(
            f"{where}: computation {name!r} takes exactly {sorted(computation.settings)}"
            + (f"; unknown {unknown}" if unknown else "")
            + (f"; missing {missing}" if missing else "")
        )
    settings = {}
    for key, text in written.items():
        try:
            settings[key] = computation.settings[key](text)
        except CausalPrefError as error:
            raise CausalPrefError(f"{where}, {key}: {error}") from None
    # As written: links carry them to pages whose controls read values in their own format
    # (Correlation shift's ρ reads "0.0", User objectives' reads "1").
    settings_text = dict(written)

    sections, first = _sections(lines, body, path)
    question, options, slider = _question(sections["Question"], first["Question"], path)

    where = f"{path.name}, line {at['answer']}, answer"
    answer = fields["answer"]
    if slider is not None and answer not in computation.numbers:
        raise CausalPrefError(
            f"{where}: a slider guess is checked against a computed number; {name!r} gives "
            f"{list(computation.numbers)}, not {answer!r}"
        )
    if slider is None:
        if answer not in computation.outcomes:
            raise CausalPrefError(
                f"{where}: a choice question is checked against a computed choice; {name!r} "
                f"gives {list(computation.outcomes) or 'none (use a slider)'}, not {answer!r}"
            )
        missing = [o for o in computation.outcomes[answer] if o not in {opt.id for opt in options}]
        if missing:
            raise CausalPrefError(
                f"{path.name}, line {first['Question']}, Question: the engine may answer "
                f"{missing}, so the options need those ids (it can answer "
                f"{list(computation.outcomes[answer])})"
            )

    chosen = {}
    for key, known, what in (
        ("figures", computation.figures, "figure"),
        ("tables", computation.tables, "table"),
        ("diagrams", tuple(DIAGRAMS), "diagram"),
    ):
        chosen[key] = _split_list(fields.get(key, ""))
        bad = [item for item in chosen[key] if item not in known]
        if bad:
            raise CausalPrefError(
                f"{path.name}, line {at[key]}, {key}: unknown {what}(s) {bad}; choose from {list(known)}"
            )

    before = set(settings_text)
    after = before | set(computation.values)
    for section in SECTIONS:
        _check_section(
            sections[section],
            first[section],
            section,
            after if section in RESULT_SECTIONS else before,
            path,
            section in RESULT_SECTIONS,
        )
    links = tuple(
        parse_link(text, f"{path.name}, line {line}, link", settings_text, pages) for text, line in fields["link"]
    )
    return Lesson(
        number=number,
        path=path,
        title=fill(fields["title"], settings_text, f"{path.name}, title"),
        computation=computation,
        settings=settings,
        settings_text=settings_text,
        answer=answer,
        options=options,
        slider=slider,
        sections={**sections, "Question": question},
        figures=chosen["figures"],
        tables=chosen["tables"],
        diagrams=chosen["diagrams"],
        links=links,
    )


def lessons_dir() -> Path:
    return Path(os.environ.get(LESSONS_ENV) or LESSONS_DIR)


def load_lessons(directory=None) -> tuple[Lesson, ...]:
    """Every lesson of the directory (default lessons/, or $CAUSALPREF_LESSONS), in order;
    their numbers must run 1, 2, 3, … without gaps."""
    directory = Path(directory) if directory is not None else lessons_dir()
    paths = sorted(directory.glob("[0-9]*_*.md"), key=lambda p: int(re.match(r"^(\d+)", p.name).group(1)))
    if not paths:
        raise CausalPrefError(f"no lesson files (<number>_<name>.md) in {directory}")
    pages = app_pages.page_keys()
    lessons = tuple(load_lesson(path, pages=pages) for path in paths)
    numbers = [lesson.number for lesson in lessons]
    if numbers != list(range(1, len(lessons) + 1)):
        raise CausalPrefError(f"{directory}: lesson numbers must run 1, 2, 3, … once each, got {numbers}")
    return lessons
