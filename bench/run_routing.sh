#!/usr/bin/env bash
# The routing benchmarks of BENCHMARKS.md, side by side: the product solver, plain OR-Tools and
# PyVRP on all 56 Solomon instances (10 s) and all 56 Li & Lim instances (30 s).
# Takes about 75 minutes on a 2-core machine; run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DATA=${DATA:-../shared/benchmarks}
OUT=${OUT:-bench/results}
mkdir -p "$OUT"
SOLVERS=product,ortools-default,pyvrp
"$PY" -m delivery.bench vrptw "$DATA"/solomon/instances/*.txt --seconds 10 \
    --solver "$SOLVERS" --json "$OUT/solomon-10s.json" | tee "$OUT/solomon-10s.txt"
"$PY" -m delivery.bench pdptw "$DATA"/lilim/instances/*.txt --seconds 30 \
    --solver "$SOLVERS" --json "$OUT/lilim-30s.json" | tee "$OUT/lilim-30s.txt"
