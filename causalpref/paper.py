"""The paper's reported numbers (Kobalczyk & van der Schaar, ICML 2025), for side-by-side display.

Accuracies in percent, as printed in the paper; spreads are over seeds.
"""

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


def quadrant_24_mass(rho: float) -> float:
    """P(d1 * d2 < 0) for a standard bivariate normal with correlation rho: 1/2 - arcsin(rho)/pi."""
    import math
    return 0.5 - math.asin(rho) / math.pi
