#!/usr/bin/env bash
# GPU check, for a CUDA machine (run from the repository root, with the project's venv
# active or PYTHON set): paper-size Experiment 1 (3 seeds) and Experiment 2 (1 seed) on
# CUDA, then the speed benchmark on CUDA. Meant to finish in about 5 minutes on one H100.
# Results go to ${OUT:-gpu-check}/. Nothing here runs in the tests or in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 CAUSALPREF_CACHE_DIR="$OUT/cache"
$PY -c "import torch, sys; ok = torch.cuda.is_available(); print('CUDA:', torch.cuda.get_device_name(0) if ok else 'not available'); sys.exit(0 if ok else 1)"
nvidia-smi --query-gpu=name,memory.total,memory.used --format=csv || true
time $PY -m causalpref exp1 --paper-size --device cuda --seeds 3 --precision tf32 --out "$OUT/exp1_paper.csv" 2>&1 | tee "$OUT/exp1_paper.txt"
time $PY -m causalpref exp2 --paper-size --device cuda --seeds 1 --precision tf32 --out "$OUT/exp2_paper.csv" 2>&1 | tee "$OUT/exp2_paper.txt"
time $PY benchmarks/train_many.py --device cuda --paper-models 12 --paper-epochs 2 2>&1 | tee "$OUT/benchmark.txt"
