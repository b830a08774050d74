"""Command line: python -m causalpref exp1|exp2 ...

Every subcommand builds a spec, runs it and prints the tables beside the paper's. A bad
input ends with a one-line `error: ...` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import replace

import numpy as np

from causalpref import validate
from causalpref.data.columns import TARGETS as COLUMN_TARGETS
from causalpref.data.kinds import DATA_KINDS
from causalpref.data.measures import MEASURES
from causalpref.data.worlds.real import RealDataWorld
from causalpref.data.worlds.synthetic import LABEL_MODES, SCALES
from causalpref.errors import CausalPrefError
from causalpref.models import architecture_names, param_names
from causalpref.run.specs import Exp1Spec, Exp2Spec, sizes_for_data

DATA_KIND_NAMES = tuple(DATA_KINDS)
MEASURE_NAMES = tuple(MEASURES)


def tqdm_progress(desc: str):
    """A progress(done, total) callback drawing a tqdm bar on stderr (a no-op without tqdm).

    The first call gives what is already done (texts found in the embedding cache): those are
    said as such and start the bar, so its speed and time left count only real work."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    bar = {}

    def update(done, total):
        if "bar" not in bar:
            if done >= total:
                print(f"{desc}: {done:,} of {total:,} from cache", file=sys.stderr)
                bar["bar"] = None
                return
            label = f"{desc} ({done:,} from cache)" if done else desc
            bar["bar"] = tqdm(total=total, initial=done, desc=label, file=sys.stderr)
        if bar["bar"] is None:
            return
        bar["bar"].n = done
        bar["bar"].refresh()
        if done >= total:
            bar["bar"].close()

    return update


EPILOG_EXP1 = """\
Interactive default (fast on a laptop CPU): 2,000 train / 500 val / 2,000 ID / 2,000 OOD
pairs, d = 32, hidden 64, latent 16, Adam lr 1e-3, batch 64, 10 epochs.
--paper-size: the paper's 15,000 / 2,000 / 15,000 / 15,000 pairs, d = 4096, hidden 512,
latent 64, Adam lr 1e-4 (slow on a CPU; meant for a GPU). Size options given beside
--paper-size override it.
"""

EPILOG_EXP2 = """\
Interactive default: 2,000 train / 500 val pairs at consistency rate rho, 2,000 consistent
and 2,000 inconsistent test pairs, d = 32, hidden 64, z_hat 32, heads 32, Adam lr 1e-3,
batch 64, 10 epochs. --paper-size: 30,000 / 6,000 / 2 x 23,259 pairs, d = 4096, hidden
512, z_hat 512, heads 512, Adam lr 1e-4. Size options given beside --paper-size override it.
"""


def _add_common(
    parser: argparse.ArgumentParser,
    default_rhos: list[float],
    default_seeds: int,
    experiment: str,
    default_models: list[str],
) -> None:
    from causalpref.train.weighting import weighting_names

    models = architecture_names(with_objective=experiment == "exp2")
    weightings = weighting_names(experiment)
    parser.add_argument(
        "--rho",
        type=float,
        nargs="+",
        default=default_rhos,
        metavar="RHO",
        help=f"training rho value(s) (default: {' '.join(map(str, default_rhos))})",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=default_seeds,
        metavar="N",
        help=f"number of seeds, 0..N-1; each redraws the splits and the model's "
        f"initial weights (default: {default_seeds})",
    )
    # Checked by the spec, not argparse, so that a wrong name gets the usual one-line error.
    parser.add_argument(
        "--models",
        nargs="+",
        default=default_models,
        metavar="MODEL",
        help=f"reward models to train, from {', '.join(models)} (default: {' '.join(default_models)})",
    )
    parser.add_argument(
        "--weighting",
        default="none",
        metavar="NAME",
        help=f"how training pairs are weighted, for every model: {', '.join(weightings)} (default: none)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="MODEL.FIELD=VALUE",
        help="set one of an architecture's own parameters, e.g. adversarial.adversary_lambda=0.5 (repeatable)",
    )
    parser.add_argument("--out", metavar="FILE.csv", help="write the tidy results table here")
    parser.add_argument(
        "--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, cuda:N or mps (default: auto)"
    )
    parser.add_argument("--paper-size", action="store_true", help="use the paper's sizes (see below)")
    parser.add_argument(
        "--no-cache", action="store_true", help="recompute even when the result cache (cache/) holds this exact spec"
    )
    model = parser.add_argument_group("model and optimiser")
    model.add_argument("--hidden", type=int, help="hidden width of the MLP")
    model.add_argument("--latent", type=int, help="size of the latent (z_hat) before the reward head(s)")
    model.add_argument("--layers", type=int, help="linear layers up to the latent (default 3)")
    model.add_argument("--lr", type=float, help="Adam learning rate")
    model.add_argument("--epochs", type=int, help="training epochs (best-validation epoch is kept)")
    model.add_argument("--batch-size", type=int, help="pairs per optimiser step")
    model.add_argument(
        "--precision",
        choices=("fp32", "tf32", "bf16"),
        help="fp32 (default); on CUDA also tf32 matmuls or bf16 autocast",
    )
    world = parser.add_argument_group("synthetic world")
    world.add_argument("--dim", type=int, help="embedding dimension d")
    world.add_argument("--noise", type=float, help="observation noise std per dimension (default 1.0)")
    world.add_argument(
        "--label-mode",
        choices=LABEL_MODES,
        help="argmax: higher true reward wins, ties by coin (default); btl: sampled",
    )
    world.add_argument("--temperature", type=float, help="BTL label temperature (with --label-mode btl)")
    world.add_argument("--pool-size", type=int, help="candidate pairs in the world's pool")
    world.add_argument("--world-seed", type=int, help="seed of the world's mixing and pool (default 0)")
    real = parser.add_argument_group("real data (instead of the synthetic world)")
    real.add_argument(
        "--world",
        default="synthetic",
        metavar="KIND",
        help="synthetic (default); a real data kind read from --data: "
        + ", ".join(DATA_KIND_NAMES)
        + "; or a data FILE/FOLDER itself (its shape recognised from its fields)",
    )
    real.add_argument(
        "--data",
        metavar="PATH",
        help="local data: a JSONL/JSON/CSV/Parquet file (optionally .gz), a folder of them, a datasets "
        "save_to_disk folder (PATH:SPLIT for one split) or, with --download, a hub name (NAME:SPLIT)",
    )
    real.add_argument(
        "--columns",
        nargs="+",
        metavar="FIELD=COLUMN",
        help="map the file's columns to the fields the loaders read, e.g. prompt=input response_a=output_1 "
        "response_b=output_2 label=pref:1=a,2=b,0=drop (fields: " + ", ".join(COLUMN_TARGETS) + ")",
    )
    real.add_argument(
        "--factors",
        nargs="+",
        metavar="NAME",
        help="factor data: its factor columns (first two used); labelled pairs in exp1: the factor measured "
        "from the text (" + ", ".join(MEASURE_NAMES) + "); a response table may name measured factors too",
    )
    real.add_argument("--prefer", metavar="FACTOR", help="factor data: the factor that decides the true preference")
    real.add_argument(
        "--weights",
        nargs=2,
        metavar="FACTOR=W",
        help="factor data: the true reward as a weighting of two factors, e.g. correctness=0.7 style=0.3",
    )
    real.add_argument(
        "--split-shares",
        type=float,
        nargs=3,
        metavar=("TRAIN", "VAL", "TEST"),
        help="exp1: shares of the prompt groups for training, validation and the tests (default 0.6 0.1 0.3)",
    )
    real.add_argument(
        "--tol", type=float, help="exp1: how close a drawn set's rho must be to the target (default 0.02)"
    )
    real.add_argument(
        "--dry-run",
        action="store_true",
        help="read and check the data, print its shape, counts per cell and feasible rho range, and exit "
        "(nothing is embedded or trained)",
    )
    real.add_argument("--download", action="store_true", help="allow reading a Hugging Face hub name (needs a network)")
    real.add_argument(
        "--model",
        metavar="DIR",
        help="local transformers model directory for the embeddings (default: the packaged all-MiniLM-L6-v2)",
    )
    real.add_argument("--max-length", type=int, default=256, help="tokens per text; long dialogues keep their end")


def _add_short_exp1_options(parser: argparse.ArgumentParser) -> None:
    """The Experiment-1 world and size options of `diagnose` and `sanity` (see `exp1 --help`)."""
    parser.add_argument("--scale", choices=SCALES)
    parser.add_argument("--a", type=float)
    for name in ("train", "val", "id", "ood"):
        parser.add_argument(f"--n-{name}", type=int)


def _add_short_exp2_options(parser: argparse.ArgumentParser) -> None:
    """exp2's world and size options without their help (sanity, interventions: see exp2 --help)."""
    parser.add_argument("--lambda", dest="adversary_lambda", type=float, metavar="LAMBDA")
    parser.add_argument("--head-hidden", type=int)
    parser.add_argument("--conflict", type=float)
    parser.add_argument("--type-specificity", type=float)
    for name in ("train", "val", "test"):
        parser.add_argument(f"--n-{name}", type=int)


def _add_backend(parser: argparse.ArgumentParser) -> None:
    """Where the sweep's chunks train and a data file's texts are embedded (run/backends.py,
    run/ray_embed.py): in this process or on Ray."""
    from causalpref.run.backends import ADDRESS_ENV, BACKEND_ENV, BACKENDS

    group = parser.add_argument_group("backend (where the models train and texts are embedded)")
    group.add_argument(
        "--backend",
        choices=tuple(BACKENDS),
        help=f"local: in this process (default); ray: one Ray task per chunk, same CSV (also ${BACKEND_ENV})",
    )
    group.add_argument(
        "--address",
        metavar="ADDR",
        help="the Ray cluster: auto (one already running here), HOST:PORT or ray://HOST:PORT; none: a new "
        f"local Ray on this machine (also ${ADDRESS_ENV}; implies --backend ray)",
    )
    group.add_argument("--verbose", action="store_true", help="say where each chunk ran (node, device)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m causalpref",
        description="Causal preference learning laboratory (Kobalczyk & van der Schaar, ICML 2025).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    exp1 = sub.add_parser(
        "exp1",
        help="Experiment 1: correlated causal factors break out-of-distribution accuracy",
        description="Train BTL reward models on training sets whose two causal factor differences "
        "correlate at rho, then test in distribution (same rho) and out of distribution "
        "(pairs whose factors disagree). Prints Table 1 beside the paper's numbers.",
        epilog=EPILOG_EXP1,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(exp1, [0.0, 0.3, 0.6, 0.9], 3, "exp1", ["base"])
    _add_backend(exp1)
    world = exp1.add_argument_group("correlated-factors world")
    world.add_argument("--scale", choices=SCALES, help="factor scores: likert 1..5 (default), continuous, binary 0/1")
    world.add_argument("--a", type=float, help="true reward a*z1 + (1-a)*z2 (default 0.25)")
    sizes = exp1.add_argument_group("split sizes (pairs)")
    for name in ("train", "val", "id", "ood"):
        sizes.add_argument(f"--n-{name}", type=int, help=f"pairs in the {name} split")

    exp2 = sub.add_parser(
        "exp2",
        help="Experiment 2: confounding by user objectives; Base, Multihead, Adversarial",
        description="Train reward models on sets where the prompt type t matches the user's "
        "objective c with probability rho, then test on consistent (t = c) and "
        "inconsistent (t != c) pairs. Prints Tables 2 and 3 beside the paper's numbers.",
        epilog=EPILOG_EXP2,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(exp2, [0.5, 0.6, 0.7, 0.8, 0.9, 1.0], 5, "exp2", list(Exp2Spec.models))
    _add_backend(exp2)
    exp2.add_argument(
        "--lambda",
        dest="adversary_lambda",
        type=float,
        nargs="+",
        metavar="LAMBDA",
        help="the adversary's weight in the adversarial model (default 1.0); several values: a lambda "
        "curve (0 = Multihead exactly), one sweep per value and a table of accuracies per lambda",
    )
    exp2.add_argument("--head-hidden", type=int, help="hidden width of each head and the discriminator (0 = linear)")
    world = exp2.add_argument_group("user-objectives world")
    world.add_argument(
        "--conflict", type=float, help="|corr(helpfulness, harmlessness)| within a prompt type (default 0.8)"
    )
    world.add_argument(
        "--type-specificity",
        type=float,
        help="0 = qualities look alike in both prompt types, 1 = unrelated (default 0.7)",
    )
    world.add_argument(
        "--entanglement",
        type=float,
        help="how much the qualities ride on the prompt type's direction, with its sign (default 0 = off)",
    )
    world.add_argument(
        "--type-strength", type=float, help="how plainly the embedding shows the prompt type (default 3)"
    )
    sizes = exp2.add_argument_group("split sizes (pairs)")
    for name, what in (
        ("train", "training pairs"),
        ("val", "validation pairs"),
        ("test", "pairs in each of the consistent and inconsistent test sets"),
    ):
        sizes.add_argument(f"--n-{name}", type=int, help=what)
    diagnose = sub.add_parser(
        "diagnose",
        help="overlap diagnostics of the training sets, before training",
        description="Draw the training and test sets of an experiment (seed 0) and "
        "print how well the training data covers the test data: for exp1 "
        "quadrant masses, training support, importance-weight ESS and SMD; "
        "for exp2 the cross-fitted propensity P(c | prompt) and its overlap.",
    )
    which = diagnose.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    d1 = which.add_parser("exp1", help="correlated factors")
    _add_common(d1, [0.0, 0.3, 0.6, 0.9], 1, "exp1", ["base"])
    _add_short_exp1_options(d1)
    d2 = which.add_parser("exp2", help="user objectives")
    _add_common(d2, [0.5, 0.8, 0.9, 1.0], 1, "exp2", list(Exp2Spec.models))
    d2.add_argument("--epsilon", type=float, default=0.1, help="overlap band [eps, 1 - eps] (default 0.1)")
    _add_backend(d2)  # a data file's texts are embedded first: on Ray with --backend ray
    for name in ("train", "val", "test"):
        d2.add_argument(f"--n-{name}", type=int)
    sanity = sub.add_parser(
        "sanity",
        help="sanity checks: label-shuffle placebo, a random feature, half the data",
        description="Train the experiment at each training rho given four times (as it is, with "
        "shuffled training labels, with a random extra feature, on half of the "
        "training pairs) and print each check's accuracy beside the expected "
        "outcome, a verdict and a plain reading. Runs go through the result cache.",
    )
    which = sanity.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    s1 = which.add_parser("exp1", help="correlated factors")
    _add_common(s1, [0.9], 3, "exp1", ["base"])
    _add_backend(s1)
    _add_short_exp1_options(s1)
    s2 = which.add_parser("exp2", help="user objectives")
    _add_common(s2, [0.9], 3, "exp2", list(Exp2Spec.models))
    _add_backend(s2)
    _add_short_exp2_options(s2)
    interventions = sub.add_parser(
        "interventions",
        help="which extra labels buy back OOD accuracy: strategies x label budgets",
        description="Draw a base training set at one rho, add B extra labelled pairs by each strategy "
        "(the same base set, test sets and initial weights for every strategy of a seed) and print the "
        "OOD (exp1) or inconsistent (exp2) accuracy per strategy and budget with its seed spread, the "
        "paired difference against observational with its standard error, the labels needed to recover "
        "half of the loss, and a one-line reading. Runs go through the result cache.",
    )
    which = interventions.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    i1 = which.add_parser("exp1", help="correlated factors: observational, uniform, targeted, isolated, active")
    _add_common(i1, [0.9], 3, "exp1", ["base"])
    _add_short_exp1_options(i1)
    i2 = which.add_parser("exp2", help="user objectives: observational, randomised, counterfactual, active")
    _add_common(i2, [0.9], 3, "exp2", ["base"])
    _add_short_exp2_options(i2)
    for parser_ in (i1, i2):
        _add_backend(parser_)  # the whole sweep as one Ray task: see run/ray_backend.py
        lab = parser_.add_argument_group("interventions")
        lab.add_argument(
            "--budget",
            type=int,
            nargs="+",
            default=[0, 50, 100, 200, 500, 1000],
            metavar="B",
            help="extra labels per strategy (0, the base set alone, is always included; default: 0 50 100 200 500 1000)",
        )
        lab.add_argument(
            "--strategies",
            nargs="+",
            metavar="NAME",
            help="strategies to compare (default: every one the world allows; see docs/cli.md)",
        )
        lab.add_argument("--rounds", type=int, default=4, help="active: rounds of queries, retraining between them")
        lab.add_argument(
            "--isolated-share", type=float, default=0.5, help="isolated: share of pairs changing the first factor"
        )
    embed = sub.add_parser(
        "embed",
        help="pre-compute the embeddings of a real data file",
        description="Embed every (prompt, response) of a data file with a local "
        "transformers model and keep the vectors in the embedding cache.",
    )
    embed.add_argument("--data", required=True, metavar="PATH", help="local data file")
    embed.add_argument(
        "--kind", choices=DATA_KIND_NAMES, help="what the file holds (default: recognised from its fields)"
    )
    embed.add_argument("--columns", nargs="+", metavar="FIELD=COLUMN", help="map the file's columns (see exp1 --help)")
    embed.add_argument("--download", action="store_true", help="allow reading a Hugging Face hub name")
    embed.add_argument("--model", metavar="DIR", help="local model directory (default: packaged all-MiniLM-L6-v2)")
    embed.add_argument("--max-length", type=int, default=256, help="tokens per text (default 256)")
    embed.add_argument("--factors", nargs="+", metavar="NAME", help="factor columns (--kind responses)")
    _add_backend(embed)
    report = sub.add_parser(
        "report",
        help="write docs/results.md: named sweeps and their tables",
        description="Run the report's named sweeps through the result cache and write their "
        "tables, each with its spec, the command that wrote it, the commit and the "
        "date. The cheap sections run by default; --check recomputes them and "
        "compares them with the file (exit 2 naming the first differing table).",
    )
    report.add_argument(
        "--out",
        default="docs/results.md",
        metavar="FILE.md",
        help="the page to write or check (default: docs/results.md)",
    )
    report.add_argument(
        "--check",
        action="store_true",
        help="write nothing: fail with exit 2 unless the file's tables match a fresh run",
    )
    report.add_argument("--full", action="store_true", help="also the slower sections (minutes on a CPU)")
    report.add_argument(
        "--section", metavar="NAME", help="compute only this section (e.g. hh-length) and keep the others as written"
    )
    _add_backend(report)
    cache = sub.add_parser(
        "cache",
        help="show or clear the result cache",
        description="The result cache holds every computed sweep under cache/ "
        "(or $CAUSALPREF_CACHE_DIR), keyed by the full spec and the code version.",
    )
    cache.add_argument("action", choices=("info", "clear"), help="info: what is stored; clear: remove all results")
    return parser


def _given(args, mapping: dict[str, str]) -> dict:
    """The options the user set, renamed to the dataclass fields they override."""
    return {
        field: getattr(args, option) for option, field in mapping.items() if getattr(args, option, None) is not None
    }


COMMON_WORLD = {
    "dim": "dim",
    "noise": "noise",
    "label_mode": "label_mode",
    "temperature": "temperature",
    "pool_size": "pool_size",
    "world_seed": "seed",
}
COMMON_MODEL = {"hidden": "hidden", "latent": "latent", "layers": "n_layers"}
# Shorthands for architecture parameters: set on every chosen architecture that has the field.
PARAM_SHORTHANDS = {
    "head_hidden": ("head_hidden", "--head-hidden"),
    "adversary_lambda": ("adversary_lambda", "--lambda"),
}
COMMON_TRAIN = {"lr": "lr", "epochs": "epochs", "batch_size": "batch_size", "precision": "precision"}


REAL_ONLY = {
    "columns": "--columns",
    "prefer": "--prefer",
    "weights": "--weights",
    "split_shares": "--split-shares",
    "tol": "--tol",
}


def _world_from_args(args, spec, world_options: dict):
    if args.world == "synthetic" and not args.data:
        given = [flag for option, flag in REAL_ONLY.items() if getattr(args, option, None) is not None]
        if given or args.factors:
            raise CausalPrefError(f"{(given or ['--factors'])[0]} is for a data file: give --data PATH")
        return replace(spec.world, **_given(args, {**COMMON_WORLD, **world_options}))
    if getattr(args, "download", False):
        os.environ["CAUSALPREF_ALLOW_DOWNLOAD"] = "1"
    if args.world not in DATA_KIND_NAMES and args.world != "synthetic":  # --world FILE
        if args.data:
            raise CausalPrefError(f"--world must be synthetic or one of {list(DATA_KIND_NAMES)}, got {args.world!r}")
        args.data = args.world
    if not args.data:
        raise CausalPrefError(f"--world {args.world} needs --data PATH (a local file; nothing is downloaded)")
    synthetic = [o for o in (*COMMON_WORLD, *world_options) if getattr(args, o, None) is not None]
    if synthetic:
        flag = "--" + synthetic[0].replace("_", "-")
        hint = " (for a data file: --prefer FACTOR or --weights F1=W F2=W)" if flag == "--a" else ""
        raise CausalPrefError(f"{flag} sets the synthetic world; it has no effect on a data file{hint}")
    from causalpref.data.columns import ColumnMap, DataSource
    from causalpref.data.hf import split_suffix
    from causalpref.data.loaders import recognise_file

    columns = ColumnMap.parse(args.columns)
    path, split = split_suffix(args.data)
    kind = args.world if args.world in DATA_KIND_NAMES else recognise_file(DataSource(path, columns, split))[0]
    options = {"model_dir": args.model, "max_length": args.max_length, "columns": columns, "split": split}
    if args.split_shares is not None:
        options["split_shares"] = tuple(args.split_shares)
    if args.tol is not None:
        options["tol"] = args.tol
    options.update(_preference_options(args, kind))
    return RealDataWorld.from_path(kind, path, **options)


def _preference_options(args, kind: str) -> dict:
    """The rule that says which response is truly preferred: named factors and their weight a
    (factor data), or a factor measured from the text beside the file's label (labelled pairs)."""
    from causalpref.data.kinds import data_kind
    from causalpref.data.measures import MEASURES

    experiment = args.command if args.command in ("exp1", "exp2") else args.experiment
    factors = tuple(args.factors or ())
    if not data_kind(kind).scores:
        if args.prefer or args.weights:
            raise CausalPrefError(
                f"{'--prefer' if args.prefer else '--weights'}: {kind} data is labelled; its label is the true "
                "preference (--prefer and --weights are for factor scores)"
            )
        if experiment == "exp2":
            if factors:
                raise CausalPrefError("--factors is for Experiment 1; Experiment 2 uses the objective and prompt type")
            return {}
        measured = [f for f in factors if f in MEASURES]
        if len(factors) != 1 or not measured:
            raise CausalPrefError(
                f"Experiment 1 on labelled pairs ({kind}) needs one factor measured from the text beside the "
                f"label: --factors NAME, one of {', '.join(MEASURES)} (got {list(factors) or 'none'})"
            )
        return {"measure": measured[0]}
    if experiment == "exp2":
        raise CausalPrefError(f"{kind} data has factor scores, not objectives: it feeds exp1")
    if args.prefer and args.weights:
        raise CausalPrefError("--prefer and --weights both given: say the rule once")
    options = {}
    if args.weights:
        weights = {}
        for item in args.weights:
            name, eq, value = item.partition("=")
            try:
                weight = float(value)
            except ValueError:
                weight = float("nan")
            if not eq or not name or not np.isfinite(weight) or weight < 0:
                raise CausalPrefError(
                    f"--weights {item!r}: expected FACTOR=W with a finite W >= 0, e.g. correctness=0.7"
                )
            weights[name] = weight
        if len(weights) != 2 or sum(weights.values()) <= 0:
            raise CausalPrefError(
                f"--weights: expected two different factors with weights summing above 0, got {args.weights}"
            )
        names = tuple(weights)
        options["a"] = weights[names[0]] / sum(weights.values())
        factors = names + tuple(f for f in factors if f not in names)
    elif args.prefer:
        factors = (args.prefer,) + tuple(f for f in factors if f != args.prefer)
        options["a"] = 1.0
    if factors:
        options["factors"] = factors
    return options


def _check_options(args) -> None:
    """Values the library refuses too, checked here so that the error names the option."""
    if getattr(args, "split_shares", None) is not None:
        for name, share in zip(("TRAIN", "VAL", "TEST"), args.split_shares):
            validate.finite_number(share, f"--split-shares {name}", 0.0, 1.0, open_low=True)
    if getattr(args, "tol", None) is not None:
        validate.finite_number(args.tol, "--tol", 0.0, 0.5, open_low=True)
    if getattr(args, "a", None) is not None:
        validate.finite_number(args.a, "--a", 0.0, 1.0)
    if getattr(args, "temperature", None) is not None:
        validate.finite_number(args.temperature, "--temperature", 0.0, open_low=True)
    if getattr(args, "world_seed", None) is not None:
        validate.seed(args.world_seed, "--world-seed")


def spec_from_args(args, spec_class, world_options: dict, size_names: tuple[str, ...]):
    if getattr(args, "out", None):  # before any data is read
        from causalpref.io import check_output_path

        check_output_path(args.out)
    _check_options(args)
    repeated = sorted({r for r in args.rho if list(args.rho).count(r) > 1})
    if repeated:
        print(
            f"note: --rho {' '.join(f'{r:g}' for r in repeated)} given more than once; each rho is trained and reported once",
            file=sys.stderr,
        )
    spec = spec_class.paper_size() if args.paper_size else spec_class()
    if args.seeds < 1:
        raise CausalPrefError(f"--seeds must be at least 1, got {args.seeds}")
    world = _world_from_args(args, spec, world_options)
    if not args.paper_size:  # a small bundled file starts from sizes it can supply
        spec = replace(spec, sizes=sizes_for_data(spec_class.kind, getattr(world, "kind", "synthetic"), spec.sizes))
    spec = replace(
        spec,
        world=world,
        sizes=replace(spec.sizes, **_given(args, {f"n_{s}": s for s in size_names})),
        model=replace(spec.model, **_given(args, COMMON_MODEL)),
        train=replace(spec.train, **_given(args, COMMON_TRAIN)),
        rhos=tuple(args.rho),
        seeds=tuple(range(args.seeds)),
        models=tuple(args.models),
        weighting=args.weighting,
        device=args.device,
    )
    return _with_params(spec, args)


def _with_params(spec, args):
    """Apply the architecture-parameter shorthands (--lambda, --head-hidden) and every --param."""
    for option, (name, flag) in PARAM_SHORTHANDS.items():
        value = getattr(args, option, None)
        if value is None:
            continue
        targets = [m for m in spec.models if name in param_names(m)]
        if not targets:  # e.g. --lambda with Base only: it changes nothing, and the spec does not carry it
            print(
                f"note: {flag} is ignored: none of the chosen models {list(spec.models)} has a parameter {name!r}",
                file=sys.stderr,
            )
        for model in targets:
            spec = spec.with_params(model, **{name: value})
    for text in args.param:
        target, _, value = text.partition("=")
        model, _, name = target.partition(".")
        if not (model and name and value):
            raise CausalPrefError(
                f"--param {text!r}: expected MODEL.FIELD=VALUE, e.g. adversarial.adversary_lambda=0.5"
            )
        if model not in spec.models:
            raise CausalPrefError(f"--param {text!r}: {model!r} is not among the chosen models {list(spec.models)}")
        current = spec.params_of(model)
        if name not in param_names(model):
            raise CausalPrefError(
                f"--param {text!r}: {model} has no parameter {name!r}; its parameters: {list(param_names(model))}"
            )
        kind = type(getattr(current, name))
        try:
            spec = spec.with_params(model, **{name: kind(value)})
        except ValueError:
            raise CausalPrefError(f"--param {text!r}: {name} must be of type {kind.__name__}, got {value!r}") from None
    return spec


QUIET_SECONDS = 5.0  # between lines that report no finished model (epochs, drawing)
_printed = {"done": 0.0, "at": 0.0}


def _progress(done: float, total: int, message: str) -> None:
    """A line for every model finished, and otherwise one every few seconds (the epochs of a
    large chunk, the drawing of the pairs): never long silent, never a flood."""
    now = time.monotonic()
    finished = float(done).is_integer() and done > _printed["done"]
    if done < _printed["done"]:  # a new sweep
        _printed["done"] = 0.0
    if finished or now - _printed["at"] >= QUIET_SECONDS:
        count = f"{int(done)}" if float(done).is_integer() else f"{done:.1f}"
        print(f"  [{count}/{total}] {message}", file=sys.stderr, flush=True)
        _printed.update(done=max(_printed["done"], done if finished else _printed["done"]), at=now)


def _embed_backend() -> dict:
    """embed_pairs' `embed` for the chosen backend: {} in this process, Ray Data on Ray."""
    from causalpref.run import backends

    if backends.current().name != "ray":
        return {}
    from causalpref.run.ray_embed import embed_on_ray

    return {"embed": embed_on_ray}


def _prepare_real(args, experiment: str, spec, embed: bool = True) -> bool:
    """For a data file: say what it was read as and the preference rule, run every check that
    needs no vectors, and (with --dry-run) print the counts and stop. True: go on to embed."""
    if not isinstance(spec.world, RealDataWorld):
        if getattr(args, "dry_run", False):
            raise CausalPrefError("--dry-run checks a data file: give --data PATH")
        return True
    from causalpref.run.precheck import check_before_embedding, describe_data, dry_run_report

    description = describe_data(spec.world)
    pool = check_before_embedding(experiment, spec)
    if getattr(args, "dry_run", False):
        print(description)
        print(dry_run_report(experiment, spec, pool))
        print("dry run: nothing embedded or trained")
        return False
    print(description, file=sys.stderr)
    if embed:  # embedding can take minutes: with a progress bar, never silently
        print(f"embedding {spec.world.path} (cached under cache/embeddings) ...", file=sys.stderr)
        if _embed_backend():  # on Ray: fill the embedding cache there; the pool then reads it
            from causalpref.data.worlds.real import embed_pairs

            embed_pairs(spec.world, progress=tqdm_progress("embedding"), **_embed_backend())
        spec.world.pool(progress=tqdm_progress("embedding"))
    return True


def _run(args, kind, spec, sections) -> int:
    from causalpref.io import check_output_path, write_csv_atomic
    from causalpref.run.cache import ResultCache
    from causalpref.run.cached import run_cached
    from causalpref.run.report import weights_lines

    if args.out:
        check_output_path(args.out)
    started = time.perf_counter()
    if not _prepare_real(args, kind, spec):
        return 0
    sweep, was_cached = run_cached(kind, spec, ResultCache(enabled=not args.no_cache), progress=_progress)
    results = sweep.results
    texts = [section(results) for section in sections] + [weights_lines(sweep.details.get("weights"))]
    print("\n\n".join(text for text in texts if text))
    n_models = len(results.groupby(["rho", "seed", "model"]))
    how = "loaded from the result cache" if was_cached else "trained"
    print(f"\n{n_models} models {how} in {time.perf_counter() - started:.1f} s")
    if isinstance(spec.world, RealDataWorld):
        print(spec.world.rule)
    if args.out:
        print(f"results written to {write_csv_atomic(results, args.out)}")
    return 0


def run_exp1_command(args) -> int:
    from causalpref.run.report import achieved_rho_lines, baselines_table, exp1_table

    spec = spec_from_args(args, Exp1Spec, {"scale": "scale", "a": "a"}, ("train", "val", "id", "ood"))
    return _run(args, "exp1", spec, (exp1_table, baselines_table, achieved_rho_lines))


EXP2_WORLD = {
    "conflict": "conflict",
    "type_specificity": "type_specificity",
    "entanglement": "entanglement",
    "type_strength": "type_strength",
}


def run_exp2_command(args) -> int:
    from causalpref.run.report import achieved_consistency_lines, exp2_baselines, exp2_tables

    lambdas = args.adversary_lambda or []
    args.adversary_lambda = lambdas[0] if len(lambdas) == 1 else None
    spec = spec_from_args(args, Exp2Spec, EXP2_WORLD, ("train", "val", "test"))
    if len(lambdas) > 1:
        return _run_lambda_curve(args, spec, lambdas)
    return _run(args, "exp2", spec, (exp2_tables, exp2_baselines, achieved_consistency_lines))


def _run_lambda_curve(args, spec, lambdas) -> int:
    """exp2 --lambda L1 L2 ...: the adversarial model once per lambda, a table per lambda."""
    import pandas as pd

    from causalpref.io import write_csv_atomic
    from causalpref.run.adversary import lambda_curve_text
    from causalpref.run.cache import ResultCache
    from causalpref.run.cached import run_cached

    if "adversarial" not in spec.models:
        raise CausalPrefError("a lambda curve (--lambda with several values) needs --models ... adversarial")
    started, frames = time.perf_counter(), []
    for lam in lambdas:
        sweep, _ = run_cached(
            "exp2",
            spec.with_params("adversarial", adversary_lambda=lam),
            ResultCache(enabled=not args.no_cache),
            progress=_progress,
        )
        frames.append(sweep.results.assign(adversary_lambda=lam))
    results = pd.concat(frames, ignore_index=True)
    print(lambda_curve_text(results))
    print(f"\n{len(lambdas)} sweeps in {time.perf_counter() - started:.1f} s")
    if args.out:
        print(f"results written to {write_csv_atomic(results, args.out)}")
    return 0


def run_embed_command(args) -> int:
    from causalpref.data.columns import ColumnMap, DataSource
    from causalpref.data.hf import split_suffix
    from causalpref.data.loaders import recognise_file
    from causalpref.data.worlds.real import embed_pairs
    from causalpref.run.precheck import describe_data

    if args.download:
        os.environ["CAUSALPREF_ALLOW_DOWNLOAD"] = "1"
    columns = ColumnMap.parse(args.columns)
    path, split = split_suffix(args.data)
    kind = args.kind or recognise_file(DataSource(path, columns, split))[0]
    world = RealDataWorld.from_path(
        kind,
        path,
        model_dir=args.model,
        max_length=args.max_length,
        columns=columns,
        split=split,
        **({"factors": tuple(args.factors)} if args.factors else {}),
    )
    print(describe_data(world), file=sys.stderr)
    started = time.perf_counter()
    emb_a, _ = embed_pairs(world, progress=tqdm_progress("embedding"), **_embed_backend())
    print(
        f"{len(emb_a)} pairs of {world.path} embedded ({emb_a.shape[1]}-d) in "
        f"{time.perf_counter() - started:.1f} s; cached under cache/embeddings"
    )
    return 0


def run_diagnose_command(args) -> int:
    """Print the overlap report of each rho's seed-0 draw, as the sweep draws it. Experiment 1
    needs no vectors (quadrants of the factor differences); Experiment 2's propensity does."""
    from causalpref.draw.splits import draw_exp1_splits, draw_exp2_splits
    from causalpref.eval.diagnostics import overlap_report
    from causalpref.eval.propensity import objective_overlap_report

    if args.experiment == "exp1":
        spec = spec_from_args(args, Exp1Spec, {"scale": "scale", "a": "a"}, ("train", "val", "id", "ood"))
    else:
        spec = spec_from_args(args, Exp2Spec, {}, ("train", "val", "test"))
    if isinstance(spec.world, RealDataWorld):
        if not _prepare_real(args, args.experiment, spec, embed=args.experiment == "exp2"):
            return 0
        pool = spec.world.pool() if args.experiment == "exp2" else spec.world.text_pool()
    else:
        pool = spec.world.pool()
    for rho in spec.rhos:
        print(f"=== {args.experiment} on {spec.world.name}, training rho = {rho:g} (seed 0) ===")
        if args.experiment == "exp1":
            splits = draw_exp1_splits(pool, 0, rho, spec.sizes)
            d1, d2 = (pool.diffs(name) for name in pool.world.factor_names[:2])
            train, ood = splits.indices["train"], splits.indices["ood"]
            print(overlap_report(d1[train], d2[train], d1[ood], d2[ood]))
        else:
            splits = draw_exp2_splits(pool, 0, rho, spec.sizes)
            train = pool.pairs(splits.indices["train"], "train")
            print(objective_overlap_report(train.emb_a, train.objective, epsilon=args.epsilon))
        print()
    return 0


def run_sanity_command(args) -> int:
    """Print the sanity report of each training rho given (the table with --out: all rhos)."""
    import pandas as pd

    from causalpref.io import check_output_path, write_csv_atomic
    from causalpref.run.cache import ResultCache
    from causalpref.run.sanity import format_sanity, run_sanity_checks

    if args.experiment == "exp1":
        spec = spec_from_args(args, Exp1Spec, {"scale": "scale", "a": "a"}, ("train", "val", "id", "ood"))
    else:
        spec = spec_from_args(
            args, Exp2Spec, {"conflict": "conflict", "type_specificity": "type_specificity"}, ("train", "val", "test")
        )
    if args.out:
        check_output_path(args.out)
    if not _prepare_real(args, args.experiment, spec):
        return 0
    tables = []
    for rho in spec.rhos:
        report = run_sanity_checks(
            args.experiment, spec, rho, ResultCache(enabled=not args.no_cache), progress=_progress
        )
        how = "all loaded from the result cache" if all(report.cached.values()) else "trained"
        print(format_sanity(report))
        print(f"\n{len(report.cached)} variants {how} in {report.seconds:.1f} s\n")
        tables.append(report.table.assign(rho=rho))
    if args.out:
        print(f"table written to {write_csv_atomic(pd.concat(tables, ignore_index=True), args.out)}")
    return 0


def intervention_spec_from_args(args):
    """The InterventionSpec an `interventions exp1|exp2` command line asks for."""
    from causalpref.interventions.spec import InterventionSpec
    from causalpref.interventions.strategies import availability

    if args.experiment == "exp1":
        base = spec_from_args(args, Exp1Spec, {"scale": "scale", "a": "a"}, ("train", "val", "id", "ood"))
    else:
        base = spec_from_args(
            args, Exp2Spec, {"conflict": "conflict", "type_specificity": "type_specificity"}, ("train", "val", "test")
        )
    if len(base.rhos) != 1:
        raise CausalPrefError(f"--rho: an intervention sweep has one training rho, got {list(base.rhos)}")
    strategies = args.strategies or [name for name, why in availability(base).items() if why is None]
    return InterventionSpec(
        base=base,
        budgets=tuple(args.budget),
        strategies=tuple(strategies),
        rounds=args.rounds,
        isolated_share=args.isolated_share,
    )


def run_interventions_command(args) -> int:
    """Print the intervention sweep's tables (and write its tidy CSV with --out)."""
    from causalpref.interventions.plan import check
    from causalpref.interventions.run import run_interventions_cached
    from causalpref.interventions.summary import format_report
    from causalpref.io import check_output_path, write_csv_atomic
    from causalpref.run.cache import ResultCache

    spec = intervention_spec_from_args(args)
    base = spec.base
    if args.out:
        check_output_path(args.out)
    started = time.perf_counter()
    check(spec)  # budgets and strategies, before anything is embedded or trained
    if not _prepare_real(args, args.experiment, base):
        return 0
    sweep, was_cached = run_interventions_cached(spec, ResultCache(enabled=not args.no_cache), progress=_progress)
    results = sweep.results
    print(format_report(results))
    how = "loaded from the result cache" if was_cached else "trained"
    print(f"\n{spec.experiment} interventions at rho {spec.rho:g} {how} in {time.perf_counter() - started:.1f} s")
    if isinstance(base.world, RealDataWorld):
        print(base.world.rule)
    if args.out:
        print(f"results written to {write_csv_atomic(results, args.out)}")
    return 0


def run_cache_command(args) -> int:
    from causalpref.run.cache import ResultCache, format_info

    cache = ResultCache()
    if args.action == "info":
        print(format_info(cache.info()))
    else:
        print(f"removed {cache.clear()} file(s) from {cache.results_dir} and {cache.root / 'uploads'}")
    return 0


def run_report_command(args) -> int:
    """Write docs/results.md (or check it with --check): see run/docs_tables.py."""
    from causalpref.run.docs_tables import run_report

    print(run_report(args.out, check=args.check, full=args.full, only=args.section))
    return 0


COMMANDS = {
    "exp1": run_exp1_command,
    "exp2": run_exp2_command,
    "cache": run_cache_command,
    "embed": run_embed_command,
    "diagnose": run_diagnose_command,
    "sanity": run_sanity_command,
    "interventions": run_interventions_command,
    "report": run_report_command,
}


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _choose_backend(args) -> None:
    """The backend of a command that trains (options, else the environment), connected before
    any long work starts: an unreachable address or a missing Ray is one line, at once."""
    from causalpref.run import backends

    if not hasattr(args, "backend"):
        backends.reset()
        return
    choice = backends.choose(args.backend, args.address, args.verbose)
    if choice.name == "ray":
        from causalpref.run import ray_backend

        ray_backend.connect(choice)
        if choice.verbose:
            print(f"backend: {ray_backend.describe(choice)}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning  # the library's warnings as one line each, not two
        try:
            _choose_backend(args)
            return COMMANDS[args.command](args)
        except CausalPrefError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
