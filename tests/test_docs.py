"""Docs that stay true: the README is a short newcomer's page, no result is typed by hand
into the README or docs/, docs/results.md is what `python -m causalpref report` computes
today, and the docs' commands and code examples still work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from causalpref.cli import build_parser, spec_from_args
from causalpref.errors import CausalPrefError
from causalpref.run import docs_tables
from causalpref.run.specs import SPEC_TYPES

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
APP_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt && .venv/bin/streamlit run app.py"
TEST_COMMAND = "python3 -m venv .venv && .venv/bin/pip install -q -r requirements.txt && .venv/bin/python -m pytest -q"
# Pages whose numbers are written by a command (docs/mutation.md by tools/mutation_check.py).
WRITTEN_BY_COMMANDS = {"results.md", "mutation.md"}


def run_cli(*args: str, cache: Path) -> subprocess.CompletedProcess:
    # One torch thread: the tables do not depend on the thread count (the same page comes out
    # with one or two), and on a busy or many-core CI machine one thread is the fastest.
    env = {**os.environ, "CAUSALPREF_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "causalpref", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


# ---------------------------------------------------------------- the README


def test_readme_is_a_short_page():
    assert README.stat().st_size <= 8192, f"README.md is {README.stat().st_size} bytes; the limit is 8192"


def test_readme_has_the_two_fresh_machine_commands_exactly():
    text = README.read_text(encoding="utf-8")
    assert APP_COMMAND in text
    assert TEST_COMMAND in text  # CI (.ci/run) runs exactly this command
    assert 'pip install -e ".[app,dev]"' in text


def test_readme_links_resolve():
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)\)", text)
    assert targets
    for target in targets:
        assert (ROOT / target).is_file(), f"README links to {target}, which does not exist"


# ---------------------------------------------------------------- no hand-typed results

FENCED = re.compile(r"^(```|~~~)[^\n]*\n.*?^\1[ \t]*$", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK_TARGET = re.compile(r"\]\([^)\s]*\)|<https?://[^>]*>|https?://\S+")
COMMENT = re.compile(r"<!--.*?-->", re.S)
VERSION = re.compile(r"\d+(?:\.\d+){2,}|(?:Python|version|v|>=|<=|==|≥)\s*\d+(?:\.\d+)+")
RESULT_NUMBER = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])|(?<![\w.])\d+(?:\.\d+)?\s?%")


def hand_typed_numbers(text: str) -> list[str]:
    """The rule: outside code (fenced blocks and `inline code`, where commands, file names
    and settings live), link targets and HTML comments, a page may not contain a decimal
    number (58.6) or a percentage (60 %, 60%). Version numbers (0.3.0, Python 3.10, >= 1.26)
    are allowed. Integers are not flagged: counts such as "three seeds" or "five lessons"
    are not results. So a setting in prose goes in code (`a = 0.25`), and a result goes in
    docs/results.md, written by `python -m causalpref report`."""
    for pattern in (FENCED, COMMENT, INLINE_CODE, LINK_TARGET, VERSION):
        text = pattern.sub(" ", text)
    return RESULT_NUMBER.findall(text)


def prose_pages() -> list[Path]:
    return [README] + sorted(p for p in DOCS.glob("*.md") if p.name not in WRITTEN_BY_COMMANDS)


@pytest.mark.parametrize("page", prose_pages(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_hand_typed_result_numbers(page):
    found = hand_typed_numbers(page.read_text(encoding="utf-8"))
    assert not found, f"{page.name}: hand-typed numbers {found}; results belong in docs/results.md (see the rule above)"


def test_the_number_rule_catches_results_and_spares_settings():
    assert hand_typed_numbers("OOD accuracy falls to 58.6 at rho 0.9") == ["58.6", "0.9"]
    assert hand_typed_numbers("the weights keep 5 % of the sample, 60% at best") == ["5 %", "60%"]
    spared = "torch 2.13.0 on Python 3.10, numpy >= 1.26; `--rho 0.9`, `a = 0.25`\n```\nexp1 --lr 1e-3 0.5\n```"
    assert hand_typed_numbers(spared) == []
    assert hand_typed_numbers("three seeds, 10 epochs, [paper](https://arxiv.org/abs/2506.05967)") == []


# ---------------------------------------------------------------- docs/results.md


def test_results_page_is_current(tmp_path):
    """CI's check that the cheap tables are current: recomputed in an empty result cache."""
    started = time.perf_counter()
    done = run_cli("report", "--check", cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:] or done.stdout
    assert "are current" in done.stdout
    print(f"report --check took {time.perf_counter() - started:.1f} s")


def test_report_with_an_out_under_a_file_fails_before_training(tmp_path):
    started = time.perf_counter()
    done = run_cli("report", "--out", "README.md/results.md", cache=tmp_path / "cache")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "README.md is a file" in lines[0]
    assert not (tmp_path / "cache").exists()  # nothing was trained or stored
    assert time.perf_counter() - started < 60


def test_check_without_the_page_fails_with_one_line(tmp_path):
    done = run_cli("report", "--check", "--out", str(tmp_path / "results.md"), cache=tmp_path / "cache")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no such file to check" in lines[0]
    assert not (tmp_path / "cache").exists()


def committed_blocks() -> dict[str, list[docs_tables.Block]]:
    """The cheap sections' blocks as the committed page has them."""
    _, found = docs_tables.parse_page((DOCS / "results.md").read_text(encoding="utf-8"))
    expected = {}
    for section in docs_tables.sections():
        names = [n for n in found if n.startswith(f"{section.name}/")]
        expected[section.name] = [docs_tables.Block(n, found[n]) for n in names]
    return expected


def test_results_page_holds_every_cheap_section_and_a_written_by_line():
    text = (DOCS / "results.md").read_text(encoding="utf-8")
    sections, blocks = docs_tables.parse_page(text)
    for section in docs_tables.sections():
        assert section.name in sections
        assert f"{section.name}/spec" in blocks and f"{section.name}/accuracy" in blocks
        assert any(docs_tables.WRITTEN_BY.match(line) for line in sections[section.name].splitlines())


def test_check_names_the_first_table_that_differs():
    text = (DOCS / "results.md").read_text(encoding="utf-8")
    expected = committed_blocks()
    out = Path("docs/results.md")
    assert docs_tables.check_page(text, expected, out) == sum(len(b) for b in expected.values())
    # commit and date lines are not compared
    moved = re.sub(r"at commit `[^`]*`, [^.]*\._", "at commit `0000000`, 1999-01-01 00:00 UTC._", text)
    docs_tables.check_page(moved, expected, out)
    # one changed table is named
    first = next(iter(expected))
    accuracy = f"{first}/accuracy"
    changed = [
        docs_tables.Block(b.name, b.text.replace("±", "+-", 1) if b.name == accuracy else b.text)
        for b in expected[first]
    ]
    with pytest.raises(CausalPrefError, match=f"table {accuracy} differs"):
        docs_tables.check_page(text, {**expected, first: changed}, out)
    with pytest.raises(CausalPrefError, match="is missing"):
        docs_tables.check_page(text, {"x": [docs_tables.Block("nowhere/accuracy", "")]}, out)


# Options the CLI maps onto world fields, as its exp1 / exp2 commands do.
WORLD_OPTIONS = {
    "exp1": {"scale": "scale", "a": "a"},
    "exp2": {"conflict": "conflict", "type_specificity": "type_specificity"},
}
SIZE_NAMES = {"exp1": ("train", "val", "id", "ood"), "exp2": ("train", "val", "test")}


@pytest.mark.parametrize(
    "section, sweep",
    [(s, w) for s in docs_tables.SECTIONS for w in s.sweeps],
    ids=lambda x: x.name if isinstance(x, docs_tables.Section) else x.command,
)
def test_each_sweep_is_the_spec_its_cli_command_builds(section, sweep):
    args = build_parser().parse_args(sweep.command.split())
    kind = args.command
    spec = spec_from_args(args, SPEC_TYPES[kind], WORLD_OPTIONS[kind], SIZE_NAMES[kind])
    assert kind == section.kind
    assert spec == sweep.spec


# ---------------------------------------------------------------- docs/cli.md and docs/architecture.md


def test_cli_reference_names_every_command_and_option():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if hasattr(action, "choices") and isinstance(action.choices, dict):  # subcommands
                for name, sub in action.choices.items():
                    if f"`{' '.join(path + [name])}" not in text and f"`{name}" not in text:
                        missing.append(" ".join(path + [name]))
                    walk(sub, path + [name])
            for option in action.option_strings:
                if option.startswith("--") and option != "--help" and option not in text:
                    missing.append(f"{' '.join(path)} {option}")

    walk(build_parser(), [])
    assert not missing, f"docs/cli.md does not mention: {sorted(set(missing))}"


def examples(name: str) -> str:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(# example: " + re.escape(name) + r"\n.*?)```", text, re.S)
    assert blocks, f"docs/architecture.md has no '# example: {name}' block"
    return "\n".join(blocks)


def test_the_add_an_architecture_example_trains(tiny_spec):
    from dataclasses import replace

    from causalpref.models import architecture_names, unregister
    from causalpref.run.sweep import run_sweep

    try:
        exec(compile(examples("add-architecture"), "docs/architecture.md", "exec"), {})
        assert "linear" in architecture_names(with_objective=False)
        sweep = run_sweep(replace(tiny_spec, models=("linear",)))
        assert set(sweep.results["model"]) == {"linear"}
        ood = sweep.results[sweep.results.split == "ood"]["accuracy"]
        assert len(ood) == 2 and ood.between(0, 1).all()
    finally:
        unregister("linear")


def test_the_add_a_weighting_example_weighs():
    from causalpref.data.worlds import UserObjectivesWorld
    from causalpref.train.weighting import WEIGHTINGS, apply_weighting, weighting_names

    try:
        exec(compile(examples("add-weighting"), "docs/architecture.md", "exec"), {})
        assert "ipw-clipped" in weighting_names("exp2") and "ipw-clipped" not in weighting_names("exp1")
        pairs = UserObjectivesWorld(dim=8, pool_size=400).pool().pairs(np.arange(400), "train")
        weighted, weights = apply_weighting("ipw-clipped", pairs, seed=0)
        assert weighted.weight is not None and abs(float(np.mean(weighted.weight)) - 1) < 1e-5
        assert 0 < weights.ess_share <= 1
    finally:
        WEIGHTINGS.pop("ipw-clipped", None)
