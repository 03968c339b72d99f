# The CPU image of Orleans.MoE: the `moe` program (silo, worker and client) on Debian 12, with the
# native library built against Debian's libtorch, and the Debian packages the built-in multi-domain
# corpus reads (the Makefile's CORPUS_APT_PACKAGES). Build from the repository root:
#   docker build -f k8s/images/cpu.Dockerfile -t REGISTRY/orleans-moe-cpu:TAG .

# 1. The native library (native/), against Debian 12's libtorch, as `make native` builds it.
FROM debian:12 AS native
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends cmake g++ make libtorch-dev libgloo-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY native/ native/
RUN cmake -S native -B build/native -DCMAKE_BUILD_TYPE=Release > /dev/null \
 && cmake --build build/native -j"$(nproc)"

# 2. The .NET program, published framework-dependent (the runtime comes from stage 3).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS dotnet
WORKDIR /src
COPY . .
RUN dotnet publish src/Client/Orleans.MoE.Client.csproj -c Release -o /app -nologo \
 && rm -f /app/*.pdb

# 3. The .NET runtime, taken from Microsoft's runtime image.
FROM mcr.microsoft.com/dotnet/runtime:10.0 AS runtime

# 4. What runs: Debian 12 slim, libtorch's and OpenBLAS's runtime libraries, the corpus packages.
FROM debian:12-slim
# Keep this list in step with the Makefile's APT_PACKAGES (runtime part) and CORPUS_APT_PACKAGES.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libicu72 libssl3 libtorch1.13 libgloo0 libopenblas0-pthread \
      bible-kjv-text bible-kjv fortunes fortunes-min fortunes-de fortunes-es fortunes-it fortunes-ru \
      linux-libc-dev libpython3.11-stdlib golang-1.19-src gnu-standards \
 && rm -rf /var/lib/apt/lists/*
COPY --from=runtime /usr/share/dotnet /usr/share/dotnet
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
COPY --from=dotnet /app /app
# Beside moe.dll, where the native library loader looks first.
COPY --from=native /src/build/native/libmoe_native.so /app/libmoe_native.so
RUN useradd --uid 10001 --user-group --create-home --home-dir /home/moe moe \
 && mkdir -p /artifacts && chown moe:moe /artifacts
ENV PATH=/app:$PATH \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_ROOT=/usr/share/dotnet \
    MoE__Artifacts__Root=/artifacts
USER 10001
WORKDIR /home/moe
# `moe silo` in the silo Deployments, `moe run FILE` in the client Job (the manifests give the arguments).
ENTRYPOINT ["/app/moe"]
CMD ["--help"]
