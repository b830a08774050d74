"""A trained variant is an architecture with a training weighting: "base", "base+ipw",
"multihead+ipw". Its name is what results rows, legends and tables carry; its label, colour
and line style come from the two registries."""

from __future__ import annotations

from causalpref.models import architecture
from causalpref.train.weighting import NONE, weighting


def variant_name(model: str, weighting_name: str = NONE) -> str:
    return model if weighting_name == NONE else f"{model}+{weighting_name}"


def split_variant(name: str) -> tuple[str, str]:
    """(architecture, weighting) of a variant name; each part checked against its registry."""
    model, _, weighting_name = str(name).partition("+")
    architecture(model)
    weighting(weighting_name or NONE)
    return model, weighting_name or NONE


def is_weighted(name: str) -> bool:
    return split_variant(name)[1] != NONE


def variant_label(name: str) -> str:
    model, weighting_name = split_variant(name)
    label = architecture(model).label
    return label if weighting_name == NONE else f"{label} ({weighting(weighting_name).label})"


def variant_short(name: str) -> str:
    model, weighting_name = split_variant(name)
    short = architecture(model).short
    return short if weighting_name == NONE else f"{short}+{weighting_name}"


def variant_colour(name: str) -> str:
    """The architecture's colour; a weighted variant mixes it half and half with the weighting's
    colour, so Base and Base + IPW stay apart on one chart."""
    model, weighting_name = split_variant(name)
    colour = architecture(model).colour
    if weighting_name == NONE:
        return colour
    a, b = (tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in (colour, weighting(weighting_name).colour))
    return "#" + "".join(f"{(x + y) // 2:02x}" for x, y in zip(a, b))


def variant_markdown_colour(name: str) -> str:
    return architecture(split_variant(name)[0]).markdown_colour


def variant_order(names) -> list[str]:
    """Variant names in registry order (architectures first, then weightings); unknown names last."""
    from causalpref.models import ARCHITECTURES
    from causalpref.train.weighting import WEIGHTINGS

    def key(name):
        try:
            model, weighting_name = split_variant(name)
        except Exception:  # an unregistered name (an old CSV): keep it, after the known ones
            return (len(ARCHITECTURES), 0, str(name))
        return (list(ARCHITECTURES).index(model), list(WEIGHTINGS).index(weighting_name), "")

    return sorted(dict.fromkeys(names), key=key)
