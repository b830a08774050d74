"""Interventions lab (issue 15): which extra labels buy back out-of-distribution accuracy.

strategies.py  the registry of strategies (which extra pairs to label) and what each needs
spec.py        InterventionSpec: a base experiment at one rho, budgets, strategies
draws.py       each strategy's extra pairs for one seed (pool-based, generated or relabelled)
plan.py        the checks made before any training, and each seed's shared data
run.py         the sweep: every strategy x budget x seed trained in stacked waves; cached
summary.py     curves, paired differences, labels to recover half the loss, the reading
report.py      the results sections of docs/results.md
"""
