"""Small readers of AppTest pages and test-size specs shared by the page and lesson tests."""

from dataclasses import replace

from causalpref.run.specs import Exp2Sizes
from causalpref.ui.views.objectives import objectives_spec as _objectives_spec   # the real one, before patching


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
    return replace(_objectives_spec(lam, models), rhos=(0.5, 0.9, 1.0), seeds=(0,),
                   sizes=Exp2Sizes(train=300, val=100, test=200))
