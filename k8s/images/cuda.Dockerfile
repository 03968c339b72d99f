# The CUDA image of Orleans.MoE: the same program as cpu.Dockerfile, with the native library built
# against a CUDA build of libtorch (which bundles the CUDA runtime, cuBLAS, cuDNN and NCCL; the driver
# comes from the node through the NVIDIA container toolkit). Build from the repository root on a
# machine with network access (the libtorch archive is about 2.5 GB):
#   docker build -f k8s/images/cuda.Dockerfile -t REGISTRY/orleans-moe-cuda:TAG .
# Not built or run by this repository's CI (no GPU, no access to the archive): see README,
# "Deploying on Kubernetes". LIBTORCH_URL picks another libtorch/CUDA pair (match the nodes' driver).
ARG CUDA_VERSION=12.4.1
ARG LIBTORCH_URL=https://download.pytorch.org/libtorch/cu124/libtorch-cxx11-abi-shared-with-deps-2.5.1%2Bcu124.zip

# 1. The native library against the CUDA libtorch: CMake's Torch package needs the CUDA toolkit (nvcc).
FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu22.04 AS native
ARG LIBTORCH_URL
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends cmake g++ make curl unzip ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN curl -fsSL -o /tmp/libtorch.zip "${LIBTORCH_URL}" && unzip -q /tmp/libtorch.zip -d /opt && rm /tmp/libtorch.zip
WORKDIR /src
COPY native/ native/
# With a CUDA libtorch, native/CMakeLists.txt also compiles the NCCL process group in.
RUN cmake -S native -B build/native -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=/opt/libtorch > /dev/null \
 && cmake --build build/native -j"$(nproc)"

# 2. The .NET program, as in cpu.Dockerfile.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS dotnet
WORKDIR /src
COPY . .
RUN dotnet publish src/Client/Orleans.MoE.Client.csproj -c Release -o /app -nologo \
 && rm -f /app/*.pdb

FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime

# 3. What runs: Debian 12 slim with the CUDA libtorch in /opt/libtorch (the native library's RPATH) and the corpus packages.
FROM debian:12-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libicu72 libssl3 libgomp1 libopenblas0-pthread \
      bible-kjv-text bible-kjv fortunes fortunes-min fortunes-de fortunes-es fortunes-it fortunes-ru \
      linux-libc-dev libpython3.11-stdlib golang-1.19-src gnu-standards \
 && rm -rf /var/lib/apt/lists/*
COPY --from=native /opt/libtorch/lib /opt/libtorch/lib
COPY --from=runtime /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
COPY --from=dotnet /app /app
COPY --from=native /src/build/native/libmoe_native.so /app/libmoe_native.so
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/moe moe \
 && mkdir -p /artifacts && chown moe:moe /artifacts
ENV PATH=/app:$PATH \
    LD_LIBRARY_PATH=/opt/libtorch/lib \
    NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_ROOT=/usr/share/dotnet \
    MoE__Artifacts__Root=/artifacts
USER 10001
WORKDIR /home/moe
ENTRYPOINT ["/app/moe"]
CMD ["--help"]
