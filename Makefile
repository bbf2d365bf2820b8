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

FUZZ_SECONDS ?= 60

# Every test: the unit and end-to-end suites, then a bounded libFuzzer run over the PDF engine.
test: unit fuzz

unit: build
	@ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure --timeout 900

# libFuzzer needs clang: a separate, small build of the harness and the modules it uses.
fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build build/fuzz -j $(JOBS) --target pdf_inspect_fuzz
	@mkdir -p build/fuzz/corpus && cp -n tests/fuzz/corpus/pdf/* build/fuzz/corpus/ 2>/dev/null || true
	@build/fuzz/tests/fuzz/pdf_inspect_fuzz -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
		-timeout=20 -print_final_stats=1 -dict=tests/fuzz/pdf.dict build/fuzz/corpus \
		2>build/fuzz/fuzz.log || { tail -50 build/fuzz/fuzz.log; exit 1; }
	@grep -E "^stat::number_of_executed_units|^Done" build/fuzz/fuzz.log | tr '\n' ' '; echo
	@echo "fuzz: pdf_inspect_fuzz ran $(FUZZ_SECONDS) s without a crash"

asan:
	@$(MAKE) --no-print-directory unit PRESET=asan

bench: build
	@bench/api_bench.sh --build-dir $(BUILD)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
