-- Shared wrk `done` hook: one machine-readable line that bench/api_bench.sh parses.
-- wrk calls done() once, after all threads finished, with latency in microseconds.
function api_bench_report(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "API_BENCH_RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "errors_status=%d errors_connect=%d errors_read=%d errors_write=%d errors_timeout=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.status, e.connect, e.read, e.write, e.timeout))
end
