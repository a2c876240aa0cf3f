#!/usr/bin/env bash
# The prepared device check for issue 8: the GPU benchmark and the gpu-marked engine tests, in about 8 minutes.
#
# Where: the lent GPU machine (H100/H200). It has python3 with torch, transformers, accelerate, opencv and pytest,
# but not diffusers: a diffusers wheel travels with the working tree. Prepare once, in the repository root here:
#
#   echo /wheels/ >> .git/info/exclude
#   .venv/bin/pip download diffusers==0.42.1 --no-deps -d wheels/
#
# then run this script there with `wheels` carried (device tool: run, carry ["wheels"],
# command "bash tests/benchmarks/run_on_gpu.sh", timeout_s 560). diffusers' other needs (huggingface_hub >= 1.32,
# safetensors, regex, requests, filelock, Pillow, numpy) are on that machine already; importlib_metadata is
# the standard library's on Python >= 3.8. Studio itself runs from the working tree (PYTHONPATH), with its
# settings and caches in /tmp (so platformdirs is not needed).
#
# Writes to $OUT (or tests/benchmarks/results/ when OUT is unset): gpu-<device>-<time>.json (the figures),
# bench_gpu.log, pytest_gpu.log, environment.txt.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-tests/benchmarks/results}"
mkdir -p "$OUT"
BENCH_S="${BENCH_S:-380}"   # wall-clock budget of the benchmark (build + cold + warm)
TESTS_S="${TESTS_S:-90}"    # then the gpu-marked tests

if ! python3 -c "import diffusers" 2>/dev/null; then
  ls wheels/diffusers-*.whl >/dev/null 2>&1 || { echo "no wheels/diffusers-*.whl: see the top of this script"; exit 2; }
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    wheels/*.whl || exit 2
  export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
export PYTHONPATH="$PWD:${PYTHONPATH:-}"
export STUDIO_CONFIG_DIR=/tmp/studio-config STUDIO_CACHE_DIR=/tmp/studio-cache
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1

{
  date -u
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>&1
  python3 -c "import torch, diffusers, transformers, accelerate, sys; print('python', sys.version.split()[0], \
'torch', torch.__version__, 'cuda', torch.version.cuda, 'diffusers', diffusers.__version__, \
'transformers', transformers.__version__, 'accelerate', accelerate.__version__)" 2>&1
  nproc
} > "$OUT/environment.txt"
cat "$OUT/environment.txt"

timeout --signal=INT --kill-after=20 "$((BENCH_S + 15))" \
  python3 tests/benchmarks/bench_gpu.py --out "$OUT" --deadline-s "$BENCH_S" 2>&1 | tee "$OUT/bench_gpu.log"

timeout --kill-after=10 "$TESTS_S" \
  python3 -m pytest -q -m gpu -p no:cacheprovider tests/unit/test_engine_accel.py 2>&1 | tee "$OUT/pytest_gpu.log"
echo "done; results in $OUT"
