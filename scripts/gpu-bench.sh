#!/usr/bin/env bash
# The device-machine benchmark run: every case with its peers on the GPU, written to
# $OUT, then the GPU-only tests. Run through ../shared/gpu/on-device.sh.
set -uo pipefail
out=${OUT:-/tmp/out}
mkdir -p "$out"
node --import tsx benchmarks/run.ts --device gpu --peers tfjs,jax,torch --json "$out/bench-gpu.json" 2>&1 | grep -v '^Warning' | tee "$out/bench-gpu.txt" | grep -E "^[a-z-]+:|theorbo|tfjs|jax|torch/cuda|copy|workloads" | head -120
THEORBO_DEVICE=gpu THEORBO_GPU_TESTS=1 node scripts/run-tests.mjs --no-check 'gpu.test' 2>&1 | tee "$out/gpu-tests.txt" | tail -4
node --import tsx benchmarks/profile-step.ts --device gpu 2>&1 | grep -v '^Warning' | tee "$out/profile-step.txt" | grep -E "steps:|gpu clock" | head -40
node --import tsx benchmarks/elementwise-probe.ts --device gpu --side 8192 2>&1 | grep -v '^Warning' | tee "$out/elementwise-probe.txt" | grep "µs"
node --import tsx benchmarks/host-overhead.ts --device gpu 2>&1 | grep -v '^Warning' | tee "$out/host-overhead.txt" | grep "steps:"
node --import tsx benchmarks/host-overhead.ts --device gpu --no-submit 2>&1 | grep -v '^Warning' | tee "$out/host-overhead-no-submit.txt" | grep "steps:"
