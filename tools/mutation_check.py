"""Mutation check: does the test suite notice when the engine is quietly broken?

Each mutant below is one or more exact string replacements in causalpref/ engine modules
(gradient reversal, training weights, best checkpoint, per-cell seeds, the BTL loss, ...).
For each one the script applies it, runs the test files named for it with
`python -m pytest -x -q FILES`, reverts it in a `finally` (also on Ctrl-C or SIGTERM), and
records whether the tests failed (killed) or passed (survived). It ends with a table
mutant / killed or survived / seconds and the kill rate.

Usage (from the repository root):

    .venv/bin/python tools/mutation_check.py [--only NAME ...] [--list] [--show] [--in-place]

    --only NAME ...  run only these mutants (see --list for the names)
    --list           print the mutants and the test files each one runs, then exit
    --show           run without -x and print the failing tests of each killed mutant
    --in-place       mutate the checkout itself instead of a scratch copy (see below)

By default the mutants are applied to a scratch copy of the repository (causalpref/,
tests/ and pyproject.toml copied to a temporary folder, removed at the end), so the
working tree is never touched, even if the script is killed hard; with --in-place each
file is restored from its original text in a `finally`, and only if it still holds the
mutant (a file edited meanwhile gets just the mutant's text replaced back, with a warning).

First the union of all test files runs unmutated: if that baseline fails, nothing is
counted and the script exits with status 2. A test run longer than --timeout seconds
(default 600) counts as killed (a mutant that makes the engine hang). Exit status: 0 when
every mutant is killed, 1 when some survive, 2 when the baseline or a mutant is broken.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = "tests/test_engine_effects.py"


@dataclass(frozen=True)
class Mutant:
    name: str
    what: str  # one line: the fault it plants
    edits: tuple[tuple[str, str, str], ...]  # (file, exact old text, new text); old must occur once
    tests: tuple[str, ...]  # test files to run


MUTANTS = [
    # --- the five the engine-effects tests were written for
    Mutant(
        "grl-sign",
        "gradient reversal passes +lambda*grad: the encoder helps the discriminator",
        (("causalpref/models/layers.py", "return -ctx.lam * grad, None", "return ctx.lam * grad, None"),),
        (ENGINE,),
    ),
    Mutant(
        "balanced-unweighted",
        "Experiment 1's balanced remedy trains with all-one weights",
        (
            (
                "causalpref/train/weighting.py",
                "return Weights(balanced.weights, balanced.ess_share, no_op=no_op)",
                "return Weights(np.ones_like(balanced.weights), balanced.ess_share, no_op=no_op)",
            ),
        ),
        (ENGINE,),
    ),
    Mutant(
        "ipw-unweighted",
        "Experiment 2's IPW remedy trains with all-one weights",
        (
            (
                "causalpref/train/weighting.py",
                "return Weights(weights, ess / len(train))",
                "return Weights(np.ones_like(weights), ess / len(train))",
            ),
        ),
        (ENGINE,),
    ),
    Mutant(
        "best-restore-both",
        "neither trainer restores the best-validation epoch (last epoch returned)",
        (
            (
                "causalpref/train/loop.py",
                "    model.load_state_dict(best_state)\n    best.model = model.cpu()",
                "    best.model = model.cpu()",
            ),
            (
                "causalpref/train/stacked.py",
                "value[i].detach().cpu().clone() for name, value in best_params.items()}",
                "value[i].detach().cpu().clone() for name, value in params.items()}",
            ),
        ),
        (ENGINE, "tests/test_train.py"),
    ),
    Mutant(
        "cell-seed-ignores-rho",
        "every rho of a spec seed draws with the same data seed",
        (("causalpref/draw/splits.py", "int(round((rho + 1) * 1000))", "1000"),),
        (ENGINE,),
    ),
    # --- the same faults in other places
    Mutant(
        "weights-not-attached",
        "apply_weighting reports the weights but returns the unweighted pairs",
        (
            (
                "causalpref/train/weighting.py",
                "return replace(train, weight=weights.weights.astype(np.float32)), weights",
                "return train, weights",
            ),
        ),
        (ENGINE,),
    ),
    Mutant(
        "btl-drops-weight",
        "the BTL loss ignores the pair weights (both trainers)",
        (
            (
                "causalpref/train/loop.py",
                "return (loss if weight is None else loss * weight).mean(-1)",
                "return loss.mean(-1)",
            ),
        ),
        (ENGINE,),
    ),
    Mutant(
        "stacked-drops-weights",
        "the stacked trainer drops the training weights",
        (
            (
                "causalpref/train/stacked.py",
                'self.weight = stack("weight", torch.float32) if all(has_weight) else None',
                "self.weight = None",
            ),
        ),
        (ENGINE,),
    ),
    Mutant(
        "best-restore-loop",
        "the plain loop returns its last epoch",
        (
            (
                "causalpref/train/loop.py",
                "    model.load_state_dict(best_state)\n    best.model = model.cpu()",
                "    best.model = model.cpu()",
            ),
        ),
        (ENGINE,),
    ),
    Mutant(
        "best-restore-stacked",
        "the stacked trainer returns its last epoch",
        (
            (
                "causalpref/train/stacked.py",
                "value[i].detach().cpu().clone() for name, value in best_params.items()}",
                "value[i].detach().cpu().clone() for name, value in params.items()}",
            ),
        ),
        (ENGINE,),
    ),
    Mutant(
        "grl-ignores-lambda",
        "gradient reversal always uses lambda = 1",
        (("causalpref/models/layers.py", "return -ctx.lam * grad, None", "return -grad, None"),),
        (ENGINE,),
    ),
    # --- the rest of the core engine
    Mutant(
        "btl-sign",
        "the BTL loss rewards the losing response",
        (
            (
                "causalpref/train/loop.py",
                "F.binary_cross_entropy_with_logits(margin.float(), label",
                "F.binary_cross_entropy_with_logits(-margin.float(), label",
            ),
        ),
        (ENGINE, "tests/test_train.py"),
    ),
    Mutant(
        "accuracy-label-flip",
        "pairwise accuracy compares the margin's sign with the flipped label",
        (("causalpref/stats.py", "((margin > 0) == (label == 1))", "((margin > 0) == (label == 0))"),),
        (ENGINE, "tests/test_metrics.py"),
    ),
    Mutant(
        "ties-count-zero",
        "an exact tie counts as wrong instead of one half",
        (("causalpref/stats.py", "torch.where(margin == 0, 0.5,", "torch.where(margin == 0, 0.0,"),),
        (ENGINE, "tests/test_metrics.py"),
    ),
    Mutant(
        "adversary-target",
        "the discriminator's BCE target is a constant 0, not the objective c",
        (
            (
                "causalpref/models/adversarial.py",
                "F.binary_cross_entropy_with_logits(logits, both.to(z.dtype)",
                "F.binary_cross_entropy_with_logits(logits, torch.zeros_like(logits)",
            ),
        ),
        (ENGINE,),
    ),
    Mutant(
        "balanced-target",
        "the balanced weights keep each quadrant's observed mass (no balancing)",
        (
            (
                "causalpref/eval/diagnostics.py",
                "target[q] = (1.0 - axes_share) / len(present)",
                "target[q] = counts[q] / n",
            ),
        ),
        (ENGINE, "tests/test_diagnostics.py"),
    ),
    Mutant(
        "ipw-p-not-1-minus-p",
        "inverse-propensity weights use P(other objective) instead of P(own)",
        (
            (
                "causalpref/eval/propensity.py",
                "own = np.where(c == 1, p, 1.0 - p)",
                "own = np.where(c == 1, 1.0 - p, p)",
            ),
        ),
        (ENGINE, "tests/test_propensity.py"),
    ),
    Mutant(
        "correlation-target-sign",
        "the correlation sampler draws train/val/id at -rho",
        (
            (
                "causalpref/draw/correlation.py",
                "sample_with_target_rho(d1, d2, sizes[name], target, seeds[name],",
                "sample_with_target_rho(d1, d2, sizes[name], -target, seeds[name],",
            ),
        ),
        (ENGINE, "tests/test_sampling.py"),
    ),
    Mutant(
        "consistency-rate",
        "the consistency sampler draws at 1 - rho",
        (
            (
                "causalpref/draw/consistency.py",
                "consistent = int(round(rho * m))",
                "consistent = int(round((1 - rho) * m))",
            ),
        ),
        (ENGINE, "tests/test_consistency.py"),
    ),
    Mutant(
        "stacked-generator-seed",
        "every stacked model shuffles its batches with the first model's seed",
        (
            (
                "causalpref/train/stacked.py",
                "torch.Generator().manual_seed(int(s)) for s in seeds]",
                "torch.Generator().manual_seed(int(seeds[0])) for s in seeds]",
            ),
        ),
        (ENGINE,),
    ),
    Mutant(
        "loop-order-seed",
        "the plain loop shuffles batches with seed 0 whatever its seed",
        (
            (
                "causalpref/train/loop.py",
                "order_rng = torch.Generator().manual_seed(seed)",
                "order_rng = torch.Generator().manual_seed(0)",
            ),
        ),
        (ENGINE, "tests/test_train.py"),
    ),
    Mutant(
        "adam-lr",
        "Adam runs at the paper's 1e-4 whatever the configured learning rate",
        (("causalpref/train/loop.py", "torch.optim.Adam(parameters, lr=lr,", "torch.optim.Adam(parameters, lr=1e-4,"),),
        (ENGINE, "tests/test_train.py"),
    ),
]


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and a rename: an interrupt never leaves half a file."""
    tmp = path.with_name(f".{path.name}.mutation-tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class Applied:
    """A mutant applied to a tree; `restore()` puts every file back (safe to call twice)."""

    def __init__(self, root: Path, mutant: Mutant):
        self.root, self.mutant = root, mutant
        self.saved: list[tuple[Path, str, str]] = []  # path, original text, mutated text

    def apply(self) -> None:
        originals: dict[Path, str] = {}
        texts: dict[Path, str] = {}
        for file, old, new in self.mutant.edits:  # check every edit before writing anything
            path = self.root / file
            text = texts.get(path) or path.read_text()
            originals.setdefault(path, text)
            if text.count(old) != 1:
                raise LookupError(f"{file}: the text to mutate occurs {text.count(old)} times, expected once: {old!r}")
            texts[path] = text.replace(old, new)
        for path, text in texts.items():
            self.saved.append((path, originals[path], text))  # before writing: an interrupt is undone too
            atomic_write(path, text)

    def restore(self) -> None:
        while self.saved:
            path, original, mutated = self.saved.pop()
            path.with_name(f".{path.name}.mutation-tmp").unlink(missing_ok=True)
            current = path.read_text()
            if current == mutated:
                atomic_write(path, original)
            elif current == original:
                pass
            else:  # edited by someone else meanwhile: undo only the mutant's text
                print(f"WARNING: {path} changed while mutated; reverting only the mutant's text", file=sys.stderr)
                for file, o, n in self.mutant.edits:
                    if self.root / file == path and current.count(n) == 1:
                        current = current.replace(n, o)
                atomic_write(path, current)


def interrupt(signum, frame):
    """SIGTERM unwinds like Ctrl-C, so the `finally` blocks restore the source either way."""
    raise KeyboardInterrupt


def scratch_copy() -> Path:
    """causalpref/, tests/ and pyproject.toml in a temporary folder (no caches, no bytecode)."""
    target = Path(tempfile.mkdtemp(prefix="causalpref-mutation-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    for name in ("causalpref", "tests"):
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def run_tests(root: Path, files, stop_first: bool, timeout: float) -> tuple[str, float, str]:
    """('passed' | 'failed' | 'timeout', seconds, output)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(["-x"] if stop_first else []), *files]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # a stale .pyc must never hide a mutant
    start = time.monotonic()
    try:
        done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        return "timeout", time.monotonic() - start, str(error.stdout or "")
    return ("passed" if done.returncode == 0 else "failed"), time.monotonic() - start, done.stdout + done.stderr


def failed_tests(output: str) -> list[str]:
    return [
        line.split(" ", 1)[1].split(" - ")[0] for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--show", action="store_true", help="run every test (no -x) and list the failures")
    parser.add_argument("--in-place", action="store_true", help="mutate the checkout itself, not a scratch copy")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per test run (default 600)")
    args = parser.parse_args(argv)

    by_name = {m.name: m for m in MUTANTS}
    if args.list:
        for m in MUTANTS:
            print(f"{m.name:26} {m.what}\n{'':26} tests: {' '.join(m.tests)}")
        return 0
    unknown = [name for name in args.only or () if name not in by_name]
    if unknown:
        parser.error(f"unknown mutant(s) {unknown}; choose from {list(by_name)}")
    chosen = [by_name[name] for name in args.only] if args.only else MUTANTS

    signal.signal(signal.SIGTERM, interrupt)
    root = ROOT if args.in_place else scratch_copy()
    rows = []
    try:
        files = sorted({f for m in chosen for f in m.tests})
        print(f"baseline: {' '.join(files)}", flush=True)
        status, seconds, output = run_tests(root, files, True, args.timeout)
        if status != "passed":
            print(output[-3000:])
            print(f"baseline {status} after {seconds:.0f} s: fix the tests first; nothing counted")
            return 2
        print(f"baseline passed in {seconds:.0f} s", flush=True)
        for mutant in chosen:
            applied = Applied(root, mutant)
            try:
                applied.apply()
                status, seconds, output = run_tests(root, mutant.tests, not args.show, args.timeout)
            except LookupError as error:
                status, seconds, output = "stale", 0.0, str(error)
            finally:
                applied.restore()
            verdict = {"failed": "killed", "timeout": "killed (timeout)", "passed": "SURVIVED", "stale": "not applied"}[
                status
            ]
            rows.append((mutant, verdict, seconds, failed_tests(output) if status == "failed" else []))
            print(f"{mutant.name:26} {verdict:16} {seconds:6.1f} s", flush=True)
            if status == "stale":
                print(f"  {output}", flush=True)
            if args.show and status == "failed":
                for test in rows[-1][3]:
                    print(f"    {test}", flush=True)
    except KeyboardInterrupt:
        print("\ninterrupted: source restored", file=sys.stderr)
        return 130
    finally:
        if not args.in_place:
            shutil.rmtree(root, ignore_errors=True)

    print()
    print("| mutant | what it breaks | result | seconds |")
    print("|---|---|---|---:|")
    for mutant, verdict, seconds, _ in rows:
        print(f"| {mutant.name} | {mutant.what} | {verdict} | {seconds:.1f} |")
    counted = [r for r in rows if r[1] != "not applied"]
    killed = sum(r[1].startswith("killed") for r in counted)
    print()
    print(
        f"kill rate: {killed}/{len(counted)} = {100 * killed / max(len(counted), 1):.0f} %"
        + (
            f" ({len(rows) - len(counted)} mutant(s) not applied: their source text has changed)"
            if len(counted) < len(rows)
            else ""
        )
    )
    if len(counted) < len(rows):
        return 2
    return 0 if killed == len(counted) else 1


if __name__ == "__main__":
    sys.exit(main())
