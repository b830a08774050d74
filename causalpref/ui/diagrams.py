"""The paper's causal diagrams as Graphviz DOT text (st.graphviz_chart draws them).

Edges are the paper's (Kobalczyk & van der Schaar, ICML 2025; see shared paper notes §1).
"""

from __future__ import annotations


def _dot(
    edges: list[tuple[str, str]], highlight: set[tuple[str, str]] = frozenset(), latent: set[str] = frozenset()
) -> str:
    lines = ["digraph {", '  rankdir=LR; node [shape=circle, fontname="Helvetica"];']
    for node in sorted(latent):
        lines.append(f'  "{node}" [style=dashed];')
    for source, target in edges:
        style = ' [color="#d62728", penwidth=2]' if (source, target) in highlight else ""
        lines.append(f'  "{source}" -> "{target}"{style};')
    lines.append("}")
    return "\n".join(lines)


# (1) Preference data: the prompt X and the two responses Y, Y' set the rewards R, R';
# the label L compares them.
PREFERENCE = _dot([("X", "Y"), ("X", "Y'"), ("X", "R"), ("X", "R'"), ("Y", "R"), ("Y'", "R'"), ("R", "L"), ("R'", "L")])

# (2a) Self-written prompts: the user's objective C drives both the prompt and the reward.
SELF_WRITTEN = _dot([("C", "X"), ("C", "R"), ("X", "Y"), ("X", "R"), ("Y", "R")], highlight={("C", "X")})

# (2b) Randomised prompts: the prompt is assigned, so C no longer causes X.
RANDOMISED = _dot([("C", "R"), ("X", "Y"), ("X", "R"), ("Y", "R")])

# (3) Latent treatment: the text acts on the reward only through latent factors
# Z^X (prompt features) and Z^T (response features).
LATENT = _dot([("X", "Y"), ("Y", "Z^T"), ("X", "Z^T"), ("X", "Z^X"), ("Z^T", "R"), ("Z^X", "R")], latent={"Z^T", "Z^X"})

DIAGRAMS = {
    "Preference data": (PREFERENCE, "A label L compares the rewards R, R' of two responses to one prompt X."),
    "Self-written prompts": (
        SELF_WRITTEN,
        "The user's objective C shapes the prompt they write (red edge): prompt type and objective are confounded.",
    ),
    "Randomised prompts": (
        RANDOMISED,
        "Assigning prompts at random removes C → X: the objective is no longer readable from the prompt.",
    ),
    "Latent factors": (
        LATENT,
        "Text affects the reward only through latent factors (dashed): response qualities Z^T and prompt features Z^X.",
    ),
}
