"""The paper's reported numbers (Kobalczyk & van der Schaar, ICML 2025), for side-by-side display.

Accuracies in percent, as printed in the paper; spreads are over seeds. They are shown only
as labelled references (never as a difference to our numbers), and only beside what the
paper ran: the unweighted Base / Multihead / Adversarial models on the synthetic worlds
that stand in for its data (`shows_reference`). Every other module reads them from here.
"""

# Where each table comes from: shown beside it wherever it appears.
PROVENANCE = {
    "TABLE1": "paper Table 1 (UltraFeedback, Llama-3-8B embeddings, 3 seeds)",
    "TABLE2": "paper Table 2 (relabelled HH-RLHF, Llama-3-8B embeddings, 5 seeds)",
    "TABLE3": "paper Table 3 (relabelled HH-RLHF, training accuracy at the kept checkpoint)",
}
# The analytic toy (appendix figure): the probability mass of quadrants 2 and 4, by rho.
QUADRANT_24 = {0.0: 0.500, 0.3: 0.403, 0.6: 0.295, 0.9: 0.144}
PROVENANCE["QUADRANT_24"] = "the paper's appendix (analytic toy, quadrant-2/4 mass)"

# The worlds whose runs stand in for the paper's experiments (their results' 'world' column).
REFERENCE_WORLDS = {"exp1": "synthetic", "exp2": "synthetic-objectives"}

# Table 1, Experiment 1 (UltraFeedback, Llama-3-8B embeddings, 3 seeds): rho_tr -> (mean, spread)
TABLE1 = {
    "id": {0.0: (69.3, 0.2), 0.3: (68.3, 0.2), 0.6: (67.8, 0.2), 0.9: (67.6, 0.2)},
    "ood": {0.0: (64.5, 0.2), 0.3: (62.0, 0.2), 0.6: (59.7, 0.2), 0.9: (57.8, 0.1)},
}

# Table 2, Experiment 2 (relabelled HH-RLHF, 5 seeds): rho -> model -> (inconsistent, consistent)
TABLE2 = {
    0.5: {"base": (60.0, 60.9), "multihead": (62.9, 66.0), "adversarial": (63.7, 66.3)},
    0.6: {"base": (59.6, 61.3), "multihead": (62.4, 67.0), "adversarial": (63.0, 67.3)},
    0.7: {"base": (58.4, 62.5), "multihead": (60.6, 67.2), "adversarial": (62.3, 67.6)},
    0.8: {"base": (56.7, 63.7), "multihead": (58.6, 67.6), "adversarial": (61.3, 67.9)},
    0.9: {"base": (55.9, 64.2), "multihead": (56.3, 67.9), "adversarial": (58.9, 68.4)},
    1.0: {"base": (54.9, 64.1), "multihead": (53.8, 67.9), "adversarial": (53.5, 68.4)},
}

# Table 3, training accuracy at the selected checkpoint: rho -> model -> (inconsistent, consistent)
TABLE3 = {
    0.5: {"base": (73.5, 74.1), "multihead": (72.2, 74.8), "adversarial": (72.2, 74.2)},
    0.6: {"base": (71.3, 73.1), "multihead": (73.0, 75.8), "adversarial": (73.0, 75.8)},
    0.7: {"base": (73.9, 78.0), "multihead": (70.0, 74.9), "adversarial": (68.0, 72.7)},
    0.8: {"base": (69.4, 75.1), "multihead": (68.0, 75.3), "adversarial": (69.9, 74.7)},
    0.9: {"base": (73.7, 80.1), "multihead": (64.5, 75.0), "adversarial": (67.2, 74.6)},
    1.0: {"base": (None, 79.6), "multihead": (None, 74.1), "adversarial": (None, 72.4)},
}


def shows_reference(experiment: str, world_name: str, model: str = "base") -> bool:
    """Whether the paper's numbers may stand beside this result: the paper's own models,
    unweighted, on the synthetic world that stands in for the paper's data."""
    paper_models = {name for table in TABLE2.values() for name in table} if experiment == "exp2" else {"base"}
    return REFERENCE_WORLDS.get(experiment) == world_name and model in paper_models
