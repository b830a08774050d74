#!/usr/bin/env bash
# GPU check, for a CUDA machine (run from the repository root, with the project's venv
# active or PYTHON set): paper-size Experiment 1 (3 seeds) and Experiment 2 (1 seed) on
# CUDA, then the speed benchmark on CUDA, then a Ray run on the one GPU (sweep and embed).
# Meant to finish in about 6 minutes on one H100.
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
# Ray on the one GPU (issue 18): a local Ray sees the GPU; the interactive Experiment-1 sweep as
# Ray tasks on CUDA (a quarter of the GPU per chunk) must give the local backend's CSV byte for
# byte; then embed --backend ray runs the encoder on the GPU as a Ray Data actor pool.
time $PY -m causalpref exp1 --device cuda --no-cache --out "$OUT/exp1_local_cuda.csv" 2>&1 | tee "$OUT/exp1_local_cuda.txt"
time $PY -m causalpref exp1 --device cuda --no-cache --backend ray --verbose --out "$OUT/exp1_ray_cuda.csv" 2>&1 | tee "$OUT/exp1_ray_cuda.txt"
if cmp -s "$OUT/exp1_local_cuda.csv" "$OUT/exp1_ray_cuda.csv"; then echo "Ray on one GPU: same CSV as local"; else echo "Ray on one GPU: CSV DIFFERS from local"; fi | tee -a "$OUT/exp1_ray_cuda.txt"
$PY - "$OUT/ray_embed.csv" <<'PYEOF'
import csv, sys
with open(sys.argv[1], "w", newline="") as handle:
    out = csv.writer(handle)
    out.writerow(["prompt", "response_a", "response_b", "label"])
    for i in range(2000):
        out.writerow([f"Question {i}: how do I do thing {i % 37}?", "Step by step: " + "do this. " * (i % 50 + 1), f"No idea {i}.", 1])
PYEOF
time CAUSALPREF_CACHE_DIR="$OUT/cache-ray-embed" $PY -m causalpref embed --data "$OUT/ray_embed.csv" --backend ray --verbose 2>&1 | tee "$OUT/ray_embed.txt"
