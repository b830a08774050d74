"""Everything about a real-data run that can be checked before the first text is embedded.

Embedding a real file takes minutes; a size, a target rho or a missing column must not fail
after it. `check_before_embedding` draws every (rho, seed) cell's splits on the world's text
pool (labels, factor differences, objectives, groups: no vectors), exactly as the sweep will
draw them, so every sampler error comes first. `describe_data` says what the file was read as
and the preference rule; `dry_run_report` adds the counts per cell and the feasible rho range.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from causalpref.data.worlds.real import RealDataWorld, TextPool
from causalpref.draw.consistency import feasible_consistency_range
from causalpref.draw.correlation import feasible_rho_range
from causalpref.draw.groups import group_split
from causalpref.draw.splits import cell_seed, draw_exp1_splits, draw_exp2_splits, drawing_of, sizes_text
from causalpref.errors import CausalPrefError


def describe_data(world: RealDataWorld) -> str:
    """What the file was read as, how many pairs and groups, what was left out, and the rule."""
    text = world.text
    lines = [f"data: {world.path}" + (f" (split {world.split})" if world.split else "")]
    lines.append(f"  read as: {text.shape or world.kind} [kind {world.kind}]")
    if world.columns:
        lines.append(f"  columns mapped: {world.columns.describe()}")
    lines.append(f"  {len(text):,} pairs over {text.n_groups:,} prompt groups")
    if text.skipped:
        lines.append("  left out: " + ", ".join(f"{count:,} {why}" for why, count in text.skipped.items()))
    lines.append(f"  {world.rule}")
    return "\n".join(lines)


def check_before_embedding(experiment: str, spec) -> TextPool:
    """Draw every cell of the spec on the text pool; a CausalPrefError names what cannot be drawn."""
    pool = spec.world.text_pool()
    if experiment == "exp2":
        missing = [
            name for name, value in (("objective", pool.objective), ("prompt_type", pool.prompt_type)) if value is None
        ]
        if missing:
            raise CausalPrefError(
                f"{spec.world.path}: Experiment 2 needs an objective and a prompt type per pair, and this "
                f"data has no {' and no '.join(missing)}; map the column(s) with --columns "
                + " ".join(f"{name}=COLUMN" for name in missing)
                + " (values helpful/harmless or 0/1)"
            )
    elif len(pool.factor_names) < 2:
        raise CausalPrefError(f"{spec.world.path}: Experiment 1 needs two factors, got {list(pool.factor_names)}")
    draw = draw_exp1_splits if experiment == "exp1" else draw_exp2_splits
    for rho in spec.rhos:
        for seed in spec.seeds:
            draw(pool, seed, rho, spec.sizes)
    return pool


def dry_run_report(experiment: str, spec, pool: TextPool) -> str:
    """Counts per cell and the feasible rho (or consistency) range, for --dry-run."""
    lines = [f"split sizes: {sizes_text(spec.sizes)}"]
    if experiment == "exp1":
        d1, d2 = (pool.diffs(name) for name in pool.factor_names[:2])
        f1, f2 = pool.factor_names[:2]
        signs = Counter(zip(np.sign(d1).astype(int).tolist(), np.sign(d2).astype(int).tolist()))
        names = {1: "+", -1: "−", 0: "0"}
        lines.append(f"pairs per sign of (d1 = {f1}, d2 = {f2}):")
        for (s1, s2), count in sorted(signs.items(), reverse=True):
            lines.append(f"  d1 {names[s1]}, d2 {names[s2]}: {count:,}")
        disagree = int(np.sum(d1 * d2 < 0))
        lines.append(f"  factors disagree (the OOD test's pairs): {disagree:,}")
        shares, _ = drawing_of(pool)
        parts = group_split(pool.group, shares, cell_seed(spec.seeds[0], spec.rhos[0]))
        lo, hi = feasible_rho_range(d1, d2, spec.sizes.train, available=parts["train"])
        lines.append(
            f"feasible training rho for {spec.sizes.train:,} pairs from the training groups: [{lo:+.2f}, {hi:+.2f}]"
        )
    else:
        cells = Counter(zip(pool.prompt_type.tolist(), pool.objective.tolist()))
        words = ("helpful", "harmless")
        lines.append("pairs per (prompt type t, objective c):")
        for (t, c), count in sorted(cells.items()):
            kind = "consistent" if t == c else "inconsistent"
            lines.append(f"  t = {words[t]}, c = {words[c]} ({kind}): {count:,}")
        lo, hi = feasible_consistency_range(pool.prompt_type, pool.objective, spec.sizes.train)
        lines.append(
            f"feasible consistency rate for {spec.sizes.train:,} training pairs (whole pool): [{lo:.2f}, {hi:.2f}]"
        )
    rhos = " ".join(f"{r:g}" for r in spec.rhos)
    lines.append(f"every cell (rho {rhos} × {len(spec.seeds)} seeds) draws: checked")
    return "\n".join(lines)
