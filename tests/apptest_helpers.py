"""Small readers of AppTest pages and test-size specs shared by the page and lesson tests."""

import re
from dataclasses import replace

from causalpref.interventions.spec import default_spec as _intervention_spec
from causalpref.run.specs import Exp2Sizes, SplitSizes
from causalpref.ui.views.objectives import objectives_spec as _objectives_spec  # the real one, before patching


def metric(at, label):
    """The value text of the st.metric with this label."""
    return next(m.value for m in at.metric if m.label == label)


def percent(at, label):
    """A metric shown as 'NN.N%' as a float."""
    return float(metric(at, label).rstrip("%"))


def shown(value: str) -> str:
    """An element's text as the reader sees it: visitor text is Markdown-escaped (ui/safe.py)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", value).replace("\u2060", "")


def clean(at):
    """No exception and no st.error on the page."""
    return not at.exception and not at.error


def tiny_objectives_spec(lam, models):
    """views.objectives.objectives_spec at a test size (3 ρ, one seed, a few hundred pairs);
    tests monkeypatch it in for the real one so that lesson sweeps train in seconds."""
    return replace(
        _objectives_spec(lam, models), rhos=(0.5, 0.9, 1.0), seeds=(0,), sizes=Exp2Sizes(train=300, val=100, test=200)
    )


def tiny_interventions_spec(experiment, rho):
    """views.interventions.page_spec at a test size (two seeds, budgets 0/50/200, a few hundred
    pairs: about 4 s); tests monkeypatch it in so that the page's and lesson 6's sweeps train in
    seconds."""
    sizes = SplitSizes(train=300, val=100, id=200, ood=200) if experiment == "exp1" else Exp2Sizes(300, 100, 200)
    return _intervention_spec(experiment, rho=float(rho), seeds=(0, 1), sizes=sizes, budgets=(0, 50, 200))


def run_need(need):
    """The sweep of a lesson's SweepNeed, as the page gets it through appkit (cached)."""
    if need.kind == "interventions":
        from causalpref.interventions.run import run_interventions_cached

        return run_interventions_cached(need.spec)[0]
    from causalpref.run.cached import run_cached

    return run_cached(need.kind, need.spec)[0]


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


def flat_pairs(path, prompts=40, per=5, seed=0, drop_every=0):
    """A labelled pair table with names no loader knows (question, out1, out2, winner: 1 = out1
    preferred, 2 = out2, 0 = no preference, for a value map to drop; goal h/s and ptype
    helpful/harmless: the objective and the prompt type), as CSV: `prompts` prompts with `per`
    pairs each, drawn from 5 answers of different lengths per prompt (at most 5 texts per
    prompt to embed). `drop_every`: every n-th row gets winner 0."""
    import csv

    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for p in range(prompts):
        lengths = rng.choice(np.arange(1, 15), 5, replace=False)
        answers = [" ".join(["word"] * int(k)) + f" answer {p}.{k}" for k in lengths]
        for _ in range(per):
            i, j = rng.choice(5, 2, replace=False)
            n = len(rows) + 1
            winner = "0" if drop_every and n % drop_every == 0 else str(int(rng.integers(1, 3)))
            rows.append(
                {
                    "question": f"Question {p}?",
                    "out1": answers[i],
                    "out2": answers[j],
                    "winner": winner,
                    "goal": "hs"[int(rng.integers(0, 2))],
                    "ptype": ("helpful", "harmless")[p % 2],
                }
            )
    with open(path, "w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


FLAT_MAPPING = ("prompt=question", "response_a=out1", "response_b=out2", "label=winner:1=a,2=b,0=drop")
FLAT_OBJECTIVES = FLAT_MAPPING + ("objective=goal:h=helpful,s=harmless", "prompt_type=ptype")


def trl_conversational(path, n=6):
    """TRL preference data, explicit prompt, conversational: {prompt, chosen, rejected} as
    lists of {role, content} messages (JSONL)."""
    import json

    rows = [
        {
            "prompt": [{"role": "user", "content": f"What is {i} plus {i}?"}],
            "chosen": [{"role": "assistant", "content": f"It is {2 * i}."}],
            "rejected": [{"role": "assistant", "content": f"It is {2 * i + 1}, I think, but I am not sure."}],
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def factor_table(path, questions=30, answers=5, seed=0):
    """A TruthfulQA dual-label file: `questions` questions with `answers` answers each, the two
    labels drawn independently (every question gives both agreeing and disagreeing pairs)."""
    import json

    import numpy as np

    rng = np.random.default_rng(seed)
    rows = [
        {
            "question": f"Question {q}?",
            "answer": f"Answer {k} to question {q}.",
            "truthful": int(rng.integers(0, 2)),
            "informative": int(rng.integers(0, 2)),
        }
        for q in range(questions)
        for k in range(answers)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path
