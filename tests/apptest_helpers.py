"""Small readers of AppTest pages and test-size specs shared by the page and lesson tests."""

from dataclasses import replace

from causalpref.run.specs import Exp2Sizes
from causalpref.ui.views.objectives import objectives_spec as _objectives_spec  # the real one, before patching


def metric(at, label):
    """The value text of the st.metric with this label."""
    return next(m.value for m in at.metric if m.label == label)


def percent(at, label):
    """A metric shown as 'NN.N%' as a float."""
    return float(metric(at, label).rstrip("%"))


def clean(at):
    """No exception and no st.error on the page."""
    return not at.exception and not at.error


def tiny_objectives_spec(lam, models):
    """views.objectives.objectives_spec at a test size (3 ρ, one seed, a few hundred pairs);
    tests monkeypatch it in for the real one so that lesson sweeps train in seconds."""
    return replace(
        _objectives_spec(lam, models), rhos=(0.5, 0.9, 1.0), seeds=(0,), sizes=Exp2Sizes(train=300, val=100, test=200)
    )


def tiny_truthfulqa(path):
    """A TruthfulQA dual-label file of 5 questions x 5 answers (50 pairs): enough to load and
    embed, too few to train on."""
    import json

    rows = []
    for q in range(5):
        for i, (t, f) in enumerate(((1, 1), (1, 0), (0, 1), (0, 0), (1, 1))):
            rows.append(
                {
                    "question": f"Question number {q}?",
                    "answer": f"Answer {i} to question {q}.",
                    "truthful": t,
                    "informative": f,
                }
            )
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


# the widget accessor of AppTest for each kind of Control (causalpref.ui.state)
ACCESSORS = {
    "slider": "slider",
    "select_slider": "select_slider",
    "selectbox": "selectbox",
    "multiselect": "multiselect",
    "radio": "radio",
    "toggle": "toggle",
    "number": "number_input",
    "text": "text_input",
}


def widget(at, control):
    """The AppTest element that draws this Control, or None when the page did not draw it."""
    found = [w for w in getattr(at, ACCESSORS[control.kind]) if w.key == control.key]
    return found[0] if found else None
