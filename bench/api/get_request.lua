-- GET /api/v1/signature-requests/{id}, cycling over the ids listed in a file.
-- Usage: wrk ... -s get_request.lua URL -- API_KEY IDS_FILE
-- The requests are formatted once in init(), so request() only hands back a prebuilt
-- string: wrk spends as little CPU as possible (it shares the machine with the server).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local reqs = {}
local i = 0

function init(args)
   local key, ids_file = args[1], args[2]
   for id in io.lines(ids_file) do
      if id ~= "" then
         reqs[#reqs + 1] = wrk.format("GET", "/api/v1/signature-requests/" .. id,
                                      { ["Host"] = wrk.host, ["X-Api-Key"] = key })
      end
   end
   if #reqs == 0 then error("no ids in " .. ids_file) end
   -- Threads start at different places in the list.
   i = math.random(#reqs) - 1
end

function request()
   i = i % #reqs + 1
   return reqs[i]
end

done = api_bench_report
