#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, `fuzz` preset) and runs each for a bounded time on
# its seed corpus (tests/fuzz/corpus/<name>, copied into build/fuzz/corpus so the seeds in git
# stay small). Fails on the first crash, leak, timeout or trap, showing the fuzzer's report.
# Usage: scripts/run-fuzzers.sh [SECONDS_PER_HARNESS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-40}"
jobs="${JOBS:-2}"

harnesses=(pdf_inspect_fuzz api_input_fuzz cms_verify_fuzz http_request_fuzz jwt_parse_fuzz)
declare -A corpus=([pdf_inspect_fuzz]=pdf [api_input_fuzz]=api [cms_verify_fuzz]=cms
                   [http_request_fuzz]=http [jwt_parse_fuzz]=jwt)

cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j "$jobs" --target "${harnesses[@]}"  # only what they link

for harness in "${harnesses[@]}"; do
  bin="build/fuzz/tests/fuzz/$harness"
  [ -x "$bin" ] || continue
  work="build/fuzz/corpus/${corpus[$harness]}"
  mkdir -p "$work"
  seeds="tests/fuzz/corpus/${corpus[$harness]}"
  [ -d "$seeds" ] && cp -n "$seeds"/* "$work"/ 2>/dev/null || true
  dict=()
  [ "$harness" = pdf_inspect_fuzz ] && dict=(-dict=tests/fuzz/pdf.dict)
  log="build/fuzz/$harness.log"
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
       "${dict[@]}" "$work" 2>"$log"; then
    tail -60 "$log"
    echo "fuzz: $harness FAILED (reproducer above; log $log)"
    exit 1
  fi
  runs=$(grep -m1 '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  echo "fuzz: $harness ran ${seconds} s, ${runs} inputs, no crash"
done
