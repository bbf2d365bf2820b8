# Firmo's entry points. `make run` and `make test` are the two commands a newcomer needs.
.PHONY: run test deps build asan fuzz bench format clean

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

test: build
	@ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure --timeout 900

asan:
	@$(MAKE) --no-print-directory test PRESET=asan

bench: build
	@bench/api_bench.sh --build-dir $(BUILD)

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
