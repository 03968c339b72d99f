#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh needs on a GPU machine that has no .NET SDK and no network:
#   build/gpu-check/moe.tar.xz  the `moe` CLI as a self-contained publish for linux-x64 (the .NET
#                               runtime included, no trimming: Orleans and the configuration layer
#                               use reflection), without libmoe_native.so, which gpu-check.sh builds
#                               there against the machine's own libtorch
#   build/gpu-check/corpus/     a small prepared corpus (the built-in domains, 64 KiB each, a
#                               2,048-token BPE) for the training comparison
# Everything under build/gpu-check must stay under 64 MiB (what travels to the GPU machine); the
# script fails if it does not. Run from anywhere: `scripts/package-gpu-check.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=build/gpu-check
LIMIT_MIB=64
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rm -rf "$OUT"
mkdir -p "$OUT"
echo "publishing moe (self-contained, linux-x64)..."
dotnet publish src/Client -c Release -r linux-x64 --self-contained true -p:PublishTrimmed=false \
  -p:DebugType=none -p:GenerateDocumentationFile=false -o "$OUT/moe" -nologo -v quiet
rm -f "$OUT/moe/libmoe_native.so"   # built on the GPU machine against its libtorch
published_mib=$(du -sm "$OUT/moe" | cut -f1)
tar -C "$OUT" -cf - moe | xz -T2 -6 > "$OUT/moe.tar.xz"
rm -rf "$OUT/moe"

echo "preparing a small corpus..."
MOE_NATIVE_LIBRARY="${MOE_NATIVE_LIBRARY:-$PWD/build/native/libmoe_native.so}" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 \
  bash -c "mkdir -p $OUT/unpacked && tar -C $OUT/unpacked -xJf $OUT/moe.tar.xz && $OUT/unpacked/moe/moe prepare --out $OUT/corpus --vocab 2048 --max-bytes-per-domain 65536 > $OUT/prepare.log"
rm -rf "$OUT/unpacked"

total_mib=$(du -sm "$OUT" | cut -f1)
echo "published folder: ${published_mib} MiB; $OUT in all (compressed CLI + corpus): ${total_mib} MiB (limit ${LIMIT_MIB} MiB)"
if (( total_mib >= LIMIT_MIB )); then
  echo "error: $OUT is ${total_mib} MiB, over the ${LIMIT_MIB} MiB that can travel" >&2
  exit 1
fi
