#!/usr/bin/env bash
# The GPU checks and figures of issue 16, as one command for a device machine (the device tool runs
# it in the repository root; nothing is installed there: the image's python3 has torch, lightning,
# rich, tensorboard, pyarrow, scipy, matplotlib, and machop runs from the tree).
#
#   bash benchmarks/gpu_session.sh              # about 5 min; stages ordered by value, each with its own limit
#   DEVICE=cpu PYTHON=.venv/bin/python bash benchmarks/gpu_session.sh   # the stages on the CPU: checks the script
#
# Files land in $OUT (the device tool brings them back): gpu.txt, cuda_check.txt,
# sweep_lab1_cuda.txt/.json, train_throughput_cuda.txt (its last section goes into
# benchmarks/RESULTS.md), largest_ensemble_cuda.txt. The stages do not depend on each other; a stage
# that runs out of time leaves the results of the others.
set -uo pipefail
export PYTHONPATH=. PYTHONUNBUFFERED=1
OUT=${OUT:-gpu-results}
DEVICE=${DEVICE:-cuda}
PYTHON=${PYTHON:-python3}   # the device image's python3; .venv/bin/python for a run here
mkdir -p "$OUT"
if [ "$DEVICE" = cuda ]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
fi
"$PYTHON" -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA')" \
    | tee -a "$OUT/gpu.txt"

# 1. every engine path trains on the GPU to what it trains on the CPU, the compiled while_loop first
#    (exit 1 on a mismatch)
timeout 90 "$PYTHON" benchmarks/cuda_check.py --device "$DEVICE" 2>&1 | tee "$OUT/cuda_check.txt"

# 2. the full-size Lab-1 sweep on the GPU (goal <= 30 s), groups spread over 8 processes
timeout 90 "$PYTHON" benchmarks/sweep_lab1.py --device "$DEVICE" --full --rows 789444 --compile --jobs 8 \
    --parallel-only --json "$OUT/sweep_lab1_cuda.json" 2>&1 | tee "$OUT/sweep_lab1_cuda.txt"

# 3. throughput, Lightning on the GPU against machop on the GPU, in one process
timeout 75 "$PYTHON" benchmarks/train_throughput.py --device "$DEVICE" --batch-sizes 256 16 --ks 10 100 \
    --steps 200 --baseline-steps 60 --baseline-threads 1 2>&1 | tee "$OUT/train_throughput_cuda.txt"

# 4. the largest float ensemble: model-samples/s at K = 1,000 and 10,000 (goal >= 1e9/s)
timeout 45 "$PYTHON" benchmarks/train_throughput.py --device "$DEVICE" --batch-sizes 256 --ks 1000 10000 \
    --steps 50 --baseline-steps 20 --baseline-threads 1 2>&1 | tee "$OUT/largest_ensemble_cuda.txt"
