"""docs/results.md sections of the adversary's measurements (run/adversary.py): the game's
stabilisers, the lambda curve, and the default vs the entangled world. Each is a
CustomSection of run/docs_tables.py: `python -m causalpref report --full --section NAME`."""

from __future__ import annotations

from causalpref.run import adversary as adv
from causalpref.run.docs_tables import Block, CustomSection, spec_line

SECTION_NAMES = ("adversary-game", "adversary-lambda", "adversary-worlds")


def _text(lines: list[str]) -> str:
    return "```text\n" + "\n".join(lines) + "\n```"


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths)).rstrip()


def _specs(specs) -> str:
    return "\n".join(f"- `{spec_line(s)}`" for s in specs)


def game_blocks(cache) -> list[Block]:
    table = adv.game_table(cache)
    widths = [32, 4, 13, 13, 13, 13, 6]
    lines = [_row(["game option", "rho", "discriminator", "probe", "inconsistent", "consistent", "score"], widths)]
    for _, r in table.iterrows():
        cells = [r["option"], f"{r['rho']:g}", adv.pm(r["disc"], r["disc_sd"]), adv.pm(r["probe"], r["probe_sd"])]
        cells += [adv.pm(r["inconsistent"], r["inconsistent_sd"]), adv.pm(r["consistent"], r["consistent_sd"])]
        lines.append(_row(cells + [f"{r['score']:.1f}"], widths))
    by_option = table.groupby("option", sort=False)["score"].mean()
    best = by_option.idxmin()
    reading = (
        "Mean score over the rho values (lower is better): "
        + ", ".join(f"{name} {score:.1f}" for name, score in by_option.items())
        + f". Best: {best}."
    )
    probe = table["probe"]
    reading += (
        f" The fresh probe reads c from z_hat at {probe.min():.0f}–{probe.max():.0f} % whatever the option: "
        "a discriminator near chance is the adversary beating its own discriminator, not c gone from z_hat."
    )
    spec = _specs([adv.game_spec(o, rho) for o in ("paper", best) for rho in adv.GAME_RHOS])
    return [
        Block("adversary-game/spec", spec),
        Block("adversary-game/table", _text(lines)),
        Block("adversary-game/reading", reading),
    ]


def lambda_blocks(cache) -> list[Block]:
    table = adv.lambda_table(cache)
    widths = [7, 4, 13, 13, 13, 13]
    lines = [_row(["lambda", "rho", "inconsistent", "consistent", "discriminator", "probe"], widths)]
    for _, r in table.iterrows():
        cells = [f"{r['lambda']:g}", f"{r['rho']:g}"]
        cells += [adv.pm(r[n], r[f"{n}_sd"]) for n in ("inconsistent", "consistent", "disc", "probe")]
        lines.append(_row(cells, widths))
    parts = []
    for rho in adv.LAMBDA_RHOS:
        best, gain, cost = adv.best_lambda(table, rho)
        parts.append(
            f"at rho {rho:g} the best lambda on inconsistent pairs is {best:g} "
            f"({gain:+.1f} points over lambda 0, {cost:+.1f} points on consistent pairs)"
        )
    reading = "Lambda 0 is Multihead exactly; " + "; ".join(parts) + ". " + _lambda_cost(table)
    return [
        Block("adversary-lambda/spec", _specs([adv.lambda_spec(lam) for lam in adv.LAMBDAS])),
        Block("adversary-lambda/table", _text(lines)),
        Block("adversary-lambda/reading", reading),
    ]


def _lambda_cost(table) -> str:
    """What the default lambda costs against lambda 0, and from which lambda BTL breaks."""
    parts = []
    for rho in adv.LAMBDA_RHOS:
        at = table[table["rho"] == rho].set_index("lambda")
        zero, one = at.loc[0.0], at.loc[1.0]
        broken = at.index[at["consistent"] < zero["consistent"] - 2.0]
        breaks = f"consistent accuracy falls more than 2 points from lambda {broken.min():g}" if len(broken) else ""
        parts.append(
            f"at rho {rho:g} the default lambda 1 changes inconsistent accuracy by "
            f"{one['inconsistent'] - zero['inconsistent']:+.1f} and consistent by "
            f"{one['consistent'] - zero['consistent']:+.1f} points" + (f"; {breaks}" if breaks else "")
        )
    return "Against lambda 0: " + "; ".join(parts) + "."


def worlds_blocks(cache) -> list[Block]:
    table = adv.worlds_table(cache)
    widths = [13, 4, 12, 13, 13, 13, 13]
    lines = [_row(["world", "rho", "model", "inconsistent", "consistent", "discriminator", "probe"], widths)]
    for _, r in table.iterrows():
        cells = [r["world"], f"{r['rho']:g}", r["model"]]
        cells += [adv.pm(r[n], r[f"{n}_sd"]) for n in ("inconsistent", "consistent", "disc", "probe")]
        lines.append(_row(cells, widths))
    parts = []
    for (world, rho), part in table.groupby(["world", "rho"], sort=False):
        acc = part.set_index("model")["inconsistent"]
        order = " > ".join(acc.sort_values(ascending=False).index)
        wins = acc["adversarial"] > acc["multihead"]
        parts.append(
            f"{world} world, rho {rho:g}: {order} "
            f"(Adversarial {'above' if wins else 'below'} Multihead by {abs(acc['adversarial'] - acc['multihead']):.1f})"
        )
    reading = "Inconsistent accuracy, best first: " + "; ".join(parts) + "."
    return [
        Block("adversary-worlds/spec", _specs([adv.world_spec(w) for w in adv.WORLDS])),
        Block("adversary-worlds/table", _text(lines)),
        Block("adversary-worlds/reading", reading),
    ]


def sections() -> tuple[CustomSection, ...]:
    return (
        CustomSection(
            "adversary-game",
            "The adversarial game: stabilisers (5 seeds)",
            "Each option changes the paper's game (gradient reversal, constant lambda = 1, one "
            "discriminator step per encoder step, one learning rate) in one respect, on the default "
            "user-objectives world at the interactive size. 'discriminator' is the co-trained "
            "discriminator's accuracy reading c from z_hat on validation responses, 'probe' a fresh "
            "probe's (a small MLP fitted on half of them, scored on the other half, both ways). Score: "
            "|discriminator - 50| + its spread, in points; the default is the lowest mean score "
            "(models/params.py). Accuracies in %, mean ± sd over 5 seeds.",
            game_blocks,
        ),
        CustomSection(
            "adversary-lambda",
            "The adversary's lambda curve (5 seeds)",
            "The adversarial model with its default game at each lambda, default world, interactive size. "
            "Lambda 0 trains Multihead exactly. Accuracies in %, mean ± sd over 5 seeds.",
            lambda_blocks,
        ),
        CustomSection(
            "adversary-worlds",
            "Base, Multihead, Adversarial and Decorrelated in the default, entangled and type-specific worlds",
            "The default world; the entangled one (entanglement 4, conflict 0: the qualities ride on the "
            "prompt type's direction with its sign, docs/worlds.md); and the type-specific one "
            "(type_specificity 1: each prompt type expresses the qualities its own way). Interactive "
            "size, every architecture at its defaults, accuracies in %, mean ± sd over 5 seeds; "
            "'discriminator' and 'probe' as in the game section.",
            worlds_blocks,
        ),
    )
