#!/usr/bin/env bash
# The GPU check, one prepared script for one 10-minute call on a GPU machine (no .NET SDK, no
# network), run in the repository root with build/gpu-check from scripts/package-gpu-check.sh:
#
#   1. builds native/ against the machine's Python torch (TorchConfig.cmake under
#      torch.utils.cmake_prefix_path; nccl.h from the nvidia-nccl wheel), into build/native-gpu
#   2. `moe selftest --device cuda`: the binding on the GPU against the CPU, finite differences,
#      the tiny MoE and Multi-Head LatentMoE models, AdamW, checkpoints, an NCCL group, bf16 autocast
#   3. a few training steps of experiments/tiny-moe and tiny-mh-latentmoe on the GPU and on the CPU
#      from the same seed and data: the step losses must agree (tolerances below)
#   4. the training benchmark: tokens/s of `moe train` against PyTorch eager of the same model on
#      the same device (bench/python/torch_train_throughput.py), float32 and bf16 autocast, the
#      ratio, and MFU against the H200's dense bf16 peak (989 TFLOP/s)
#
# `scripts/gpu-check.sh --device cpu` is the dry run: the same stages on the CPU with the native
# library of `make native` and Debian's python3-torch, fewer steps; it proves the script itself.
# Every stage has its own timeout, and stages not started by DEADLINE_S (default 500 s) are
# reported as not run, so the whole fits one call with time to spare. Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

DEVICE=cuda
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) DEVICE="$2"; shift 2 ;;
    --device=*) DEVICE="${1#--device=}"; shift ;;
    *) echo "usage: scripts/gpu-check.sh [--device cuda|cuda:N|cpu]" >&2; exit 2 ;;
  esac
done
DRY_RUN=0; [[ "$DEVICE" == cpu ]] && DRY_RUN=1

PACKAGE=build/gpu-check
WORK=$PACKAGE/run
DEADLINE_S=${DEADLINE_S:-500}
# Loss agreement between the device and the CPU from the same weights and batches: the first step's
# loss within FIRST_TOLERANCE relative (float32 sums in another order), every step within
# STEP_TOLERANCE absolute (routing decisions near a tie may flip and move later losses a little).
FIRST_TOLERANCE=1e-4
STEP_TOLERANCE=2e-2
H200_BF16_PEAK=989e12
if (( DRY_RUN )); then TRAIN_STEPS=4; BENCH_STEPS=4; BENCH_WARMUP=1; else TRAIN_STEPS=8; BENCH_STEPS=30; BENCH_WARMUP=5; fi
THREADS=$(nproc)
# The Python with torch: the GPU machine's python3; for the dry run Debian's python3-torch (the
# libtorch the CPU build binds), as make bench uses. PYTHON overrides both.
if (( DRY_RUN )); then PYTHON=${PYTHON:-/usr/bin/python3}; else PYTHON=${PYTHON:-python3}; fi
START=$SECONDS
passed=0; failed=0; not_run=0
SUMMARY=()

rm -rf "$WORK"
mkdir -p "$WORK"

record() {   # record NAME STATUS(0 = pass) DETAIL
  if [[ "$2" == 0 ]]; then passed=$((passed + 1)); SUMMARY+=("PASS $1: $3"); else failed=$((failed + 1)); SUMMARY+=("FAIL $1: $3"); fi
  echo "== ${SUMMARY[-1]} ($((SECONDS - START)) s elapsed)"
}

time_left() {   # time_left NAME: false (and recorded as not run) once the deadline has passed
  if (( SECONDS - START > DEADLINE_S )); then
    not_run=$((not_run + 1)); SUMMARY+=("NOT RUN $1: past the ${DEADLINE_S} s deadline"); echo "== ${SUMMARY[-1]}"; return 1
  fi
}

echo "== gpu-check on $DEVICE ($(date -u +%FT%TZ)), $THREADS cores"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

# ---- 0. the published CLI
if [[ ! -f $PACKAGE/moe.tar.xz ]]; then echo "error: $PACKAGE/moe.tar.xz is missing: run scripts/package-gpu-check.sh first" >&2; exit 2; fi
tar -C "$WORK" -xJf $PACKAGE/moe.tar.xz
MOE=$WORK/moe/moe
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

# ---- 1. the native library
if (( DRY_RUN )); then
  NATIVE=build/native/libmoe_native.so
  [[ -f $NATIVE ]] && record "native library" 0 "the CPU build of make native ($NATIVE)" || record "native library" 1 "$NATIVE missing: run make native"
else
  PREFIX=$($PYTHON -c "import torch; print(torch.utils.cmake_prefix_path)")
  NCCL_INCLUDE=$($PYTHON -c "import importlib.util, os; s = importlib.util.find_spec('nvidia.nccl'); print(next(p for p in [os.path.join(d, 'include') for d in s.submodule_search_locations] if os.path.exists(os.path.join(p, 'nccl.h'))))" 2>/dev/null || true)
  NATIVE=build/native-gpu/libmoe_native.so
  echo "torch cmake prefix: $PREFIX; nccl.h in: ${NCCL_INCLUDE:-(not found)}"
  rm -rf build/native-gpu
  timeout 330 bash -c "cmake -S native -B build/native-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH='$PREFIX' \
      ${NCCL_INCLUDE:+-DMOE_NCCL_INCLUDE_DIR='$NCCL_INCLUDE'} $(command -v nvcc > /dev/null && echo "-DCMAKE_CUDA_COMPILER=$(command -v nvcc)") \
      && cmake --build build/native-gpu -j$THREADS" > "$WORK/native-build.log" 2>&1
  status=$?
  tail -n 5 "$WORK/native-build.log"
  record "native library against $($PYTHON -c 'import torch; print(torch.__version__)')" $status "build/native-gpu (log: $WORK/native-build.log)"
  (( status == 0 )) || { echo "cannot continue without the native library"; printf '%s\n' "${SUMMARY[@]}"; echo "$passed passed, $failed failed"; exit 1; }
fi
export MOE_NATIVE_LIBRARY=$PWD/$NATIVE

# ---- 2. the binding's checks on the device
if time_left selftest; then
  timeout 180 "$MOE" selftest --device "$DEVICE" --models experiments 2>&1 | tee "$WORK/selftest.log"
  status=${PIPESTATUS[0]}
  record "moe selftest --device $DEVICE" "$status" "$(tail -n 1 "$WORK/selftest.log")"
fi

# ---- 3. training steps on the device against the CPU
cat > "$WORK/check.training.json" <<JSON
{ "batch_size": 16, "context_length": 128, "steps": $TRAIN_STEPS, "schedule": { "kind": "constant" },
  "optimizer": { "lr": 3e-3 }, "seed": 1, "threads": $THREADS }
JSON
compare_losses() {   # compare_losses CPU_RUN DEVICE_RUN -> prints the comparison, exit status 0 when within tolerance
  python3 - "$1/metrics.jsonl" "$2/metrics.jsonl" "$FIRST_TOLERANCE" "$STEP_TOLERANCE" <<'PY'
import json, sys
def losses(path):
    return [r["loss"] for r in map(json.loads, open(path)) if r.get("event") == "train"]
cpu, dev = losses(sys.argv[1]), losses(sys.argv[2])
first, step = float(sys.argv[3]), float(sys.argv[4])
worst = max(abs(a - b) for a, b in zip(cpu, dev)) if cpu and dev else float("inf")
first_rel = abs(cpu[0] - dev[0]) / abs(cpu[0]) if cpu and dev else float("inf")
ok = len(cpu) == len(dev) > 0 and first_rel <= first and worst <= step
print(f"{len(dev)} steps; first loss {dev[0]:.6f} (CPU {cpu[0]:.6f}, relative {first_rel:.1e}); largest step difference {worst:.1e}; last {dev[-1]:.4f} (CPU {cpu[-1]:.4f})")
sys.exit(0 if ok else 1)
PY
}
for model in tiny-moe tiny-mh-latentmoe; do
  time_left "training $model" || continue
  ok=0
  for side in reference device; do
    where=$([[ $side == reference ]] && echo cpu || echo "$DEVICE")
    timeout 150 "$MOE" train --model experiments/$model.model.json --training "$WORK/check.training.json" \
      --data $PACKAGE/corpus --run-dir "$WORK/train-$model-$side" --device "$where" > "$WORK/train-$model-$side.log" 2>&1 || ok=1
  done
  if (( ok == 0 )); then
    detail=$(compare_losses "$WORK/train-$model-reference" "$WORK/train-$model-device"); status=$?
  else
    status=1; detail="a run failed: $(tail -n 2 "$WORK"/train-$model-*.log | tr '\n' ' ')"
  fi
  record "training $model on $DEVICE against the CPU" $status "$detail"
done

# ---- 4. the training benchmark against PyTorch eager on the same device
cat > "$WORK/bench.training.json" <<JSON
{ "batch_size": 16, "context_length": 128, "steps": $((BENCH_STEPS + BENCH_WARMUP)), "schedule": { "kind": "constant" },
  "optimizer": { "lr": 5e-4 }, "seed": 1, "threads": $THREADS, "checkpoint": { "every": 1, "keep": 1 } }
JSON
BENCH_TABLE=("model | precision | moe tokens/s | PyTorch eager tokens/s | ratio | MFU moe | MFU PyTorch")
for model in tiny-moe tiny-mh-latentmoe; do
  for precision in float32 bf16_autocast; do
    time_left "benchmark $model $precision" || continue
    run="$WORK/bench-$model-$precision"
    python3 -c "import json, sys; c = json.load(open(sys.argv[1])); c['precision'] = sys.argv[2]; json.dump(c, open(sys.argv[3], 'w'))" \
      "$WORK/bench.training.json" "$precision" "$run.training.json"
    timeout 120 "$MOE" train --model experiments/$model.model.json --training "$run.training.json" --data $PACKAGE/corpus \
      --run-dir "$run" --device "$DEVICE" > "$run.log" 2>&1
    ours=$?
    manifest=$(ls "$run"/checkpoints/*/manifest.json 2>/dev/null | head -n 1)
    theirs=1
    if (( ours == 0 )) && [[ -n $manifest ]]; then
      timeout 120 $PYTHON bench/python/torch_train_throughput.py "$manifest" --device "$DEVICE" --batch 16 --context 128 \
        --steps $BENCH_STEPS --warmup $BENCH_WARMUP $([[ $precision == bf16_autocast ]] && echo --bf16-autocast) > "$run.pytorch.json" 2> "$run.pytorch.log"
      theirs=$?
    fi
    if (( ours == 0 && theirs == 0 )); then
      row=$(python3 - "$run/metrics.jsonl" "$run.pytorch.json" "$run.log" "$BENCH_WARMUP" "$H200_BF16_PEAK" <<'PY'
import json, re, statistics, sys
steps = [r for r in map(json.loads, open(sys.argv[1])) if r.get("event") == "train"][int(sys.argv[4]):]
ours = statistics.median(r["tokens_per_second"] for r in steps)
theirs = json.load(open(sys.argv[2]))["tokens_per_second"]
flops = float(re.search(r"training FLOPs per token: ([0-9.]+) M", open(sys.argv[3]).read()).group(1)) * 1e6
peak = float(sys.argv[5])
print(f"{ours:,.0f} | {theirs:,.0f} | {ours / theirs:.2f} | {100 * ours * flops / peak:.3g}% | {100 * theirs * flops / peak:.3g}%")
PY
)
      status=$?
    else
      status=1; row="moe train exit $ours, PyTorch exit $theirs: $(tail -n 2 "$run.log" "$run.pytorch.log" 2>/dev/null | tr '\n' ' ')"
    fi
    BENCH_TABLE+=("$model | $precision | $row")
    record "benchmark $model $precision" $status "$row"
  done
done

echo
echo "== training benchmark on $DEVICE (batch 16 x 128 tokens, median of $BENCH_STEPS steps after $BENCH_WARMUP; MFU against the H200 dense bf16 peak of 989 TFLOP/s)"
printf '%s\n' "${BENCH_TABLE[@]}"
echo
echo "== summary ($((SECONDS - START)) s)"
printf '%s\n' "${SUMMARY[@]}"
(( not_run > 0 )) && echo "$not_run stages not run (deadline)"
echo "$passed passed, $failed failed"
(( failed == 0 && not_run == 0 ))
