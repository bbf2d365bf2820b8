-- GET /healthz (no API key): the HTTP path alone, for comparison with a fixed 200 from nginx.
-- Usage: wrk ... -s healthz.lua URL
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

wrk.path = "/healthz"

done = api_bench_report
