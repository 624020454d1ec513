#!/usr/bin/env bash
# The device-machine check: the codegen tests and the talk's compiled program on the GPU
# (THEORBO_DEVICE=gpu, so a missing GPU is an error), then whatever is passed as
# arguments. Writes logs under $OUT. Run through ../shared/gpu/on-device.sh.
set -uo pipefail
export THEORBO_DEVICE=gpu THEORBO_GPU_TESTS=1
out=${OUT:-/tmp/out}
mkdir -p "$out"
node scripts/run-tests.mjs --no-check "${THEORBO_TEST_FILTER:-.}" 2>&1 | tee "$out/tests.log" | grep -E "FAIL|passed|GPU|──|gpu:|cpu-webgpu" | head -60
for command in "$@"; do
  echo "== $command"
  bash -c "$command" 2>&1 | tee -a "$out/extra.log" | tail -40
done
