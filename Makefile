# The user's entry points. `make test` alone works on a fresh Debian 12 machine: it installs
# what is missing (as root) or prints the exact apt-get line, configures, builds and tests.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
CTEST_FLAGS ?=

# Debian 12 packages the project needs. libopenblas0-pthread matters: without it Debian's
# LibTorch falls back to reference BLAS and matrix products run ~20x slower.
PACKAGES := g++ cmake make pkg-config ccache git \
  libtorch-dev libopenblas0-pthread nlohmann-json3-dev libcli11-dev \
  libboost-dev libboost-iostreams-dev libboost-filesystem-dev \
  libsentencepiece-dev libutf8proc-dev libgtest-dev libgmock-dev libbenchmark-dev

.PHONY: all setup configure build test bench clean help

all: build

help:
	@echo "make setup    install the Debian packages ptbench needs (as root), or print the apt-get line"
	@echo "make build    configure and build into $(BUILD_DIR)/"
	@echo "make test     setup + build + the whole test suite (ctest)"
	@echo "make bench    micro-benchmarks of the hot paths"
	@echo "make clean    remove $(BUILD_DIR)/"

setup:
	@PACKAGES="$(PACKAGES)" ci/setup.sh

$(BUILD_DIR)/CMakeCache.txt:
	@$(MAKE) --no-print-directory setup
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

configure: $(BUILD_DIR)/CMakeCache.txt

build: setup configure
	cmake --build $(BUILD_DIR) --parallel $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --parallel $(JOBS) $(CTEST_FLAGS)

bench: build
	$(BUILD_DIR)/bench/ptbench_microbench

clean:
	rm -rf $(BUILD_DIR)
