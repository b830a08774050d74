"""python -m causalpref.ui.lessons [DIR]: check the lesson files and list what each computation gives.

Exit status 0 when every lesson and assumptions.md parse; 2 with the error otherwise.
"""

import sys

from causalpref.errors import CausalPrefError
from causalpref.ui.lessons.assumptions import load_assumptions
from causalpref.ui.lessons.compute import COMPUTATIONS
from causalpref.ui.lessons.format import lessons_dir, load_lessons


def catalogue() -> str:
    lines = []
    for c in COMPUTATIONS.values():
        lines += [
            f"compute: {c.name}",
            f"  {c.description}",
            f"  settings: {', '.join(c.settings)}",
            f"  placeholders (Reveal, Why): {', '.join(c.values)}",
            f"  answer for a slider: {', '.join(c.numbers) or '-'}",
            "  answer for options: " + ("; ".join(f"{k} (ids {', '.join(v)})" for k, v in c.outcomes.items()) or "-"),
            f"  figures: {', '.join(c.figures) or '-'}",
            f"  tables: {', '.join(c.tables) or '-'}",
            "",
        ]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    directory = argv[0] if argv else lessons_dir()
    print(catalogue())
    try:
        book = load_lessons(directory)
        assumptions = load_assumptions(f"{directory}/assumptions.md", lesson_count=len(book))
    except CausalPrefError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for lesson in book:
        print(f"ok  {lesson.path.name}: {lesson.title} ({lesson.kind}, compute: {lesson.computation.name})")
    print(f"ok  assumptions.md: {len(assumptions.items)} assumptions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
