SHELL := /bin/bash
# Firmo's entry points. `make run` and `make test` are the two commands a newcomer needs.
.PHONY: run test unit deps build asan fuzz bench format clean

PRESET ?= release
BUILD := build/$(PRESET)
LISTEN ?= 127.0.0.1:8080
DATA_DIR ?= ./data
JOBS ?= 2

deps:
	@scripts/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@mkdir -p $(DATA_DIR)
	@exec $(BUILD)/firmo serve --listen $(LISTEN) --data-dir $(DATA_DIR)

FUZZ_SECONDS ?= 40

# Every test: the unit and end-to-end suites, then bounded libFuzzer runs; the last line is
# the plain count of the suites' tests.
test: unit fuzz
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

bench: build
	@bench/api_bench.sh --build-dir $(BUILD)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
