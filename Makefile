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
  libsentencepiece-dev libutf8proc-dev libgtest-dev libgmock-dev libbenchmark-dev \
  gnuplot-nox chromium \
  slurm-wlm munge

.PHONY: all setup configure build test bench clean help ci-regression ci-baseline replicate-ptv2 replicate-smop

all: build

help:
	@echo "make setup    install the Debian packages ptbench needs (as root), or print the apt-get line"
	@echo "make build    configure and build into $(BUILD_DIR)/"
	@echo "make test     setup + build + the whole test suite (ctest)"
	@echo "make bench    micro-benchmarks of the hot paths"
	@echo "make pretrain-mini  pretrain bert-mini and t5-mini into models/ (~45 min each on 2 cores)"
	@echo "make replicate-ptv2   P-Tuning v2 replication (PROFILE=auto|paper|mini|smoke; see ci/replicate.sh)"
	@echo "make replicate-smop   SMoP replication (same profiles)"
	@echo "make ci-regression  the CI score regression: experiments/ci.json, checked against results/baselines/ci.json"
	@echo "make ci-baseline    rewrite results/baselines/ci.json from a fresh run of experiments/ci.json"
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

# Pretrains the small backbones the experiments here use (experiments/pretrain/*.json) into
# $(MODELS_DIR)/; a model already there is skipped, an interrupted one resumes from its checkpoint.
MODELS_DIR ?= models
PRETRAIN_MINI := bert-mini t5-mini
.PHONY: pretrain-mini
pretrain-mini: setup configure
	cmake --build $(BUILD_DIR) --parallel $(JOBS) --target ptbench
	@for recipe in $(PRETRAIN_MINI); do \
	  if [ -f $(MODELS_DIR)/$$recipe/model.safetensors ]; then \
	    echo "pretrain-mini: $(MODELS_DIR)/$$recipe is there, skipping"; \
	  else \
	    $(BUILD_DIR)/ptbench pretrain --recipe experiments/pretrain/$$recipe.json --out $(MODELS_DIR)/$$recipe --resume || exit 1; \
	  fi; \
	done

# The two replications (ci/replicate.sh says what each profile runs); reports in reports/out/<name>/.
PROFILE ?= auto
replicate-ptv2 replicate-smop: build
	PROFILE=$(PROFILE) BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) ci/replicate.sh $(subst replicate-,,$@)

# CI score regression (experiments/ci.json): every method on every task family and both backbone
# kinds, one thread per run so the scores are bit-identical wherever it runs; always from scratch,
# so records left by an older build are never trusted.
CI_RESULTS ?= results/ci
CI_BASELINE ?= results/baselines/ci.json
ci-regression: build
	rm -rf $(CI_RESULTS)
	$(BUILD_DIR)/ptbench sweep experiments/ci.json --out $(CI_RESULTS) --executor local --jobs 2 --threads 2 --progress plain
	$(BUILD_DIR)/ptbench report $(CI_RESULTS) --format md --check $(CI_BASELINE)

ci-baseline: build
	rm -rf $(CI_RESULTS)
	$(BUILD_DIR)/ptbench sweep experiments/ci.json --out $(CI_RESULTS) --executor local --jobs 2 --threads 2 --progress plain
	$(BUILD_DIR)/ptbench report $(CI_RESULTS) --format md --write-baseline $(CI_BASELINE) --tolerance 2

clean:
	rm -rf $(BUILD_DIR)
