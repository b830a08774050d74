"""Every page's controls, in one table per page (TensorFlow Playground's state.ts is the model).

A `Control` says what a knob is: its key (also its URL query parameter), the kind of widget,
its label, default, options or range, and whether a teacher link may hide it. appkit renders
a Control into its Streamlit widget, binds it to the URL and applies teacher links from this
one description, so "every control is in the URL" and "a link can set every control it may
hide" hold by construction. No streamlit here.

URL values are short keys, never the labels the reader sees: `scale=continuous` shows as
"continuous (Gaussian)", `arch=base+ipw` as "Base (IPW)". A URL may also name an option by its
label (case-insensitive), so links written by hand with labels keep working; the page then
rewrites them as keys.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Mapping

from causalpref.data.columns import TARGETS, VALUE_TARGETS
from causalpref.data.measures import MEASURES, measure_label
from causalpref.data.worlds.synthetic import SCALES
from causalpref.errors import CausalPrefError
from causalpref.run.specs import INTERACTIVE_RHOS
from causalpref.ui.views import data as dv
from causalpref.ui.views import interventions as iv
from causalpref.ui.views import objectives as ov
from causalpref.ui.views import overlap as oview

__all__ = [
    "KINDS",
    "MISSING",
    "Control",
    "State",
    "TABLES",
    "canonical_params",
    "example_options",
    "OVERLAP",
    "CORRELATION",
    "OBJECTIVES",
    "TOY",
    "DATA",
    "LESSONS",
    "INTERVENTIONS",
]

KINDS = ("slider", "select_slider", "selectbox", "multiselect", "radio", "toggle", "number", "text")
CHOICE_KINDS = ("select_slider", "selectbox", "radio")
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
_TEXT_LIMIT = 4096


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()  # what parse() gives for an absent or invalid URL value: use the default


def _number_text(value) -> str:
    """0.9 -> '0.9', 1.0 -> '1', 0.30000000000000004 -> '0.3', 7 -> '7'."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        value = round(value, 10)
        if math.isfinite(value) and value == int(value):
            return str(int(value))
        return f"{value:g}"
    return str(value)


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        try:
            return a is not None and b is not None and math.isclose(float(a), float(b), abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@dataclass(frozen=True)
class Control:
    """One knob of a page. `options` hold the values the page receives (and the URL shows);
    `labels` (a mapping or a function) say how the reader sees each of them. Options, labels,
    default or range that depend on the session (a data file, a lesson) are given again when
    the page renders the control (appkit.control(..., options=...))."""

    key: str
    kind: str
    label: str
    default: Any = None
    options: tuple = ()
    labels: Mapping | Callable | None = None
    range: tuple | None = None  # slider, number: (min, max, step)
    format: str | None = None  # slider, number: the display format (sprintf), e.g. "%d%%"
    hideable: bool = True  # may a teacher link hide it?
    help: str | None = None
    name: str | None = None  # short name for the link maker (default: the label)

    def __post_init__(self):
        if not _KEY.match(self.key):
            raise CausalPrefError(f"control key {self.key!r}: letters, digits, '_' or '-' only")
        if self.kind not in KINDS:
            raise CausalPrefError(f"control {self.key}: kind {self.kind!r} is not one of {KINDS}")
        if self.kind in ("slider", "number") and (self.range is None or len(self.range) != 3):
            raise CausalPrefError(f"control {self.key}: a {self.kind} needs range=(min, max, step)")
        object.__setattr__(self, "options", tuple(self.options))
        if self.options and self.default is not None and not self.valid(self.default):
            raise CausalPrefError(f"control {self.key}: default {self.default!r} is not a valid value")

    # ------------------------------------------------------------------ reading
    @property
    def short(self) -> str:
        return self.name or self.label

    def with_(self, **changes) -> "Control":
        return replace(self, **changes) if changes else self

    def label_of(self, option) -> str:
        """What the reader sees for an option."""
        if callable(self.labels):
            return str(self.labels(option))
        if isinstance(self.labels, Mapping) and option in self.labels:
            return str(self.labels[option])
        return _number_text(option)

    def _option(self, text: str):
        """The option a URL value names: by its key first, then by its label (any case)."""
        for option in self.options:
            if text == _number_text(option):
                return option
        for option in self.options:
            if isinstance(option, (int, float)) and not isinstance(option, bool):
                try:
                    if math.isclose(float(text), float(option), abs_tol=1e-9):
                        return option
                except ValueError:
                    pass
        folded = text.strip().casefold()
        for option in self.options:
            if folded in (_number_text(option).casefold(), self.label_of(option).strip().casefold()):
                return option
        if " " in text:  # a hand-written `arch=base+ipw` arrives as "base ipw"
            return self._option(text.replace(" ", "+"))
        return MISSING

    def _on_grid(self, text: str):
        lo, hi, step = self.range
        try:
            number = float(text)
        except (TypeError, ValueError):
            return MISSING
        if not math.isfinite(number) or number < lo - 1e-9 or number > hi + 1e-9:
            return MISSING
        steps = (number - lo) / step
        if abs(steps - round(steps)) > 1e-6:
            return MISSING
        value = round(lo + round(steps) * step, 10)
        integral = all(isinstance(v, int) and not isinstance(v, bool) for v in self.range)
        return int(round(value)) if integral else float(value)

    def parse(self, raw: Iterable[str] | str | None):
        """The value the URL values `raw` (st.query_params.get_all(key)) set, or MISSING."""
        values = [raw] if isinstance(raw, str) else list(raw or ())
        if not values:
            return MISSING
        if self.kind == "multiselect":
            if values == [""]:
                return []
            chosen = []
            for text in values:
                option = self._option(text)
                if option is not MISSING and option not in chosen:
                    chosen.append(option)
            return chosen if chosen else MISSING
        text = values[-1].strip()
        if self.kind in CHOICE_KINDS:
            if text == "" and self.kind == "radio" and self.default is None:
                return None
            return self._option(text)
        if self.kind in ("slider", "number"):
            return self._on_grid(text)
        if self.kind == "toggle":
            folded = text.casefold()
            return True if folded in _TRUE else False if folded in _FALSE else MISSING
        return values[-1][:_TEXT_LIMIT] if len(values[-1]) <= _TEXT_LIMIT else MISSING

    def valid(self, value) -> bool:
        """Whether `value` is one this control can hold (against its current options/range)."""
        if self.kind == "multiselect":
            return isinstance(value, (list, tuple)) and all(self._option(_number_text(v)) is not MISSING for v in value)
        if self.kind in CHOICE_KINDS:
            if value is None:
                return self.kind == "radio" and self.default is None
            return any(_same(value, option) for option in self.options)
        if self.kind in ("slider", "number"):
            return (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and self._on_grid(_number_text(value)) is not MISSING
            )
        if self.kind == "toggle":
            return isinstance(value, bool)
        return isinstance(value, str)

    # ------------------------------------------------------------------ writing
    def is_default(self, value) -> bool:
        return _same(value, self.default)

    def serialize(self, value) -> list[str]:
        """The URL values for `value` (a one-element list for a single value)."""
        if self.kind == "multiselect":
            keys = [_number_text(v) for v in value]
            return keys if keys else [""]
        if value is None:
            return [""]
        return [_number_text(value)]


@dataclass(frozen=True)
class State:
    """A page's controls, in the order the page shows them."""

    controls: tuple[Control, ...]
    by_key: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        keys = [c.key for c in self.controls]
        if len(set(keys)) != len(keys):
            raise CausalPrefError(f"duplicate control keys in {keys}")
        object.__setattr__(self, "by_key", {c.key: c for c in self.controls})

    def __getitem__(self, key: str) -> Control:
        try:
            return self.by_key[key]
        except KeyError:
            raise CausalPrefError(f"no control {key!r}; the page's controls are {list(self.by_key)}") from None

    def __iter__(self):
        return iter(self.controls)

    def __contains__(self, key) -> bool:
        return key in self.by_key

    def keys(self) -> tuple[str, ...]:
        return tuple(self.by_key)

    @property
    def hideable(self) -> dict[str, str]:
        """key -> short name of the controls a teacher link may hide."""
        return {c.key: c.short for c in self.controls if c.hideable}


# --------------------------------------------------------------------------- the tables

SYNTHETIC, DATA_WORLD = "synthetic", "data"
PREFER_OPTIONS = (dv.PREFER_FIRST, dv.PREFER_SECOND, dv.PREFER_WEIGHTS)
PREFER_LABELS = {
    dv.PREFER_FIRST: "factor 1 decides",
    dv.PREFER_SECOND: "factor 2 decides",
    dv.PREFER_WEIGHTS: "a weighting of the two",
}
WORLD_LABELS = {SYNTHETIC: "Synthetic (embedded)", DATA_WORLD: "Data (the file chosen on the Data page)"}
SCALE_LABELS = oview.SCALE_LABELS
REAL_RHOS = (0.0, 0.3, 0.6, 0.9)


def _g(value) -> str:
    return f"{value:g}"


OVERLAP = State(
    (
        Control(
            "world",
            "selectbox",
            "World",
            default="correlated",
            options=tuple(oview.WORLDS),
            labels=oview.WORLDS,
            help="Correlated factors: truthfulness and instruction-following set the reward (Experiment 1). "
            "User objectives: helpfulness and harmlessness (Experiment 2).",
        ),
        Control(
            "scale",
            "selectbox",
            "Rating scale of the two causal factors",
            default="likert",
            options=SCALES,
            labels=SCALE_LABELS,
            name="Rating scale",
            help="The other factors of the world (length, tone, …) are always continuous.",
        ),
        Control("seed", "number", "Seed", default=0, range=(0, 10_000, 1), help="Fixes the draw of the pairs."),
        Control(
            "factor_a",
            "selectbox",
            "First factor (d1)",
            default=oview.default_pair("correlated")[0],
            options=oview.factor_choices("correlated", "likert"),
            name="First factor",
        ),
        Control(
            "factor_b",
            "selectbox",
            "Second factor (d2)",
            default=oview.default_pair("correlated")[1],
            options=oview.factor_choices("correlated", "likert"),
            name="Second factor",
        ),
        Control(
            "rho",
            "select_slider",
            "Training correlation ρ between d1 and d2",
            default=0.6,
            options=oview.RHO_OPTIONS,
            labels=_g,
            name="ρ",
        ),
    )
)

CORRELATION = State(
    (
        Control(
            "world",
            "selectbox",
            "World",
            default=SYNTHETIC,
            options=(SYNTHETIC,),
            labels=WORLD_LABELS,
            help="Synthetic: the embedded correlated-factors world. Data: the file chosen on the Data page.",
        ),
        Control(
            "rho",
            "select_slider",
            "Training correlation ρ between d1 and d2",
            default=0.0,
            options=INTERACTIVE_RHOS,
            labels=_g,
            name="ρ",
        ),
        Control(
            "scale",
            "selectbox",
            "Factor scores",
            default="likert",
            options=SCALES,
            labels=SCALE_LABELS,
            help="Likert: ratings 1–5 like UltraFeedback (the paper's data); continuous: Gaussian factors; "
            "binary: 0/1 like TruthfulQA.",
        ),
        Control(
            "rho_real",
            "select_slider",
            "Training correlation ρ between d1 and d2 (data)",
            default=0.0,
            options=REAL_RHOS,
            labels=_g,
            name="ρ on the data",
            help="On a data file the sweep trains these values of ρ (those out of the file's reach are replaced).",
        ),
        Control(
            "prefer",
            "radio",
            "True preference",
            default=None,
            options=PREFER_OPTIONS,
            labels=PREFER_LABELS,
            help="Which response people truly prefer on this factor data: one factor decides (the other is "
            "spurious), or a weighting of the two. Nothing trains until it is said.",
        ),
        Control(
            "a_real",
            "slider",
            "Weight a of factor 1 (1 − a on factor 2)",
            default=0.5,
            range=(0.0, 1.0, 0.05),
            name="Weight a",
            help="The true reward is a·factor 1 + (1 − a)·factor 2; the higher one wins.",
        ),
        Control(
            "measure",
            "selectbox",
            "Factor measured from the text",
            default="length_words",
            options=tuple(MEASURES),
            labels=measure_label,
            name="Measured factor",
            help="Labelled pairs: the file's label is the preference (d1); this factor, measured from each "
            "response's text, is the spurious one (d2).",
        ),
        Control(
            "remedy",
            "toggle",
            "Also train the reweighting remedy",
            default=False,
            name="Reweighting remedy",
            help="Base trained with weights that make the four quadrants of (d1, d2) count equally — the "
            "classic causal-inference fix for a shifted training set.",
        ),
    )
)

OBJECTIVES = State(
    (
        Control(
            "world",
            "selectbox",
            "World",
            default=SYNTHETIC,
            options=(SYNTHETIC,),
            labels=WORLD_LABELS,
            help="Synthetic: the embedded user-objectives world. Data: the file chosen on the Data page.",
        ),
        Control(
            "rho",
            "select_slider",
            "Consistency rate ρ = P(t = c)",
            default=ov.DEFAULT_RHO,
            options=ov.RHO_OPTIONS,
            labels=_g,
            name="ρ",
            help="0.5: prompts assigned at random (no confounding); 1: every prompt matches its labeller's "
            "objective (extreme confounding).",
        ),
        Control(
            "arch",
            "multiselect",
            "Architectures to compare",
            default=list(ov.DEFAULT_ARCHITECTURES),
            options=ov.architectures(),
            labels=ov.label,
            name="Architectures",
            help="The paper's three, each also with inverse-propensity weights 1/P(c | prompt), the classic "
            "causal-inference remedy.",
        ),
        Control(
            "lam",
            "select_slider",
            "λ, gradient-reversal strength of the adversarial model",
            default=ov.DEFAULT_LAMBDA,
            options=ov.LAMBDA_OPTIONS,
            labels=_g,
            name="λ",
            help="0 makes the adversarial model a Multihead; the paper uses 1. Only the adversarial model uses it.",
        ),
    )
)

TOY = State(
    (
        Control("rho", "slider", "Correlation ρ", default=0.9, range=(-0.95, 0.95, 0.05), name="ρ"),
        Control("a", "slider", "True weight a on d1", default=0.25, range=(0.0, 1.0, 0.05), name="True weight a"),
        Control(
            "a_hat", "slider", "Fitted weight â on d1", default=0.5, range=(0.0, 1.0, 0.05), name="Fitted weight â"
        ),
        Control(
            "seed", "number", "Seed", default=0, range=(0, 10_000, 1), help="Fixes the sampled points and the refits."
        ),
        Control("n", "slider", "N pairs per refit", default=100, range=(20, 500, 10)),
        Control("repeats", "slider", "Repeats", default=200, range=(50, 500, 50)),
    )
)

NO_EXAMPLE = "none"


def example_options(examples: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str, str]]:
    """The Data page's example data sets (label -> (kind, path), views.data.example_datasets) by a
    short URL key, their kind of data (`example=truthfulqa`): key -> (label, kind, path)."""
    out: dict[str, tuple[str, str, str]] = {}
    for label, (kind, path) in examples.items():
        key, n = kind, 1
        while key in out or key == NO_EXAMPLE:
            n += 1
            key = f"{kind}-{n}"
        out[key] = (label, kind, path)
    return out


DATA_KINDS = dv.kind_options()  # as registered at import; the Data page gives the registry's at render time


def _mapping_controls() -> tuple[Control, ...]:
    """The Data page's column-mapping form: for each field the loaders read, the file's column
    that holds it (options given at render time: the file's columns), and for the fields whose
    values mean something, a value map."""
    out = []
    for target, what in TARGETS.items():
        out.append(
            Control(
                dv.MAP_KEYS[target],
                "selectbox",
                target,
                default=dv.NO_COLUMN,
                options=(dv.NO_COLUMN,),
                labels={dv.NO_COLUMN: "—"},
                hideable=False,
                help=f"The file's column that holds {what}.",
            )
        )
        if target in VALUE_TARGETS:
            meanings = sorted(set(VALUE_TARGETS[target]) - {"0", "1", "true", "false", "good", "bad"})
            out.append(
                Control(
                    dv.VALUES_KEYS[target],
                    "text",
                    f"values of {target}",
                    default="",
                    hideable=False,
                    help=f"Optional: what the column's values mean, e.g. 1={meanings[0]},2={meanings[-1]},0=drop "
                    f"({'/'.join(meanings)}, 0/1, or drop: the row is left out and counted).",
                )
            )
    return tuple(out)


DATA = State(
    (
        Control(
            "example",
            "selectbox",
            "Examples: the development data sets in ../shared/data",
            default=NO_EXAMPLE,
            options=(NO_EXAMPLE,),
            labels={NO_EXAMPLE: "—"},
            hideable=False,
            help="Picking one fills in the path below.",
        ),
        Control(
            "path",
            "text",
            "Local data file or folder of files (.jsonl, .jsonl.gz, .json, .csv, .parquet)",
            default="",
            hideable=False,
        ),
        Control(
            "kind",
            "selectbox",
            "Kind of data",
            default=dv.RECOGNISED,
            options=DATA_KINDS,
            labels=dv.kind_label,
            hideable=False,
            help="Recognised from the fields of the first record; choose a kind to read the file otherwise. "
            "Factor scores (truthfulqa, ultrafeedback, responses) and labelled pairs both feed Correlation "
            "shift; pairs with an objective and a prompt type feed User objectives too.",
        ),
        Control(
            "model_dir",
            "text",
            "Local model directory (empty: the packaged all-MiniLM-L6-v2)",
            default="",
            hideable=False,
        ),
        Control(
            "factors",
            "text",
            "Factor columns (comma-separated, the first two are used)",
            default="truthful, informative",
            hideable=False,
        ),
        *_mapping_controls(),
    )
)

LESSONS = State(
    (
        Control("lesson", "radio", "Lesson", default=1, options=(1, 2, 3, 4, 5, 6)),
        Control(
            "guess",
            "slider",
            "Your guess",
            default=50.0,
            range=(0.0, 100.0, 1.0),
            hideable=False,
            name="Your prediction",
        ),
        Control("answer", "radio", "Your answer", default=None, options=(), hideable=False, name="Your prediction"),
    )
)


def _strategy_toggles() -> tuple[Control, ...]:
    """One toggle per intervention strategy of either experiment (the registry's), on by default."""
    return tuple(
        Control(
            name,
            "toggle",
            label,
            default=True,
            name=f"Strategy: {label}",
            help=description,
        )
        for name, label, description in iv.strategy_controls()
    )


INTERVENTIONS = State(
    (
        Control(
            "experiment",
            "radio",
            "Experiment",
            default="exp1",
            options=iv.EXPERIMENTS,
            labels=iv.EXPERIMENT_LABELS,
            help="Correlated factors: truthfulness and instruction-following rise together in training "
            "(Experiment 1). User objectives: the prompt type goes with the labeller's objective (Experiment 2).",
        ),
        Control(
            "rho",
            "select_slider",
            "ρ of the base training set",
            default=iv.DEFAULT_RHO,
            options=iv.RHO_OPTIONS["exp1"],
            labels=_g,
            name="ρ",
            help="Experiment 1: the correlation of d1 and d2 in the base training set. Experiment 2: the "
            "consistency rate P(t = c). Every ρ trains once (all strategies, budgets and seeds) and is cached.",
        ),
        Control(
            "budget",
            "select_slider",
            "Extra labels you can buy (budget B)",
            default=iv.DEFAULT_BUDGET,
            options=iv.BUDGET_OPTIONS,
            labels=_g,
            name="Budget",
            help="The budget at which the cards, the reading and the picture of where the labels went are "
            "shown; the curves show every budget.",
        ),
        *_strategy_toggles(),
    )
)

# page key (causalpref.ui.pages) -> its table
TABLES: dict[str, State] = {
    "Latent_overlap": OVERLAP,
    "Correlation_shift": CORRELATION,
    "User_objectives": OBJECTIVES,
    "Analytic_toy": TOY,
    "Data": DATA,
    "Lessons": LESSONS,
    "Interventions": INTERVENTIONS,
}


def canonical_params(page: str, params: Mapping[str, object] | None) -> dict[str, str | list[str]]:
    """`params` for a link to `page`, each value a control of that page names rewritten as its
    short key (`scale=continuous (Gaussian)` -> `scale=continuous`); anything else kept as given.
    A control at its default is left out, as the page's own URL leaves it out: otherwise the
    page would rewrite the URL on arrival, and the browser would count that as a second page
    (one Back would not leave it)."""
    table = TABLES.get(page)
    out: dict[str, str | list[str]] = {}
    for key, value in (params or {}).items():
        values = [value] if isinstance(value, str) else [str(v) for v in value]
        if table is not None and key in table:
            parsed = table[key].parse(values)
            if parsed is not MISSING:
                if table[key].is_default(parsed):
                    continue
                values = table[key].serialize(parsed)
        out[key] = values[0] if len(values) == 1 else values
    return out
