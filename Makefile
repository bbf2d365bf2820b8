SHELL := /bin/bash
# Firmo's entry points. `make run` and `make test` are the two commands a newcomer needs.
.PHONY: run test unit deps deps-run build asan fuzz bench lint format clean

PRESET ?= release
BUILD := build/$(PRESET)
LISTEN ?= 127.0.0.1:8080
DATA_DIR ?= ./data
# The name signers see for the issuer the first start creates (asks nothing; empty: the
# configuration's bootstrap.issuer_name, "Default issuer" unless set).
ISSUER_NAME ?=
# The login of the sender portal's first admin, created by the first start (empty:
# bootstrap.email, admin@localhost.localdomain unless set).
ADMIN_EMAIL ?=
JOBS ?= 2

# `make run` needs the binary and the assets it serves, nothing else: the packages to build and
# run it, and a configuration without tests and benchmarks. `make test` (through `build`) turns
# them on again in the same build folder; the objects are shared, nothing is compiled twice.
RUN_CONFIG := -DFIRMO_BUILD_TESTS=OFF -DFIRMO_BUILD_BENCH=OFF
FULL_CONFIG := -DFIRMO_BUILD_TESTS=ON -DFIRMO_BUILD_BENCH=$(if $(filter release,$(PRESET)),ON,OFF)

deps:
	@scripts/install-deps.sh

deps-run:
	@scripts/install-deps.sh run

build: deps
	@cmake --preset $(PRESET) $(FULL_CONFIG) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: deps-run
	@cmake --preset $(PRESET) $(RUN_CONFIG) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target firmo
	@mkdir -p $(DATA_DIR)
	@exec $(BUILD)/firmo serve --listen $(LISTEN) --data-dir $(DATA_DIR) \
	    $(if $(ISSUER_NAME),--issuer-name "$(ISSUER_NAME)") \
	    $(if $(ADMIN_EMAIL),--bootstrap-email "$(ADMIN_EMAIL)")

FUZZ_SECONDS ?= 40

# Every test: the unit and end-to-end suites, bounded libFuzzer runs, then clang-tidy on the
# C++ files this branch changed; the last line is the plain count of the suites' tests.
test: unit fuzz lint
	@sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\)/\2 \1/p' $(BUILD)/ctest.log | \
		awk '{print "tests: " $$1 - $$2 " passed, " $$2 " failed"}'

unit: build
	@ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure --timeout 900 2>&1 | tee $(BUILD)/ctest.log; \
		exit $${PIPESTATUS[0]}

# libFuzzer needs clang: a separate, small build of the harnesses and the modules they use.
fuzz: deps
	@scripts/run-fuzzers.sh $(FUZZ_SECONDS)

asan:
	@$(MAKE) --no-print-directory unit PRESET=asan

# clang-tidy (.clang-tidy) on the C++ files changed versus the merge base with main (or HEAD~1).
lint: build
	@scripts/clang-tidy-changed.py $(BUILD)

bench: build
	@bench/api_bench.sh --build-dir $(BUILD)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
