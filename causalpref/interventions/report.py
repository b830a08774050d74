"""The interventions lab's sections of docs/results.md (run/docs_tables.py custom sections).

Each section runs (or loads) one intervention sweep through the result cache and shows the
headline accuracy per strategy and budget with its seed spread, the paired differences
against observational with their standard errors, the labels needed to recover half of the
loss and the computed reading, whichever strategy wins.
"""

from __future__ import annotations

from dataclasses import replace

from causalpref.interventions.run import run_interventions_cached
from causalpref.interventions.spec import InterventionSpec, default_spec
from causalpref.interventions.summary import HEADLINE, accuracy_table, half_table, paired_table, reading
from causalpref.run.docs_tables import PROG, SHARED_DATA, Block, CustomSection, spec_line

SECTION_NAMES = ("interventions-exp1", "interventions-exp2", "interventions-hh-length")
HH_BUDGETS = (0, 50, 100, 200, 400)
HH_COMMAND = (
    "interventions exp1 --data ../shared/data/hh-rlhf --factors length_words --split-shares 0.5 0.1 0.4 "
    "--n-train 1000 --n-val 200 --n-id 500 --n-ood 500 --rho 0.8 --seeds 3 --budget 0 50 100 200 400 --device cpu"
)


def blocks(name: str, spec: InterventionSpec, command: str, cache) -> list[Block]:
    sweep, _ = run_interventions_cached(spec, cache)
    results, split = sweep.results, HEADLINE[spec.experiment]
    line = (
        f"- `{spec_line(spec.base)} · budgets {', '.join(map(str, spec.budgets))} · strategies "
        f"{', '.join(spec.strategies)} · rounds {spec.rounds} · isolated share {spec.isolated_share:g}`  \n"
        f"  the same numbers: `{PROG} {command}`"
    )
    return [
        Block(f"{name}/spec", line),
        Block(f"{name}/accuracy", f"```text\n{accuracy_table(results, split)}\n```"),
        Block(f"{name}/paired", f"```text\n{paired_table(results, split)}\n```"),
        Block(f"{name}/half", f"```text\n{half_table(results, split)}\n```"),
        Block(f"{name}/reading", reading(results, split)),
    ]


def hh_spec() -> InterventionSpec | None:
    """HH-RLHF, Experiment 1 with length as the spurious factor, at rho 0.8 (0.9 is out of
    reach of its training prompts); None where the data is not here."""
    folder = SHARED_DATA / "hh-rlhf"
    if not folder.is_dir():
        return None
    from causalpref.data.worlds.real import RealDataWorld
    from causalpref.run.specs import SplitSizes

    world = RealDataWorld.from_path("hh-rlhf", folder, measure="length_words", split_shares=(0.5, 0.1, 0.4))
    base = replace(
        default_spec("exp1").base,
        world=world,
        rhos=(0.8,),
        sizes=SplitSizes(train=1000, val=200, id=500, ood=500),
        device="cpu",
    )
    return default_spec("exp1", base=base, budgets=HH_BUDGETS)


READING = (
    "Every strategy starts from the same base training set, test sets and initial weights per seed and "
    "gets exactly B extra labels; 'paired' is each strategy minus observational seed by seed (mean ± "
    "standard error). Half the loss: the labels needed to get half the way from the base set's accuracy "
    "to that of a model trained on a set of the same size without the confounding (rho0). The last line "
    "is computed from the tables."
)


def sections() -> tuple[CustomSection, ...]:
    exp1 = default_spec("exp1", device="cpu")
    exp2 = default_spec("exp2", device="cpu")
    found = [
        CustomSection(
            "interventions-exp1",
            "Interventions, Experiment 1: which extra labels buy back OOD accuracy (ρ = 0.9)",
            READING + " Isolated pairs change one causal factor at a time: with the world's argmax labels each "
            "says only the sign of that factor's effect, not how the two factors weigh against each other, "
            "which is what the OOD pairs (the factors disagree) turn on.",
            lambda cache: blocks("interventions-exp1", exp1, "interventions exp1 --device cpu", cache),
        ),
        CustomSection(
            "interventions-exp2",
            "Interventions, Experiment 2: which extra labels buy back inconsistent accuracy (ρ = 0.9)",
            READING,
            lambda cache: blocks("interventions-exp2", exp2, "interventions exp2 --device cpu", cache),
        ),
    ]
    hh = hh_spec()
    if hh is not None:
        found.append(
            CustomSection(
                "interventions-hh-length",
                "Interventions on HH-RLHF: which extra labels undo a length bias (ρ = 0.8)",
                READING + " On this file targeted uses its labels as the oracle (the preferred response is the "
                "shorter one); isolated pairs need a generator, which a data file has not.",
                lambda cache: blocks("interventions-hh-length", hh, HH_COMMAND, cache),
            )
        )
    return tuple(found)
