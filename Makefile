# Orleans.MoE: the two commands a new user needs are `make demo` and `make test`.
# Both install missing Debian packages (as root; otherwise they print the apt-get line and stop),
# build the native library when its sources changed, and build the solution.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Packages the build and the tests need. python3-torch is for `make bench` (PyTorch side by side)
# and `make fixtures` only, python3-sklearn for the k-means benchmark (scikit-learn side by side),
# and iproute2 for the parallel benchmark's bandwidth-limited links (ip netns, tc). chromium renders
# the silo's web view in its test (headless).
# The built-in multi-domain corpus (src/Data/Corpora/BuiltInDomains.cs): the default data of the demo.
CORPUS_APT_PACKAGES := bible-kjv-text bible-kjv fortunes fortunes-min fortunes-de fortunes-es fortunes-it \
  fortunes-ru linux-libc-dev libpython3.11-stdlib golang-1.19-src gnu-standards
APT_PACKAGES := cmake g++ make libtorch-dev libgloo-dev libopenblas0-pthread redis-server chromium $(CORPUS_APT_PACKAGES)
BENCH_APT_PACKAGES := python3-torch python3-sklearn iproute2

CONFIGURATION ?= Release
NATIVE_BUILD := build/native
NATIVE_LIB := $(NATIVE_BUILD)/libmoe_native.so
NATIVE_SOURCES := native/CMakeLists.txt $(wildcard native/include/*.h native/src/*.h native/src/*.cpp)
DOTNET := DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 dotnet

.PHONY: help deps bench-deps k8s-deps native build test demo cluster-demo bench fixtures clean

help:
	@echo "make demo    run the main job on the embedded default: MoE-DisCo and its baseline (runs/disco-demo)"
	@echo "make test    run every test"
	@echo "make cluster-demo  the demo on a real cluster on this machine: redis-server + 3 silo processes (runs/local-cluster)"
	@echo "make bench   run the benchmarks (prints ratios against references measured in the same run)"
	@echo "make native  build the native library only"
	@echo "make clean   remove build outputs"

deps:
	@scripts/ensure-packages.sh $(APT_PACKAGES)

bench-deps:
	@scripts/ensure-packages.sh $(APT_PACKAGES) $(BENCH_APT_PACKAGES)

# The Kubernetes manifests' checks (tests/Deploy.Tests): kubectl renders the overlays (Debian's
# kubernetes-client unless a kubectl is installed), Node.js checks every object against the Kubernetes
# schemas (k8s/validate: kubernetes-models from npm, which ships them, so no network at test time).
K8S_APT_PACKAGES := $(if $(shell command -v kubectl),,kubernetes-client) $(if $(shell command -v node),,nodejs) $(if $(shell command -v npm),,npm)
K8S_VALIDATOR := k8s/validate/node_modules/.package-lock.json

$(K8S_VALIDATOR): k8s/validate/package.json k8s/validate/package-lock.json
	npm ci --prefix k8s/validate --no-audit --no-fund --loglevel=error
	@touch $@

k8s-deps:
	@scripts/ensure-packages.sh $(K8S_APT_PACKAGES)
	@$(MAKE) --no-print-directory $(K8S_VALIDATOR)

# Rebuilt only when a native source changes (make compares timestamps).
$(NATIVE_LIB): $(NATIVE_SOURCES)
	cmake -S native -B $(NATIVE_BUILD) -DCMAKE_BUILD_TYPE=Release > /dev/null
	cmake --build $(NATIVE_BUILD) -j$$(nproc)
	@touch $@

native: deps $(NATIVE_LIB)

build: native
	$(DOTNET) build Orleans.MoE.sln -c $(CONFIGURATION) -nologo -v quiet

test: build k8s-deps
	$(DOTNET) test Orleans.MoE.sln -c $(CONFIGURATION) --no-build -nologo

demo: build
	$(DOTNET) run --project src/Client -c $(CONFIGURATION) --no-build -- demo --dir runs/disco-demo

cluster-demo: build
	MOE=src/Client/bin/$(CONFIGURATION)/net10.0/moe scripts/local-cluster.sh experiments/disco-demo.json

bench: bench-deps $(NATIVE_LIB)
	$(DOTNET) build bench/Orleans.MoE.Bench -c Release -nologo -v quiet
	$(DOTNET) build bench/Orleans.MoE.Bench.Data -c Release -nologo -v quiet
	$(DOTNET) build bench/Orleans.MoE.Bench.Training -c Release -nologo -v quiet
	$(DOTNET) build bench/Orleans.MoE.Bench.Parallel -c Release -nologo -v quiet
	$(DOTNET) build bench/Orleans.MoE.Bench.Cluster -c Release -nologo -v quiet
	$(DOTNET) run --project bench/Orleans.MoE.Bench -c Release --no-build
	$(DOTNET) run --project bench/Orleans.MoE.Bench.Data -c Release --no-build
	$(DOTNET) run --project bench/Orleans.MoE.Bench.Training -c Release --no-build
	$(DOTNET) run --project bench/Orleans.MoE.Bench.Parallel -c Release --no-build
	$(DOTNET) run --project bench/Orleans.MoE.Bench.Cluster -c Release --no-build

# Regenerates the committed reference fixtures with Debian's PyTorch and scikit-learn (not needed to run the tests).
fixtures: bench-deps
	/usr/bin/python3 tests/fixtures/make_torch_fixtures.py
	/usr/bin/python3 tests/fixtures/make_model_fixtures.py
	/usr/bin/python3 tests/fixtures/make_kmeans_fixtures.py

clean:
	rm -rf build
	find . -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +
