#!/usr/bin/env bash
# The GPU checks and figures that issues 3 and 6 still need, as one command for a device machine
# (the device tool runs it in the repository root; nothing is installed there: the image's python3
# has torch, lightning, rich, tensorboard, pyarrow, scipy, matplotlib, and machop runs from the tree).
#
#   bash benchmarks/gpu_session.sh        # ~8 min; each stage has its own time limit
#
# Files land in $OUT (the device tool brings them back): gpu.txt, cuda_check.txt,
# train_throughput_cuda.txt (its last section goes into benchmarks/RESULTS.md), sweep_lab1_cuda.txt/.json.
# The stages do not depend on each other; a stage that runs out of time leaves the others' results.
set -uo pipefail
export PYTHONPATH=. PYTHONUNBUFFERED=1
OUT=${OUT:-gpu-results}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$OUT/gpu.txt"

# 1. every engine path trains on the GPU to what it trains on the CPU (exit 1 on a mismatch)
timeout 150 python3 benchmarks/cuda_check.py 2>&1 | tee "$OUT/cuda_check.txt"

# 2. issue 3: throughput, Lightning on the GPU against machop on the GPU, in one process
timeout 240 python3 benchmarks/train_throughput.py --device cuda --batch-sizes 256 16 --ks 10 100 \
    --steps 300 --baseline-steps 100 --baseline-threads 1 2>&1 | tee "$OUT/train_throughput_cuda.txt"

# 3. issue 6: the full-size Lab-1 sweep on the GPU (target <= 30 s), groups spread over 8 processes
timeout 240 python3 benchmarks/sweep_lab1.py --device cuda --full --rows 789444 --compile --jobs 8 \
    --parallel-only --json "$OUT/sweep_lab1_cuda.json" 2>&1 | tee "$OUT/sweep_lab1_cuda.txt"
