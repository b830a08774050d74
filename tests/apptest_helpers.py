"""Small readers of AppTest pages shared by the page tests."""


def metric(at, label):
    """The value text of the st.metric with this label."""
    return next(m.value for m in at.metric if m.label == label)


def percent(at, label):
    """A metric shown as 'NN.N%' as a float."""
    return float(metric(at, label).rstrip("%"))


def clean(at):
    """No exception and no st.error on the page."""
    return not at.exception and not at.error
