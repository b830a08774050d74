"""docs/results.md, written by a command: `python -m causalpref report [--out FILE] [--check] [--full]`.

No result is typed by hand into the docs. This module names a fixed list of sweeps
(SECTIONS), runs each through the result cache (run_cached) and writes one markdown page:
per section a line saying which command wrote it, at which commit and when (UTC), each
spec in one line with the CLI command that gives the same numbers, and the tables of
run/report.py in fenced blocks.

- The cheap sections (the default) train in well under two minutes on two CPU cores; CI
  recomputes them with `report --check`, which compares them block by block with the file
  and names the first block that differs. The written-by lines (commit, date) are not
  compared.
- `--full` adds the slower sections. A plain `report` keeps the full sections already in
  the file as they are (each still names its own commit and date), so a cheap rewrite
  never drops them.

Every spec is pinned to the CPU, and the sweeps run on one torch thread: the same spec then
gives the same numbers whatever the machine's core count (a GPU may differ in the last float
bits), and the small interactive models lose nothing by it; on a busy machine several
threads fighting over the cores made the report several times slower.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import time
from dataclasses import MISSING, dataclass, fields, is_dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd
import torch

from causalpref.errors import CausalPrefError
from causalpref.io import check_output_path, write_atomic
from causalpref.run.cache import ResultCache
from causalpref.run.cached import run_cached
from causalpref.run.report import baselines_table, exp1_table, exp2_baselines, exp2_tables, weights_lines
from causalpref.run.specs import INTERACTIVE_RHOS, Exp1Spec, Exp2Spec

DEFAULT_OUT = "docs/results.md"
PROG = "python -m causalpref"


@dataclass(frozen=True)
class Sweep:
    """One spec of a section and the CLI command (arguments after `python -m causalpref`)
    that gives the same numbers; tests/test_docs.py checks that the two agree."""

    spec: Exp1Spec | Exp2Spec
    command: str


@dataclass(frozen=True)
class Section:
    name: str  # a short id: it prefixes the section's block names ("exp1-default/accuracy")
    title: str
    sweeps: tuple[Sweep, ...]  # one kind of experiment; their results are shown in one set of tables
    reading: str  # what to look at in the tables, in words (no numbers)
    full: bool = False  # True: only with --full
    # more blocks after the tables: "diagnostics" (overlap of each rho's seed-0 draw) and
    # "sanity" (the sanity checks at the highest rho)
    extras: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.sweeps[0].spec.kind


@dataclass(frozen=True)
class CustomSection:
    """A section that computes its own blocks (an intervention sweep, the adversary's game):
    `build(cache)` runs or loads what it needs through the result cache and returns its
    blocks, named "<name>/<table>". Its module (CUSTOM_SECTION_MODULES) lists it."""

    name: str
    title: str
    reading: str  # what to look at, in words (computed readings go in a block)
    build: Callable[[ResultCache], list["Block"]]
    full: bool = True


# Modules with custom sections: each has SECTION_NAMES (every section it may write, in page
# order, kept as written where its data is absent) and sections() (those that can run here).
CUSTOM_SECTION_MODULES: tuple[str, ...] = ("causalpref.interventions.report", "causalpref.run.adversary_report")


def _custom_modules():
    return [importlib.import_module(name) for name in CUSTOM_SECTION_MODULES]


def custom_sections() -> tuple[CustomSection, ...]:
    return tuple(section for module in _custom_modules() for section in module.sections())


def custom_section_names() -> tuple[str, ...]:
    return tuple(name for module in _custom_modules() for name in module.SECTION_NAMES)


# (block name, table) per experiment: the report.py functions a section shows, in order.
TABLES: dict[str, tuple[tuple[str, Callable[[pd.DataFrame], str]], ...]] = {
    "exp1": (("accuracy", exp1_table), ("baselines", baselines_table)),
    "exp2": (("accuracy", exp2_tables), ("baselines", exp2_baselines)),
}

_EXP1 = Exp1Spec(device="cpu")  # the interactive default: 4 rho x 3 seeds
_EXP2 = Exp2Spec(rhos=(0.5, 0.8, 0.9, 1.0), seeds=(0, 1, 2), device="cpu")
_EXP1_GRID = " ".join(f"{r:g}" for r in INTERACTIVE_RHOS)

SECTIONS: tuple[Section, ...] = (
    Section(
        "exp1-default",
        "Experiment 1: correlated factors (interactive default)",
        (
            Sweep(_EXP1, "exp1 --seeds 3 --device cpu"),
            Sweep(replace(_EXP1, weighting="balanced"), "exp1 --seeds 3 --weighting balanced --device cpu"),
        ),
        "ID accuracy should stay roughly flat while OOD accuracy falls and the ID-OOD gap widens as the "
        "training rho grows; base+balanced is Base trained with quadrant-balancing weights, and the weights "
        "table says how much of the sample those weights keep.",
    ),
    Section(
        "exp2-default",
        "Experiment 2: confounding by user objectives (interactive default, 4 rho)",
        (
            Sweep(_EXP2, "exp2 --rho 0.5 0.8 0.9 1.0 --seeds 3 --device cpu"),
            Sweep(
                replace(_EXP2, models=("base",), weighting="ipw"),
                "exp2 --rho 0.5 0.8 0.9 1.0 --seeds 3 --models base --weighting ipw --device cpu",
            ),
        ),
        "Inconsistent (t != c) accuracy should fall towards chance as rho goes to 1 while consistent accuracy "
        "holds; compare the architectures at strong confounding and Base+IPW (inverse-propensity weights) "
        "beside them, and the adversary's accuracy at reading c in the baselines table.",
    ),
    Section(
        "exp1-grid",
        "Experiment 1 on the Correlation-shift page's full rho grid",
        (
            Sweep(replace(_EXP1, rhos=INTERACTIVE_RHOS), f"exp1 --rho {_EXP1_GRID} --seeds 3 --device cpu"),
            Sweep(
                replace(_EXP1, rhos=INTERACTIVE_RHOS, weighting="balanced"),
                f"exp1 --rho {_EXP1_GRID} --seeds 3 --weighting balanced --device cpu",
            ),
        ),
        "The same models as the default section at every rho of the page's slider.",
        full=True,
    ),
    Section(
        "exp1-continuous",
        "Experiment 1 with continuous factor scores",
        (
            Sweep(
                replace(_EXP1, world=replace(_EXP1.world, scale="continuous")),
                "exp1 --seeds 3 --scale continuous --device cpu",
            ),
            Sweep(
                replace(_EXP1, world=replace(_EXP1.world, scale="continuous"), weighting="balanced"),
                "exp1 --seeds 3 --scale continuous --weighting balanced --device cpu",
            ),
        ),
        "Without the ties of 1..5 ratings every pair carries information; compare the gap with the default section.",
        full=True,
    ),
    Section(
        "exp2-paper-grid",
        "Experiment 2 on the paper's rho grid, 5 seeds",
        (
            Sweep(Exp2Spec(device="cpu"), "exp2 --device cpu"),
            Sweep(
                Exp2Spec(models=("base",), weighting="ipw", device="cpu"),
                "exp2 --models base --weighting ipw --device cpu",
            ),
        ),
        "The paper's six consistency rates and five seeds; the 'paper' rows are the paper's Table 2 and 3 "
        "values, labelled references from different data, not targets.",
        full=True,
    ),
    Section(
        "exp2-heads-ipw",
        "Experiment 2: the paper's architectures with IPW weights",
        (
            Sweep(
                replace(_EXP2, models=("multihead", "adversarial"), weighting="ipw"),
                "exp2 --rho 0.5 0.8 0.9 1.0 --seeds 3 --models multihead adversarial --weighting ipw --device cpu",
            ),
        ),
        "Architecture and weighting combine freely: Multihead and Adversarial trained with inverse-propensity "
        "weights; compare with the unweighted ones in the default section.",
        full=True,
    ),
)


# Real data kept beside the project (../shared/data, see its README): sections on it run with
# --full where the folder exists, and are kept as written where it does not.
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
HH_LENGTH_COMMAND = (
    "exp1 --data ../shared/data/hh-rlhf --factors length_words --split-shares 0.5 0.1 0.4 "
    "--n-train 1000 --n-val 200 --n-id 500 --n-ood 500 --rho 0 0.3 0.6 0.8 --seeds 3 --device cpu"
)


def real_sections() -> tuple[Section, ...]:
    """The sections on real data whose files are present (none on a fresh clone)."""
    folder = SHARED_DATA / "hh-rlhf"
    if not folder.is_dir():
        return ()
    from causalpref.data.worlds.real import RealDataWorld
    from causalpref.run.specs import SplitSizes

    world = RealDataWorld.from_path("hh-rlhf", folder, measure="length_words", split_shares=(0.5, 0.1, 0.4))
    spec = Exp1Spec(
        world=world,
        rhos=(0.0, 0.3, 0.6, 0.8),
        sizes=SplitSizes(train=1000, val=200, id=500, ood=500),
        device="cpu",
    )
    return (
        Section(
            "hh-length",
            "Length bias on HH-RLHF (Experiment 1 on real text: preferred × longer)",
            (
                Sweep(spec, HH_LENGTH_COMMAND),
                Sweep(replace(spec, weighting="balanced"), HH_LENGTH_COMMAND + " --weighting balanced"),
            ),
            "The four HH-RLHF test files (helpful-base and harmless-base), embedded with all-MiniLM-L6-v2. "
            "d1 says which response people preferred, d2 how many more words it has: training sets are drawn "
            "so that 'preferred' and 'longer' correlate at rho, and the OOD test holds pairs whose preferred "
            "response is the shorter one. A model that learns length instead of preference gains ID and loses "
            "OOD as rho grows. The diagnostics say how much of the OOD test the training data covers; the "
            "sanity checks say whether the high-rho numbers are more than noise.",
            full=True,
            extras=("diagnostics", "sanity"),
        ),
    )


def sections(full: bool = False) -> tuple[Section, ...]:
    """The cheap sections, or every section with full=True (and the real-data ones present)."""
    return tuple(s for s in all_sections() if full or not s.full)


def all_sections() -> tuple[Section | CustomSection, ...]:
    return SECTIONS + real_sections() + custom_sections()


def section_order() -> list[str]:
    """Every section name the page may hold, in page order."""
    return [s.name for s in SECTIONS] + list(REAL_SECTION_NAMES) + list(custom_section_names())


REAL_SECTION_NAMES = ("hh-length",)  # kept in the page even where their data is absent


# ---------------------------------------------------------------- one line per spec


def _plain(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _fields(obj, skip_defaults: bool = False) -> str:
    """'name value, ...' of a dataclass's fields; with skip_defaults only those that differ
    from a default-constructed instance ('defaults' when none does)."""
    items = [(f.name, getattr(obj, f.name)) for f in fields(obj) if f.compare]
    if skip_defaults:
        defaults = {f.name: _default_of(f) for f in fields(obj)}
        items = [(k, v) for k, v in items if k == "fingerprint" or defaults[k] is MISSING or v != defaults[k]]
        if not items:
            return "defaults"
    return ", ".join(f"{k} {_plain(v)}" for k, v in items)


def _default_of(f):
    """A dataclass field's default (MISSING when it has none: a real world's path, say)."""
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def spec_line(spec) -> str:
    """Everything that decides a spec's numbers, on one line."""
    params = "; ".join(f"{name}: {_fields(p)}" for name, p in spec.params if is_dataclass(p) and fields(p))
    parts = [
        spec.kind,
        f"world {spec.world.name} ({_fields(spec.world, skip_defaults=True)})",
        f"rho {_plain(tuple(spec.rhos))}",
        f"seeds {_plain(tuple(spec.seeds))}",
        f"models {_plain(tuple(spec.models))}",
        f"weighting {spec.weighting}",
        f"pairs {_fields(spec.sizes)}",
        f"MLP {_fields(spec.model)}",
        f"training {_fields(spec.train)}",
    ]
    if params:
        parts.append(f"params {params}")
    if spec.check != "none":
        parts.append(f"check {spec.check}")
    parts.append(f"device {spec.device}")
    return " · ".join(parts)


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Block:
    name: str  # "<section>/<table>"
    text: str  # markdown, compared verbatim (stripped) by --check


def _merged(sweeps) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    results = pd.concat([s.results for s in sweeps], ignore_index=True)
    weights = [s.details["weights"] for s in sweeps if s.details.get("weights") is not None]
    return results, (pd.concat(weights, ignore_index=True) if weights else None)


def section_blocks(section: Section, computed) -> list[Block]:
    """The section's compared blocks from its computed sweeps (one per section.sweeps)."""
    results, weights = _merged(computed)
    spec_lines = "\n".join(
        f"- `{spec_line(s.spec)}`  \n  the same numbers: `{PROG} {s.command}`" for s in section.sweeps
    )
    blocks = [Block(f"{section.name}/spec", spec_lines)]
    for table, make in TABLES[section.kind]:
        blocks.append(Block(f"{section.name}/{table}", f"```text\n{make(results)}\n```"))
    text = weights_lines(weights)
    if text:
        blocks.append(Block(f"{section.name}/weights", f"```text\n{text}\n```"))
    return blocks


def extra_blocks(section: Section, cache) -> list[Block]:
    """The section's diagnostics and sanity blocks (its first sweep's spec)."""
    spec = section.sweeps[0].spec
    blocks = []
    if "diagnostics" in section.extras:
        from causalpref.draw.splits import draw_exp1_splits
        from causalpref.eval.diagnostics import overlap_report

        pool = spec.world.text_pool() if hasattr(spec.world, "text_pool") else spec.world.pool()
        d1, d2 = (pool.diffs(name) for name in pool.world.factor_names[:2])
        parts = []
        for rho in spec.rhos:
            split = draw_exp1_splits(pool, 0, rho, spec.sizes).indices
            train, ood = split["train"], split["ood"]
            parts.append(f"training rho = {rho:g} (seed 0)\n" + overlap_report(d1[train], d2[train], d1[ood], d2[ood]))
        blocks.append(Block(f"{section.name}/diagnostics", "```text\n" + "\n\n".join(parts) + "\n```"))
    if "sanity" in section.extras:
        from causalpref.run.sanity import format_sanity, run_sanity_checks

        report = run_sanity_checks(section.kind, spec, max(spec.rhos), cache)
        blocks.append(Block(f"{section.name}/sanity", f"```text\n{format_sanity(report)}\n```"))
    return blocks


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            cwd=Path(__file__).resolve().parents[2],
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else "unknown"


def written_by_line(command: str, commit: str, date: str) -> str:
    return f"_Written by `{command}` at commit `{commit}`, {date}._"


WRITTEN_BY = re.compile(r"^_Written by `.*` at commit `.*`, .*\._$")


def render_section(section: Section, blocks: list[Block], written_by: str) -> str:
    body = "\n\n".join(f"<!-- block: {b.name} -->\n{b.text}" for b in blocks)
    return f"## {section.title}\n<!-- section: {section.name} -->\n\n{written_by}\n\n{section.reading}\n\n{body}\n"


PREAMBLE = """# Results

<!-- Written by `python -m causalpref report`. Do not edit by hand: change the sections in
     causalpref/run/docs_tables.py and rerun the command. -->

Every number on this page was computed by `python -m causalpref report` (the cheap
sections; CI checks that they are current with `python -m causalpref report --check`) or
`python -m causalpref report --full` (all sections). Each section says which command wrote
it, at which commit and when, lists its specs with the CLI command that gives the same
numbers, and shows the tables that command prints. Accuracies are in percent, mean ± standard
deviation over seeds. Rows marked 'paper' are the paper's values, shown as labelled
references: the paper ran on UltraFeedback and relabelled HH-RLHF with Llama-3-8B
embeddings, these runs on the synthetic worlds ([worlds.md](worlds.md)) at smaller sizes, so
they are not targets.
"""


# ---------------------------------------------------------------- reading a written page


def parse_page(text: str) -> tuple[dict[str, str], dict[str, str]]:
    """({section name: its whole text}, {block name: its text}) of a results page."""
    sections_text, blocks = {}, {}
    chunks = re.split(r"(?m)^(?=## )", text)
    for chunk in chunks:
        found = re.search(r"^<!-- section: (\S+) -->$", chunk, re.M)
        if found:
            sections_text[found.group(1)] = chunk.rstrip("\n") + "\n"
        current, lines = None, []
        for line in chunk.splitlines() + ["<!-- end -->"]:
            marker = re.match(r"^<!-- (block|section|end)\b(?:: (\S+))? -->$", line)
            if marker:
                if current is not None:
                    blocks[current] = "\n".join(lines).strip()
                current, lines = (marker.group(2) if marker.group(1) == "block" else None), []
            elif current is not None:
                lines.append(line)
    return sections_text, blocks


# ---------------------------------------------------------------- the command


def _check_out(path: Path, must_exist: bool) -> None:
    """Refuse an unusable --out before any training."""
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise CausalPrefError(f"--out {path}: {parent} is a file, not a folder")
    check_output_path(path)
    if must_exist and not path.is_file():
        raise CausalPrefError(f"--out {path}: no such file to check; write it with `{PROG} report`")


def compute(section: Section, cache: ResultCache | None = None, log=None) -> list[Block]:
    """Run (or load) the section's sweeps and render its blocks."""
    started = time.perf_counter()
    if isinstance(section, CustomSection):
        blocks = section.build(cache if cache is not None else ResultCache())
        if log:
            log(f"{section.name}: done in {time.perf_counter() - started:.1f} s")
        return blocks
    computed, all_cached = [], True
    for sweep in section.sweeps:
        result, was_cached = run_cached(section.kind, sweep.spec, cache)
        computed.append(result)
        all_cached = all_cached and was_cached
    blocks = section_blocks(section, computed) + extra_blocks(section, cache)
    if log:
        how = "loaded from the result cache" if all_cached else "computed"
        log(f"{section.name}: {how} in {time.perf_counter() - started:.1f} s")
    return blocks


def check_page(text: str, expected: dict[str, list[Block]], out: Path) -> int:
    """Number of blocks compared; CausalPrefError naming the first block that differs."""
    _, found = parse_page(text)
    known = set(section_order())
    compared = 0
    for blocks in expected.values():
        for block in blocks:
            if block.name not in found:
                raise CausalPrefError(f"{out}: table {block.name} is missing; regenerate with `{PROG} report`")
            if found[block.name] != block.text.strip():
                raise CausalPrefError(
                    f"{out}: table {block.name} differs from a fresh run; regenerate with `{PROG} report`"
                )
            compared += 1
    for name in found:
        if name.split("/")[0] not in known:
            raise CausalPrefError(
                f"{out}: table {name} belongs to no section of the report any more; regenerate with `{PROG} report`"
            )
    return compared


def run_report(
    out: str = DEFAULT_OUT,
    check: bool = False,
    full: bool = False,
    cache: ResultCache | None = None,
    log=None,
    only: str | None = None,
) -> str:
    """Write (or, with check, compare) the results page; returns a one-line summary. `only`:
    compute that one section (cheap or full) and keep every other as written."""
    path = Path(out)
    _check_out(path, must_exist=check)
    log = log or (lambda message: print(message, file=sys.stderr, flush=True))
    cache = cache if cache is not None else ResultCache()
    started = time.perf_counter()
    chosen = sections(full)
    if only is not None:
        named = {s.name: s for s in all_sections()}
        if only not in named:
            absent = " (its data is not here)" if only in section_order() else ""
            raise CausalPrefError(f"--section {only!r}: no such section{absent}; sections: {list(named)}")
        chosen = (named[only],)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # see the module docstring
    try:
        expected = {s.name: compute(s, cache, log) for s in chosen}
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - started
    if check:
        n = check_page(path.read_text(encoding="utf-8"), expected, path)
        return f"{path}: all {n} tables of {len(chosen)} sections are current ({seconds:.1f} s)"
    command = f"{PROG} report" + (" --full" if full else "") + (f" --section {only}" if only else "")
    written_by = written_by_line(command, _commit(), datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    kept = parse_page(path.read_text(encoding="utf-8"))[0] if path.is_file() else {}
    parts = []
    present = {section.name: section for section in all_sections()}
    for name in section_order():
        if name in expected:
            parts.append(render_section(present[name], expected[name], written_by))
        elif name in kept:  # a section written earlier (--full, or data absent here): keep it as written
            parts.append(kept[name])
    text = PREAMBLE + "\n" + "\n".join(parts)
    write_atomic(path, lambda handle: handle.write(text.encode("utf-8")))
    return f"{path}: wrote {len(parts)} sections ({seconds:.1f} s)"
