#!/usr/bin/env bash
# The device-machine comparison of kernel choices that only a GPU can settle: the
# elementwise, softmax, matmul and training-step cases (Theorbo only) under the defaults
# and with one undecided tuning option turned on at a time (README, "Kernel tuning"), then the codegen and
# talk tests with subgroup row reductions on (the path the CPU device cannot reach) and
# vec4 matmul loads.
# Logs go to $OUT; a short table of medians is printed last. Run through
# ../shared/gpu/on-device.sh.
set -uo pipefail
out=${OUT:-/tmp/out}
# AB_DEVICE=cpu-webgpu AB_ONLY=softmax tries the script here, without a GPU.
device=${AB_DEVICE:-gpu}
only=${AB_ONLY:-elementwise,softmax,matmul,train-step}
mkdir -p "$out"
run() { # label, env assignments…
  local label=$1; shift
  env "$@" node --import tsx benchmarks/run.ts --device "$device" --only "$only" --peers none --repeats 3 \
    > "$out/ab-$label.txt" 2>&1
}
run default
run row-subgroups THEORBO_ROW_SUBGROUPS=1
run matmul-vec4 THEORBO_MATMUL_VEC4=1
THEORBO_DEVICE=$device THEORBO_ROW_SUBGROUPS=1 THEORBO_MATMUL_VEC4=1 node scripts/run-tests.mjs --no-check "${AB_TESTS:-codegen|talk}" > "$out/tests-row-subgroups.txt" 2>&1
tail -2 "$out/tests-row-subgroups.txt"
for file in "$out"/ab-*.txt; do
  echo "== $(basename "$file" .txt)"
  awk '/^[a-z-]+: /{c=$1; for (i = 2; i <= NF; i++) if ($i ~ /\[[0-9]/) { c = c " " $i; break }} /^  theorbo  /{print "  " c "  " $3 " " $4}' "$file"
done
